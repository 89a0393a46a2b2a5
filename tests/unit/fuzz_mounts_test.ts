/**
 * Fuzzing `-v`/`--mount`/`--tmpfs` parsing (`lib/container/mount_options.ts`), seeded and bounded in time: random
 * and mutated specs give a mount request or a `PodError` with a message, never another exception; an accepted
 * request always has an absolute, clean destination (no `..`, no `//`), and a bind mount an absolute source.
 */
import assert from "node:assert/strict";
import { parseMount, parseTmpfs, parseVolume } from "../../lib/container/mount_options.ts";
import { PodError } from "../../lib/errors.ts";
import { seededRandom as rng } from "../helpers/fixtures.ts";

const SEED = Number(Deno.env.get("POD_FUZZ_SEED") ?? 9001);
const BUDGET_MS = 2500; // a time budget, but the loop below never stops short of its minimum (a loaded CI machine)

const TOKENS = [
  "/",
  "/src",
  "/dst",
  "..",
  ".",
  "./x",
  "vol",
  "v-1.x",
  ":",
  ",",
  "=",
  "ro",
  "rw",
  "z",
  "Z",
  "O",
  "rslave",
  "shared",
  "bind",
  "rbind",
  "nocopy",
  "type",
  "bind",
  "volume",
  "tmpfs",
  "devpts",
  "src",
  "source",
  "dst",
  "destination",
  "target",
  "readonly",
  "true",
  "false",
  "bind-propagation",
  "tmpfs-size",
  "tmpfs-mode",
  "size",
  "mode",
  "1777",
  "64m",
  "\u0000",
  " ",
  "//",
  "a".repeat(300),
];

const SEEDS = [
  "/src:/dst",
  "/src:/dst:ro,z",
  "vol:/dst:rw",
  "/dst",
  "/dst:ro",
  "type=bind,src=/src,dst=/dst,readonly",
  "type=volume,source=vol,target=/data",
  "type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1777",
  "type=devpts,destination=/dev/pts",
  "/t:size=64m,mode=1777",
];

function randomSpec(r: () => number): string {
  if (r() < 0.5) {
    const s = SEEDS[Math.floor(r() * SEEDS.length)];
    const tok = TOKENS[Math.floor(r() * TOKENS.length)];
    const at = Math.floor(r() * (s.length + 1));
    const k = r();
    if (k < 0.4) return s.slice(0, at) + tok + s.slice(at);
    if (k < 0.7) return s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 5));
    return s.slice(0, at) + tok + s.slice(at + tok.length);
  }
  const n = Math.floor(r() * 8);
  return Array.from({ length: n }, () => TOKENS[Math.floor(r() * TOKENS.length)]).join("");
}

function check(f: (s: string) => unknown, spec: string, what: string): boolean {
  let m: { destination?: unknown; type?: unknown; source?: unknown };
  try {
    m = f(spec) as typeof m;
  } catch (e) {
    assert.ok(
      e instanceof PodError,
      `${what} ${JSON.stringify(spec)}: ${(e as Error)?.name}: ${(e as Error)?.message}`,
    );
    assert.ok(e.message.length > 0);
    return false;
  }
  const dst = String(m.destination);
  assert.ok(dst.startsWith("/"), `${what} ${JSON.stringify(spec)}: destination ${dst}`);
  assert.ok(!dst.split("/").includes(".."), `${what} ${JSON.stringify(spec)}: destination ${dst} has ..`);
  assert.ok(!dst.includes("//"), `${what} ${JSON.stringify(spec)}: destination ${dst}`);
  if (m.type === "bind") {
    assert.ok(String(m.source).startsWith("/"), `${what} ${JSON.stringify(spec)}: source ${m.source}`);
  }
  return true;
}

Deno.test("fuzz mounts: -v, --mount, --tmpfs give a clean request or a PodError", () => {
  const r = rng(SEED);
  const end = Date.now() + BUDGET_MS;
  let n = 0, ok = 0;
  while ((Date.now() < end || n <= 1000) && n < 100_000) {
    const spec = randomSpec(r);
    if (check(parseVolume, spec, "-v")) ok++;
    if (check(parseMount, spec, "--mount")) ok++;
    if (check(parseTmpfs, spec, "--tmpfs")) ok++;
    n++;
  }
  for (const s of SEEDS) assert.ok([parseVolume, parseMount, parseTmpfs].some((f) => check(f, s, "seed")), s);
  assert.ok(n > 1000, `only ${n} iterations`);
  assert.ok(ok > 0);
});
