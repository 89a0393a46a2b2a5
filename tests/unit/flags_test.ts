/**
 * The argv parser against pflag/cobra's rules (`--a=b`, `--a b`, `-abc`, `-fv`, `--`, negative values,
 * repeated flags, `--flag=false`, errors and their hints, stopping at the first argument), and typed
 * declarations through `defineCommand`.
 */
import assert from "node:assert/strict";
import {
  bool,
  type CommandSpec,
  defineCommand,
  flagSpecs,
  helpText,
  int,
  parseArgs,
  str,
  strings,
} from "../../lib/cli/flags.ts";
import { PodError, UsageError } from "../../lib/errors.ts";
import { loadCommand } from "../../lib/cli/registry.ts";

const FLAGS = {
  all: bool("a", "all"),
  verbose: bool("v", "verbose"),
  quiet: bool("q", "quiet"),
  tlsVerify: bool("tls verify", { default: true }),
  format: str("f", "format"),
  sort: str("sort", { default: "created" }),
  time: int("t", "time", { default: -1 }),
  count: int("count"),
  env: strings("e", "env"),
};

const SPEC: CommandSpec = {
  name: "stop",
  usage: "pod stop [options] NAME",
  summary: "",
  flags: flagSpecs(FLAGS),
};
const RUN: CommandSpec = {
  ...SPEC,
  name: "run",
  usage: "pod run [options] IMAGE [COMMAND]",
  stopAtFirstArg: true,
};

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, `a UsageError, got ${e}`);
    assert.equal(e.code, "USAGE");
    assert.equal(e.exitCode, 125);
    return e;
  }
  assert.fail("no error thrown");
}

Deno.test("flags: long flags take values after = or as the next word", () => {
  const p = parseArgs(SPEC, ["--format=json", "x", "--sort", "id", "--format={{.ID}}=y"]);
  assert.equal(p.flags.format, "{{.ID}}=y", "the last one wins, = inside the value kept");
  assert.equal(p.flags.sort, "id");
  assert.deepEqual(p.args, ["x"]);
  assert.deepEqual([...p.given].sort(), ["format", "sort"]);
  assert.equal(parseArgs(SPEC, ["--format="]).flags.format, "", "an empty value");
});

Deno.test("flags: defaults fill what was not given", () => {
  const p = parseArgs(SPEC, []);
  assert.deepEqual(p.flags, {
    all: false,
    verbose: false,
    quiet: false,
    "tls-verify": true,
    sort: "created",
    time: -1,
    env: [],
  });
  assert.equal(p.given.size, 0);
  // defaults are copies: one parse does not change the next one's arrays
  const withDefault: CommandSpec = {
    ...SPEC,
    flags: [{ name: "x", type: "strings", help: "", default: ["a"] }],
  };
  (parseArgs(withDefault, ["--x", "b"]).flags.x as string[]).push("c");
  assert.deepEqual(parseArgs(withDefault, []).flags.x, ["a"]);
});

Deno.test("flags: combined short booleans and a short flag with its value attached", () => {
  const p = parseArgs(SPEC, ["-avq"]);
  assert.deepEqual([p.flags.all, p.flags.verbose, p.flags.quiet], [true, true, true]);
  assert.equal(parseArgs(SPEC, ["-fjson"]).flags.format, "json", "-fv: the rest of the word is the value");
  assert.equal(parseArgs(SPEC, ["-f=json"]).flags.format, "json", "-f=v");
  assert.equal(parseArgs(SPEC, ["-f", "json"]).flags.format, "json", "-f v");
  const q = parseArgs(SPEC, ["-avfjson"]);
  assert.deepEqual(
    [q.flags.all, q.flags.verbose, q.flags.format],
    [true, true, "json"],
    "booleans, then a value",
  );
  assert.equal(parseArgs(SPEC, ["-a=false"]).flags.all, false, "-a=false");
});

Deno.test("flags: -- ends flags; a lone - is an argument", () => {
  const p = parseArgs(SPEC, ["-a", "--", "-v", "--format=x", "-"]);
  assert.equal(p.flags.all, true);
  assert.equal(p.flags.verbose, false);
  assert.equal(p.flags.format, undefined);
  assert.deepEqual(p.args, ["-v", "--format=x", "-"]);
  assert.deepEqual(parseArgs(SPEC, ["-"]).args, ["-"]);
});

Deno.test("flags: negative numbers are values", () => {
  assert.equal(parseArgs(SPEC, ["-t", "-1"]).flags.time, -1);
  assert.equal(parseArgs(SPEC, ["-t", "-5", "x"]).flags.time, -5);
  assert.equal(parseArgs(SPEC, ["--time=-1"]).flags.time, -1);
  assert.equal(parseArgs(SPEC, ["--time", "-30"]).flags.time, -30);
  assert.equal(parseArgs(SPEC, ["-t-7"]).flags.time, -7);
  assert.equal(parseArgs(SPEC, ["--count", "+3"]).flags.count, 3);
  // a string flag takes a dash-word as its value too, like pflag
  assert.equal(parseArgs(SPEC, ["--format", "-a"]).flags.format, "-a");
});

Deno.test("flags: repeated flags collect arrays; scalars keep the last", () => {
  const p = parseArgs(SPEC, ["-e", "A=1", "--env=B=2", "-eC=3", "--env", "D", "-t", "1", "-t", "2"]);
  assert.deepEqual(p.flags.env, ["A=1", "B=2", "C=3", "D"]);
  assert.equal(p.flags.time, 2);
});

Deno.test("flags: booleans take =true/=false, not the next word", () => {
  assert.equal(parseArgs(SPEC, ["--tls-verify=false"]).flags["tls-verify"], false);
  assert.equal(parseArgs(SPEC, ["--tls-verify=0"]).flags["tls-verify"], false);
  assert.equal(parseArgs(SPEC, ["--all=true"]).flags.all, true);
  assert.equal(parseArgs(SPEC, ["--all=T"]).flags.all, true);
  const p = parseArgs(SPEC, ["--all", "false"]);
  assert.equal(p.flags.all, true);
  assert.deepEqual(p.args, ["false"], "pflag: a bool flag does not consume the next word");
  const e = usageError(() => parseArgs(SPEC, ["--all=maybe"]));
  assert.equal(
    e.message,
    'invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
  );
});

Deno.test("flags: unknown flags name the flag, with the help hint", () => {
  let e = usageError(() => parseArgs(SPEC, ["--nope"]));
  assert.equal(e.message, "unknown flag: --nope");
  assert.equal(e.hint, "See 'pod stop --help'");
  e = usageError(() => parseArgs(SPEC, ["--nope=1"]));
  assert.equal(e.message, "unknown flag: --nope");
  e = usageError(() => parseArgs(SPEC, ["-avx"]));
  assert.equal(e.message, "unknown shorthand flag: 'x' in -avx");
  assert.equal(e.hint, "See 'pod stop --help'");
  // the hint names the command path of a subcommand
  const prune: CommandSpec = { ...SPEC, name: "prune", usage: "pod container prune [options]" };
  assert.equal(usageError(() => parseArgs(prune, ["--x"])).hint, "See 'pod container prune --help'");
});

Deno.test("flags: a missing or malformed value is an error", () => {
  let e = usageError(() => parseArgs(SPEC, ["--format"]));
  assert.equal(e.message, "flag needs an argument: --format");
  assert.equal(e.hint, "See 'pod stop --help'");
  e = usageError(() => parseArgs(SPEC, ["-f"]));
  assert.equal(e.message, "flag needs an argument: 'f' in -f");
  e = usageError(() => parseArgs(SPEC, ["-af"]));
  assert.equal(e.message, "flag needs an argument: 'f' in -af");
  e = usageError(() => parseArgs(SPEC, ["-t", "abc"]));
  assert.equal(
    e.message,
    'invalid argument "abc" for "-t, --time" flag: strconv.ParseInt: parsing "abc": invalid syntax',
  );
  assert.equal(e.hint, "See 'pod stop --help'");
  usageError(() => parseArgs(SPEC, ["--time=1.5"]));
  usageError(() => parseArgs(SPEC, ["--count", "99999999999999999999"]));
});

Deno.test("flags: argument counts", () => {
  const one: CommandSpec = { ...SPEC, minArgs: 1, maxArgs: 1 };
  let e = usageError(() => parseArgs(one, []));
  assert.equal(e.message, '"stop" requires at least 1 argument');
  assert.equal(e.hint, "See 'pod stop --help'");
  e = usageError(() => parseArgs(one, ["a", "b"]));
  assert.equal(e.message, '"stop" accepts at most 1 argument');
  e = usageError(() => parseArgs({ ...SPEC, maxArgs: 0 }, ["a"]));
  assert.equal(e.message, '"stop" accepts no arguments');
  assert.equal(
    usageError(() => parseArgs({ ...SPEC, minArgs: 2 }, ["a"])).message,
    '"stop" requires at least 2 arguments',
  );
});

Deno.test("flags: run/exec stop at the first argument; other commands take flags anywhere", () => {
  const p = parseArgs(RUN, ["-a", "img", "sh", "-c", "--format=x", "-t"]);
  assert.equal(p.flags.all, true);
  assert.equal(p.flags.format, undefined);
  assert.deepEqual(p.args, ["img", "sh", "-c", "--format=x", "-t"]);
  const q = parseArgs(RUN, ["-e", "A", "--", "img", "-v"]);
  assert.deepEqual(q.flags.env, ["A"]);
  assert.deepEqual(q.args, ["img", "-v"]);
  const r = parseArgs(SPEC, ["x", "-a", "y", "-t", "3"]);
  assert.equal(r.flags.all, true);
  assert.equal(r.flags.time, 3);
  assert.deepEqual(r.args, ["x", "y"]);
});

Deno.test("flags: defineCommand hands the runner typed values keyed like the declaration", async () => {
  let seen: unknown;
  const cmd = defineCommand({
    name: "stop",
    usage: "pod stop [options] NAME",
    summary: "Stop",
    flags: FLAGS,
    run(flags, args, g) {
      // compile-time: these are typed (a wrong type here fails `deno check`)
      const all: boolean = flags.all;
      const time: number = flags.time;
      const count: number | undefined = flags.count;
      const format: string | undefined = flags.format;
      const sort: string = flags.sort;
      const env: string[] = flags.env;
      seen = { all, time, count, format, sort, env, tls: flags.tlsVerify, args, root: g.root };
      return 3;
    },
  });
  assert.deepEqual(cmd.spec.flags.map((f) => f.name), [
    "all",
    "verbose",
    "quiet",
    "tls-verify",
    "format",
    "sort",
    "time",
    "count",
    "env",
  ]);
  const code = await cmd.run(parseArgs(cmd.spec, ["-a", "--tls-verify=false", "-e", "X", "n"]), {
    root: "/r",
    argv0: "pod",
  });
  assert.equal(code, 3);
  assert.deepEqual(seen, {
    all: true,
    time: -1,
    count: undefined,
    format: undefined,
    sort: "created",
    env: ["X"],
    tls: false,
    args: ["n"],
    root: "/r",
  });
  assert.match(helpText(cmd.spec), /-t, --time int\s+time \(default -1\)/);
  assert.match(helpText(cmd.spec), /--tls-verify\s+tls verify \(default true\)/);
});

Deno.test("flags: the registry loads both command styles", async () => {
  const typed = await loadCommand(() => import("../../lib/cli/commands/stop.ts"));
  assert.equal(typed.spec.name, "stop");
  assert.ok(typed.spec.flags.some((f) => f.name === "time" && f.short === "t" && f.type === "int"));
  let got: unknown;
  const old = await loadCommand(() =>
    Promise.resolve({
      spec: {
        name: "old",
        usage: "pod old",
        summary: "",
        flags: [{ name: "x-y", type: "string" as const, help: "" }],
      },
      run: (p: { flags: Record<string, unknown> }) => {
        got = p.flags["x-y"];
        return Promise.resolve(0);
      },
    })
  );
  await old.run(parseArgs(old.spec, ["--x-y", "v"]), { root: "/", argv0: "pod" });
  assert.equal(got, "v");
});

Deno.test("flags: errors carry their hint apart from the message", () => {
  const e = new UsageError("unknown flag: --foo", "See 'pod run --help'");
  assert.ok(e instanceof PodError);
  assert.equal(e.message, "unknown flag: --foo");
  assert.equal(e.hint, "See 'pod run --help'");
});

Deno.test("flags: the real run and exec commands stop at the image / container", async () => {
  const exec = await loadCommand(() => import("../../lib/cli/commands/exec.ts"));
  const e = parseArgs(exec.spec, ["-it", "-e", "A=1", "web", "sh", "-c", "echo -n x", "--tty=false"]);
  assert.deepEqual([e.flags.interactive, e.flags.tty, e.flags.env], [true, true, ["A=1"]]);
  assert.deepEqual(e.args, ["web", "sh", "-c", "echo -n x", "--tty=false"]);
  const run = await loadCommand(() => import("../../lib/cli/commands/run.ts"));
  const r = parseArgs(run.spec, [
    "--rm",
    "-d",
    "--stop-timeout",
    "-1",
    "-h",
    "box",
    "img",
    "ls",
    "-la",
    "--rm",
  ]);
  assert.deepEqual([r.flags.rm, r.flags.detach, r.flags["stop-timeout"], r.flags.hostname], [
    true,
    true,
    -1,
    "box",
  ]);
  assert.deepEqual(r.args, ["img", "ls", "-la", "--rm"]);
  assert.equal(usageError(() => parseArgs(run.spec, ["--nope", "img"])).hint, "See 'pod run --help'");
});

Deno.test("flags: defineCommand tells the runner which flags were given explicitly (by key, any spelling)", async () => {
  const seen: string[][] = [];
  const cmd = defineCommand({
    name: "stop",
    usage: "pod stop [options] NAME",
    summary: "Stop",
    flags: FLAGS,
    run(_flags, _args, _g, given) {
      // compile-time: keys of the declaration only
      const k: Set<keyof typeof FLAGS> = new Set(given);
      seen.push([...k].sort());
      return 0;
    },
  });
  const g = { root: "/x", argv0: "pod" };
  await cmd.run(parseArgs(cmd.spec, ["n"]), g);
  await cmd.run(parseArgs(cmd.spec, ["--tls-verify=true", "-at", "5", "n"]), g);
  await cmd.run(parseArgs(cmd.spec, ["--tls-verify", "-e", "A", "--sort=created", "n"]), g);
  // a flag given with its default value still counts as given
  assert.deepEqual(seen, [[], ["all", "time", "tlsVerify"], ["env", "sort", "tlsVerify"]]);
});
