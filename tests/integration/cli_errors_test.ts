/**
 * Malformed command lines: unknown flags and commands, missing arguments and flag values, bad container names
 * (with `/`, 10 000 characters), invalid references, platforms, signals, `-v`/`--mount` specs. Each must give
 * its `Error: <message>` line on stderr — usage errors followed by podman's hint line (`See 'pod run --help'`)
 * — no stack trace, nothing on stdout, exit 125, and leave the store as it was.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { podCommand, type PodResult, REGISTRY_TEST_ENV, tempPodHome } from "../helpers/pod.ts";
import { listStore } from "../helpers/store_listing.ts";

const available = await registryAvailable();
const LONG = "a".repeat(10_000);

/** Where a usage error sends the user: podman's `See 'podman run --help'` line after the error. */
const see = (cmd: string) => ({ hint: `See 'pod ${cmd} --help'` });

/**
 * [argv, the error message (the whole text after `Error: `, or a pattern for it), the hint line under it if
 * any, the exit code (default 125)]. `IMG` is replaced by a locally stored image.
 */
const CASES: [string[], string | RegExp, { hint?: string; code?: number }?][] = [
  [["--bogus"], "unknown flag: --bogus", { hint: "See 'pod --help'" }],
  [["--root"], "flag needs an argument: --root", { hint: "See 'pod --help'" }],
  [["nosuchcommand"], "unrecognized command `pod nosuchcommand`", {
    hint: "Try 'pod --help' for more information",
  }],
  [["system", "nope"], "unrecognized command `pod system nope`", {
    hint: "Try 'pod system --help' for more information",
  }],
  [["pull"], '"pull" requires at least 1 argument', see("pull")],
  [["pull", "--nope", "IMG"], "unknown flag: --nope", see("pull")],
  [["pull", "-x", "IMG"], "unknown shorthand flag: 'x' in -x", see("pull")],
  [
    ["pull", "--platform", "bogus", "IMG"],
    'invalid platform "bogus": want os/arch[/variant], e.g. linux/arm64',
  ],
  [["pull", "UPPER/Case"], 'invalid reference "UPPER/Case": repository name "Case" must be lowercase'],
  [["pull", ":::"], 'invalid reference ":::": empty tag after :'],
  [["pull", "a@sha256:zz"], /^invalid reference "a@sha256:zz": invalid digest "sha256:zz": /],
  [["pull", ""], 'invalid reference "": empty reference'],
  [["pull", LONG], /^invalid reference "a{10000}": /],
  [["pull", "a b"], /^invalid reference "a b": /],
  [["pull", "a//b"], 'invalid reference "a//b": empty path component in repository name "a//b"'],
  [["pull", "-q", "--creds", "nocolon", "IMG"], "--creds: want USERNAME:PASSWORD"],
  [["images", "--format"], "flag needs an argument: --format", see("images")],
  [["images", "--filter", "bogus=1"], 'invalid image filter "bogus=1"'],
  [["images", "--format", "{{.Nope"], "template: output:1:0: unclosed action"],
  [["rmi"], "image name or ID must be specified", see("rmi")],
  [["rmi", "no-such-image:1"], "no-such-image:1: image not known", { code: 1 }], // podman: rmi of an unknown image exits 1
  [["tag", "IMG"], '"tag" requires at least 2 arguments', see("tag")],
  [["tag", "IMG", "Bad Name"], 'invalid reference "Bad Name": repository name "Bad Name" must be lowercase'],
  [["inspect"], '"inspect" requires at least 1 argument', see("inspect")],
  [
    ["inspect", "--type", "bogus", "IMG"],
    'invalid type "bogus": must be one of container, image, volume, all',
    see("inspect"),
  ],
  [["run"], '"run" requires at least 1 argument', see("run")],
  [["run", "--foo", "IMG"], "unknown flag: --foo", see("run")],
  [["create"], '"create" requires at least 1 argument', see("create")],
  [["create", "--name", "a/b", "IMG"], /^running container create option: names must match /],
  [["create", "--name", LONG, "IMG"], /^running container create option: names must match /],
  [["create", "--name", "", "IMG"], /^running container create option: names must match /],
  [["create", "--bogus", "IMG"], "unknown flag: --bogus", see("create")],
  [["create", "-v", ":::", "IMG"], 'incorrect volume format ":::", should be [host-dir:]ctr-dir[:option]'],
  [["create", "-v", "/src:relative", "IMG"], 'invalid option type "relative"'],
  [["create", "--mount", "type=bogus,dst=/x", "IMG"], 'invalid filesystem type "bogus"'],
  [["create", "--mount", "type=bind", "IMG"], "must set target or destination: invalid mount option"],
  [["container", "prune", "--foo"], "unknown flag: --foo", see("container prune")],
  [["logs"], "logs requires at least one container name or ID", see("logs")],
  [
    ["stop", "-t", "abc", "x"],
    'invalid argument "abc" for "-t, --time" flag: strconv.ParseInt: parsing "abc": invalid syntax',
    see("stop"),
  ],
  [["ps", "extra"], '"ps" accepts no arguments', see("ps")],
  [["kill", "-s", "NOPE", "x"], "invalid signal: NOPE"],
  [["rm"], "you must provide at least one name or id"],
  [
    ["start", "no-such-container"],
    'no container with name or ID "no-such-container" found: no such container',
  ],
  [["exec"], '"exec" requires at least 1 argument', see("exec")],
  [["login"], '"login" requires at least 1 argument', see("login")],
];

Deno.test({
  name:
    "cli errors: malformed input gives the error line and its hint, exit 125, no stack trace, store unchanged",
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
      for (const [i, [argv, cause, opts = {}]] of CASES.entries()) {
        const label = argv.map((a) => (a.length > 40 ? `${a.slice(0, 10)}…(${a.length})` : a)).join(" ");
        await t.step(`pod ${label}`, () => {
          const r = results.get(i)!;
          assert.equal(r.code, opts.code ?? 125, `exit code; stderr: ${r.stderr.slice(0, 500)}`);
          assert.ok(r.stderr.endsWith("\n"), "stderr ends with a newline");
          const lines = r.stderr.slice(0, -1).split("\n");
          assert.equal(
            lines.length,
            opts.hint ? 2 : 1,
            `error line (and hint), got:\n${r.stderr.slice(0, 2000)}`,
          );
          assert.ok(lines[0].startsWith("Error: "), lines[0].slice(0, 300));
          const message = lines[0].slice("Error: ".length);
          if (typeof cause === "string") assert.equal(message, cause);
          else assert.match(message, cause);
          if (opts.hint) assert.equal(lines[1], opts.hint, "the hint line");
          assert.doesNotMatch(r.stderr, /^\s+at |\.ts:\d+:\d+/m, "no stack trace");
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

Deno.test({
  name: "cli output: a reader that went away (`pod ps -a | true`) ends pod quietly, exit 0",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const h = await tempPodHome();
    try {
      for (const argv of [["ps", "-a"], ["images"], ["version"], ["completion", "bash"]]) {
        const c = await podCommand(argv, { home: h.home });
        const quoted = [c.cmd, ...c.args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
        const file = `${h.root}/result`;
        // `true` has exited (the pipe has no reader) well before pod writes its first byte
        const o = await new Deno.Command("sh", {
          args: ["-c", `{ sleep 0.3; ${quoted} 2>"${file}.err"; echo $? >"${file}"; } | true`],
          env: c.env,
          clearEnv: true,
          cwd: c.cwd,
        }).output();
        assert.equal(o.code, 0);
        assert.equal((await Deno.readTextFile(file)).trim(), "0", `pod ${argv.join(" ")}: exit code`);
        assert.equal(await Deno.readTextFile(`${file}.err`), "", `pod ${argv.join(" ")}: nothing on stderr`);
      }
    } finally {
      await h.cleanup();
    }
  },
});
