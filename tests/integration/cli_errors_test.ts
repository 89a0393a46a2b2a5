/**
 * Malformed command lines: unknown flags and commands, missing arguments and flag values, bad container names
 * (with `/`, 10 000 characters), invalid references, platforms, signals, `-v`/`--mount` specs. Each must give
 * one `Error: …` line on stderr (no stack trace), nothing on stdout, exit 125, and leave the store as it was.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { type PodResult, REGISTRY_TEST_ENV, tempPodHome } from "../helpers/pod.ts";
import { listStore } from "../helpers/store_listing.ts";

const available = await registryAvailable();
const LONG = "a".repeat(10_000);

/** [argv, expected cause, exit code (default 125)]. `IMG` is replaced by a locally stored image. */
const CASES: [string[], RegExp, number?][] = [
  [["--bogus"], /unknown flag: --bogus/],
  [["--root"], /.+/],
  [["nosuchcommand"], /unrecognized command/],
  [["system", "nope"], /unrecognized command/],
  [["pull"], /requires at least 1 argument/],
  [["pull", "--nope", "IMG"], /unknown flag: --nope/],
  [["pull", "--platform", "bogus", "IMG"], /invalid platform/],
  [["pull", "UPPER/Case"], /invalid reference.*lowercase/],
  [["pull", ":::"], /invalid reference/],
  [["pull", "a@sha256:zz"], /invalid reference.*digest/],
  [["pull", ""], /invalid reference/],
  [["pull", LONG], /invalid reference/],
  [["pull", "a b"], /invalid reference/],
  [["pull", "a//b"], /invalid reference/],
  [["pull", "-q", "--creds", "nocolon", "IMG"], /creds/],
  [["images", "--format"], /flag needs an argument: --format/],
  [["images", "--filter", "bogus=1"], /filter/i],
  [["images", "--format", "{{.Nope"], /template|format|unclosed|unexpected/i],
  [["rmi"], /must be specified|requires/],
  [["rmi", "no-such-image:1"], /image not known/, 1], // podman: rmi of an unknown image exits 1
  [["tag", "IMG"], /requires at least 2 arguments/],
  [["tag", "IMG", "Bad Name"], /invalid reference/],
  [["inspect"], /requires at least 1 argument/],
  [["inspect", "--type", "bogus", "IMG"], /type/],
  [["run"], /requires at least 1 argument/],
  [["create"], /requires at least 1 argument/],
  [["create", "--name", "a/b", "IMG"], /name/],
  [["create", "--name", LONG, "IMG"], /name/],
  [["create", "--name", "", "IMG"], /name/],
  [["create", "--bogus", "IMG"], /unknown flag: --bogus/],
  [["create", "-v", ":::", "IMG"], /volume|mount|invalid/i],
  [["create", "-v", "/src:relative", "IMG"], /absolute|invalid/i],
  [["create", "--mount", "type=bogus,dst=/x", "IMG"], /type|mount/i],
  [["create", "--mount", "type=bind", "IMG"], /destination|target|mount/i],
  [["logs"], /container/],
  [["stop", "-t", "abc", "x"], /invalid argument "abc"/],
  [["kill", "-s", "NOPE", "x"], /invalid signal/],
  [["rm"], /at least one name or id/],
  [["start", "no-such-container"], /no such container|not known|no container/i],
  [["exec"], /requires at least 1 argument/],
  [["login"], /requires at least 1 argument/],
];

Deno.test({
  name: "cli errors: malformed input gives one line, exit 125, no stack trace, store unchanged",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const reg = await startRegistry();
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    try {
      const img = await busybox(reg);
      const pulled = await h.pod(["pull", "-q", img.ref]);
      assert.equal(pulled.code, 0, pulled.stderr);
      const before = await listStore(h.home, { ignoreTmp: true });
      // the cases are independent processes: run them a few at a time
      const results = new Map<number, PodResult>();
      for (let i = 0; i < CASES.length; i += 4) {
        const batch = CASES.slice(i, i + 4).map(([argv], j) =>
          h.pod(argv.map((a) => (a === "IMG" ? img.ref : a))).then((r) => results.set(i + j, r))
        );
        await Promise.all(batch);
      }
      for (const [i, [argv, cause, code]] of CASES.entries()) {
        const label = argv.map((a) => (a.length > 40 ? `${a.slice(0, 10)}…(${a.length})` : a)).join(" ");
        await t.step(`pod ${label}`, () => {
          const r = results.get(i)!;
          assert.equal(r.code, code ?? 125, `exit code; stderr: ${r.stderr.slice(0, 500)}`);
          const lines = r.stderr.split("\n").filter((l) => l !== "");
          assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr.slice(0, 2000)}`);
          assert.ok(lines[0].startsWith("Error: "), lines[0].slice(0, 300));
          assert.doesNotMatch(r.stderr, /^\s+at |\.ts:\d+:\d+/m, "no stack trace");
          assert.match(lines[0], cause);
          assert.equal(r.stdout, "", "nothing on stdout");
        });
      }
      assert.deepEqual(await listStore(h.home, { ignoreTmp: true }), before, "store unchanged");
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});
