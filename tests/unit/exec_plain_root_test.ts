// The plain exec's entry (cli.ts → lib/cli/exec_plain_main.ts) finds the store without lib/store/paths.ts: its
// own copy of `storeRoot` must agree with that one for every way the store is named.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { plainStoreRoot } from "../../lib/cli/exec_plain_main.ts";
import { storeRoot } from "../../lib/store/paths.ts";

const KEYS = ["POD_HOME", "XDG_DATA_HOME", "HOME"] as const;

/** Runs `fn` with exactly these of {@link KEYS} set, restoring them after. */
function withEnv(env: Partial<Record<(typeof KEYS)[number], string>>, fn: () => void): void {
  const saved = KEYS.map((k) => [k, Deno.env.get(k)] as const);
  try {
    for (const k of KEYS) {
      const v = env[k];
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
    fn();
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
}

Deno.test("plainStoreRoot agrees with storeRoot: --root, POD_HOME, XDG_DATA_HOME, HOME, relative, slashes", () => {
  const envs = [
    { POD_HOME: "/s/pod", XDG_DATA_HOME: "/x", HOME: "/h" },
    { POD_HOME: "rel/store/", HOME: "/h" },
    { XDG_DATA_HOME: "/x/", HOME: "/h" },
    { XDG_DATA_HOME: "", HOME: "/h//" },
    { POD_HOME: "", XDG_DATA_HOME: "x", HOME: "/h" },
    { HOME: "/" },
    { POD_HOME: "/" },
  ];
  for (const env of envs) {
    for (const explicit of [undefined, "", "/r/", "r", "/"]) {
      withEnv(env, () => {
        assertEquals(
          plainStoreRoot(explicit),
          storeRoot(undefined, explicit),
          JSON.stringify({ env, explicit }),
        );
      });
    }
  }
});

Deno.test("plainStoreRoot: no store to find is an error, as with storeRoot", () => {
  withEnv({}, () => {
    let a = "", b = "";
    try {
      plainStoreRoot();
    } catch (e) {
      a = (e as Error).message;
    }
    try {
      storeRoot();
    } catch (e) {
      b = (e as Error).message;
    }
    assertEquals(a, b);
    assertEquals(a !== "", true);
  });
});
