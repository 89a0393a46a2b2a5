/**
 * A planned plain `pod exec c true` from the checkout loads exactly the modules of the handoff (issue 16, exec7:
 * each module costs ~0.5–1 ms): cli.ts (a dispatcher with no static import), lib/cli/exec_plain_main.ts,
 * lib/container/exec_fast.ts, lib/ns/libc.ts and lib/errors.ts; neither the command table, the flag parser,
 * lib/cli/main.ts nor lib/log.ts. Seen with strace (the files Deno opens under the checkout); skipped, with a
 * printed reason, without strace or a C compiler (then exec uses perl and never hands over).
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { podCommand, REPO_ROOT } from "../helpers/pod.ts";

const hasStrace = await new Deno.Command("sh", { args: ["-c", "command -v strace"], stdout: "null" }).output()
  .then((o) => o.success, () => false);
const hasCc = await new Deno.Command("sh", { args: ["-c", "command -v cc"], stdout: "null" }).output()
  .then((o) => o.success, () => false);
const why = !hasStrace
  ? "no strace on this host (Debian package strace)"
  : !hasCc
  ? "no C compiler: no handoff"
  : "";
if (why) console.log(`exec modules: skipped, ${why}`);

/** The handoff's modules, relative to the checkout. */
const HANDOFF = [
  "cli.ts",
  "lib/cli/exec_plain_main.ts",
  "lib/container/exec_fast.ts",
  "lib/errors.ts",
  "lib/ns/libc.ts",
];

await testRootAndRootless("exec modules", (mode) =>
  busyboxSuite(mode, async ({ h, img }, t) => {
    const up = await h.pod(["run", "-d", "--name", "c", img.ref, "sh", "-c", "sleep 100000"]);
    assert.equal(up.code, 0, up.stderr);
    /** The checkout's .ts files `pod ARGS…` opens, and its result. */
    const opens = async (args: string[]) => {
      const c = await podCommand(args, { home: h.home, user: h.user?.name });
      const st = await Deno.makeTempFile({ prefix: "pod-exec-modules-" });
      try {
        const o = await new Deno.Command("strace", {
          args: ["-f", "-qq", "-e", "trace=openat", "-o", st, c.cmd, ...c.args],
          env: c.env,
          cwd: c.cwd,
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const files = new Set(
          [...Deno.readTextFileSync(st).matchAll(/openat\([^"]*"([^"]+\.ts)"/g)]
            .map((m) => m[1])
            .filter((p) => p.startsWith(`${REPO_ROOT}/`))
            .map((p) => p.slice(REPO_ROOT.length + 1)),
        );
        return { files: [...files].sort(), code: o.code, stdout: new TextDecoder().decode(o.stdout) };
      } finally {
        await Deno.remove(st);
      }
    };
    await t.step({
      name:
        "a planned plain exec (also after --root) loads the handoff's 5 modules; an exec with an option more",
      ignore: !!why,
      fn: async () => {
        assert.equal((await h.pod(["exec", "c", "true"])).code, 0); // makes the plan
        const plain = await opens(["exec", "c", "sh", "-c", "echo hi; exit 3"]);
        assert.equal(plain.code, 3);
        assert.equal(plain.stdout, "hi\n");
        assert.deepEqual(plain.files, HANDOFF);
        const rooted = await opens(["--root", h.home, "exec", "c", "true"]);
        assert.equal(rooted.code, 0);
        assert.deepEqual(rooted.files, HANDOFF);
        // an option of exec's: the whole command line (main.ts, the command table, the flag parser)
        const full = await opens(["exec", "-e", "A=1", "c", "true"]);
        assert.equal(full.code, 0);
        for (const f of ["lib/cli/main.ts", "lib/cli/registry.ts", "lib/cli/flags.ts"]) {
          assert.ok(full.files.includes(f), `${f} not loaded: ${full.files.join(" ")}`);
        }
      },
    });
    await h.pod(["rm", "-f", "-t", "0", "c"]);
  }));
