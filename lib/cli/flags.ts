/**
 * Command-line flags: how a command declares them ({@link defineCommand} with {@link bool}, {@link str},
 * {@link int}, {@link strings}, the parsed values typed from the declaration) and how argv is parsed, with
 * pflag/cobra semantics as podman users expect: `--flag=v`, `--flag v`, `-f v`, `-fv`, `-f=v`, combined short
 * booleans (`-it`), `--bool=false`, negative numbers as values (`-t -1`), repeated flags collected into arrays,
 * `--` to end flags, and (for `run`/`create`/`exec`) flags end at the first argument.
 *
 * @example A command
 * ```ts
 * import { bool, defineCommand, int } from "./flags.ts";
 *
 * export default defineCommand({
 *   name: "stop",
 *   usage: "pod stop [options] CONTAINER [CONTAINER...]",
 *   summary: "Stop one or more containers",
 *   flags: { all: bool("a", "Stop all running containers"), time: int("t", "Seconds to wait", { default: -1 }) },
 *   run(flags, args) {
 *     return flags.all && flags.time < 0 ? args.length : 0; // flags: { all: boolean; time: number }
 *   },
 * });
 * ```
 *
 * One file over 400 lines on purpose: declaring flags and parsing argv are one contract.
 * @module
 */

import { UsageError } from "../errors.ts";
import { debug } from "../log.ts";

/** The kinds of value a flag takes. `strings` may be repeated and collects every value. */
export type FlagType = "bool" | "string" | "strings" | "int";

/** One flag of a command, as the parser and `--help` see it. */
export interface FlagSpec {
  /** Long name, without dashes (`tls-verify`). Parsed values are keyed by it. */
  name: string;
  /** One-letter short name, without the dash. */
  short?: string;
  /** Value kind. */
  type: FlagType;
  /** Value when the flag is absent (`strings` default to `[]`, `bool` to false). */
  default?: unknown;
  /** One-line help. */
  help: string;
  /** Not shown in help (still accepted). */
  hidden?: boolean;
  /** Accepted for podman compatibility but not acted on: using it prints a debug note. */
  ignored?: boolean;
}

/** A command's interface: what `--help` prints and what the parser accepts. */
export interface CommandSpec {
  /** Command name (`pull`). */
  name: string;
  /** Other names (`ls` for `ps`…). */
  aliases?: string[];
  /** Usage line, e.g. `pod pull [options] IMAGE [IMAGE...]`. */
  usage: string;
  /** One-line summary. */
  summary: string;
  /** Flags. `--help/-h` is added by the CLI. */
  flags: FlagSpec[];
  /** Fewest positional arguments. */
  minArgs?: number;
  /** Most positional arguments (undefined: unlimited). */
  maxArgs?: number;
  /** Flags end at the first positional argument (the rest is a command line). */
  stopAtFirstArg?: boolean;
}

/** The result of parsing: flag values by long name, positional arguments and which flags were given. */
export interface Parsed {
  /** Flag values keyed by long name, defaults filled in. */
  flags: Record<string, unknown>;
  /** Positional arguments. */
  args: string[];
  /** Long names of the flags the user actually gave. */
  given: Set<string>;
}

/** Options every command receives. */
export interface Globals {
  /** The store root. */
  root: string;
  /** The program name it was called by (`pod`, `lilipod`, `podman` shim). */
  argv0: string;
  /** The global `--runtime` (pod runs containers itself; recorded by create/run). */
  runtime?: string;
}

/** A runnable command: its spec and a runner of parsed argv. Both command styles load as this. */
export interface Command {
  /** The command's flags and help. */
  spec: CommandSpec;
  /** Runs the command on parsed argv; resolves to the exit code. */
  run(p: Parsed, g: Globals): Promise<number>;
}

/** A command file in the older style: its spec and a runner of untyped parsed flags. */
export interface CommandModule {
  /** The command's flags and help. */
  spec: CommandSpec;
  /** Runs the command; resolves to the exit code. */
  run(p: Parsed, g: Globals): Promise<number>;
}

/** What a file in `lib/cli/commands/` exports: a `default` {@link Command}, or `spec` and `run`. */
export type CommandFile = { default: Command } | CommandModule;

/** Imports a command file. */
export type Loader = () => Promise<CommandFile>;

/** Imports a command file and returns its {@link Command}, whichever style it is written in. */
export async function loadCommand(load: Loader): Promise<Command> {
  const file = await load();
  return "default" in file ? file.default : { spec: file.spec, run: file.run };
}

// ---- declaring flags --------------------------------------------------------------------------------------

/** A declared flag whose parsed value has type `T` (made by {@link bool}, {@link str}, {@link int}, {@link strings}). */
export interface Flag<T> {
  /** Value kind. */
  readonly type: FlagType;
  /** One-letter short name. */
  readonly short?: string;
  /** One-line help. */
  readonly help: string;
  /** Value when absent. */
  readonly default?: T;
  /** Not shown in help. */
  readonly hidden?: boolean;
  /** Accepted for compatibility, not acted on. */
  readonly ignored?: boolean;
  /** Long name when it is not the kebab-case of the key (`noheading` stays `noheading` anyway). */
  readonly long?: string;
  /** Type-level only: the parsed value's type. */
  readonly value?: T;
}

/** Options of a declared flag besides its short name and help. */
export interface FlagOptions {
  /** Not shown in help (still accepted). */
  hidden?: boolean;
  /** Accepted for podman compatibility but not acted on. */
  ignored?: boolean;
  /** The long name, when it is not the kebab-case of the key. */
  long?: string;
}

/** A command's flag declarations: key (camelCase; the long name is its kebab-case) → flag. */
export type FlagDecls = Record<string, Flag<unknown>>;

/** The parsed values of a {@link FlagDecls}, keyed like it. */
export type FlagValues<F extends FlagDecls> = {
  -readonly [K in keyof F]: F[K] extends Flag<infer T> ? T : never;
};

type Args<O> = [help: string, opts?: O] | [short: string, help: string, opts?: O];

function declare<T>(type: FlagType, a: unknown[], fallback?: T): Flag<T> {
  // runs ~120 times on every `run` before anything else (containerFlags): plain assignments, no regex
  const named = typeof a[1] === "string";
  const short = named ? a[0] as string : undefined;
  const opts = (named ? a[2] : a[1]) as (FlagOptions & { default?: T }) | undefined;
  const f: { -readonly [K in keyof Flag<T>]: Flag<T>[K] } = { type, help: (named ? a[1] : a[0]) as string };
  if (short !== undefined) {
    const c = short.length === 1 ? short.charCodeAt(0) : 0;
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) {
      throw new Error(`flag short name "${short}": one letter`);
    }
    f.short = short;
  }
  const d = opts?.default ?? fallback;
  if (d !== undefined) f.default = d;
  if (opts) {
    if (opts.hidden) f.hidden = true;
    if (opts.ignored) f.ignored = true;
    if (opts.long) f.long = opts.long;
  }
  return f;
}

/** A boolean flag (`-a`, `--all`, `--all=false`); false unless `default: true`. */
export function bool(...a: Args<FlagOptions & { default?: boolean }>): Flag<boolean> {
  return declare<boolean>("bool", a, false);
}

/** A string flag; `undefined` when absent unless it has a `default`. */
export function str(short: string, help: string, opts: FlagOptions & { default: string }): Flag<string>;
/** A string flag with a default. */
export function str(help: string, opts: FlagOptions & { default: string }): Flag<string>;
/** A string flag; `undefined` when absent. */
export function str(short: string, help: string, opts?: FlagOptions): Flag<string | undefined>;
/** A string flag; `undefined` when absent. */
export function str(help: string, opts?: FlagOptions): Flag<string | undefined>;
export function str(...a: unknown[]): Flag<string | undefined> {
  return declare<string>("string", a);
}

/** An integer flag (negative values allowed: `-t -1`); `undefined` when absent unless it has a `default`. */
export function int(short: string, help: string, opts: FlagOptions & { default: number }): Flag<number>;
/** An integer flag with a default. */
export function int(help: string, opts: FlagOptions & { default: number }): Flag<number>;
/** An integer flag; `undefined` when absent. */
export function int(short: string, help: string, opts?: FlagOptions): Flag<number | undefined>;
/** An integer flag; `undefined` when absent. */
export function int(help: string, opts?: FlagOptions): Flag<number | undefined>;
export function int(...a: unknown[]): Flag<number | undefined> {
  return declare<number>("int", a);
}

/** A repeatable string flag collecting every value (`-e A -e B` → `["A", "B"]`); `[]` when absent. */
export function strings(...a: Args<FlagOptions & { default?: string[] }>): Flag<string[]> {
  return declare<string[]>("strings", a);
}

/** The long name of a declared flag: its `long`, else the kebab-case of its key (`tlsVerify` → `tls-verify`). */
export function longName(key: string, f: Flag<unknown>): string {
  return f.long ?? (/[A-Z]/.test(key) ? key.replace(/[A-Z]/g, "-$&").toLowerCase() : key);
}

/**
 * The keys of the flags the user actually gave on the command line (a flag left at its default is absent),
 * for flags whose default must not override other configuration: `--tls-verify=true` given explicitly beats
 * registries.conf's `insecure = true`, an absent `--tls-verify` does not.
 */
export type GivenFlags<F extends FlagDecls> = ReadonlySet<keyof F & string>;

/** What {@link defineCommand} takes: the spec's fields, the flag declarations and the typed runner. */
export interface CommandDef<F extends FlagDecls> extends Omit<CommandSpec, "flags"> {
  /** The flags, declared once; `run` receives their values typed from this. */
  flags: F;
  /**
   * Runs the command; returns (or resolves to) the exit code. `given` holds the keys of the flags given
   * explicitly (see {@link GivenFlags}).
   */
  run(flags: FlagValues<F>, args: string[], g: Globals, given: GivenFlags<F>): Promise<number> | number;
}

/** A command made by {@link defineCommand}: a {@link Command} that also keeps its declarations. */
export interface DefinedCommand<F extends FlagDecls> extends Command {
  /** The flag declarations. */
  readonly flags: F;
}

/** The parser's {@link FlagSpec} of a declared flag whose long name is `name`. */
function flagSpec(name: string, f: Flag<unknown>): FlagSpec {
  const spec: FlagSpec = { name, type: f.type, help: f.help };
  if (f.short !== undefined) spec.short = f.short;
  if (f.default !== undefined) spec.default = f.default;
  if (f.hidden !== undefined) spec.hidden = f.hidden;
  if (f.ignored !== undefined) spec.ignored = f.ignored;
  return spec;
}

/** Turns flag declarations into the parser's {@link FlagSpec}s. */
export function flagSpecs(flags: FlagDecls): FlagSpec[] {
  return Object.keys(flags).map((key) => flagSpec(longName(key, flags[key]), flags[key]));
}

/**
 * Declares a command: its spec, its flags once, and a runner that receives the flags' values typed from the
 * declaration (keyed like it), the positional arguments and the globals.
 */
export function defineCommand<F extends FlagDecls>(def: CommandDef<F>): DefinedCommand<F> {
  const { flags, run, ...rest } = def;
  // built on first use, in one pass over the declarations (`run` has ~120): a command file loaded for its
  // flags (run.ts loads create.ts for containerFlags) does not build the specs of a command that is not run
  let built: { spec: CommandSpec; keys: [key: string, long: string][] } | undefined;
  const build = () => {
    if (built) return built;
    const keys: [key: string, long: string][] = [];
    const specs: FlagSpec[] = [];
    for (const key of Object.keys(flags)) {
      const long = longName(key, flags[key]);
      keys.push([key, long]);
      specs.push(flagSpec(long, flags[key]));
    }
    return built = { spec: { ...rest, flags: specs }, keys };
  };
  return {
    flags,
    get spec() {
      return build().spec;
    },
    run: async (p, g) => {
      const values: Record<string, unknown> = {};
      const given = new Set<keyof F & string>();
      for (const [key, long] of build().keys) {
        values[key] = p.flags[long];
        if (p.given.has(long)) given.add(key as keyof F & string);
      }
      return await run(values as FlagValues<F>, p.args, g, given);
    },
  };
}

// ---- parsing ----------------------------------------------------------------------------------------------

const TRUE = new Set(["true", "1", "t", "T", "TRUE", "True"]);
const FALSE = new Set(["false", "0", "f", "F", "FALSE", "False"]);

/** `pod run`, `pod container prune`: the usage line's words before its options and arguments. */
export function commandPath(spec: CommandSpec): string {
  const words: string[] = [];
  for (const w of spec.usage.split(" ")) {
    if (!/^[a-z][a-z0-9-]*$/.test(w)) break;
    words.push(w);
  }
  return words.length > 1 ? words.join(" ") : `pod ${spec.name}`;
}

/** podman's hint after a usage error: `See 'pod run --help'`. */
export function helpHint(spec: CommandSpec): string {
  return `See '${commandPath(spec)} --help'`;
}

function defaults(spec: CommandSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of spec.flags) {
    if (f.default !== undefined) out[f.name] = Array.isArray(f.default) ? [...f.default] : f.default;
    else if (f.type === "bool") out[f.name] = false;
    else if (f.type === "strings") out[f.name] = [];
  }
  return out;
}

function flagLabel(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
}

function setValue(out: Record<string, unknown>, f: FlagSpec, raw: string, hint: string): void {
  const invalid = (fn: string) =>
    new UsageError(
      `invalid argument "${raw}" for "${flagLabel(f)}" flag: ${fn}: parsing "${raw}": invalid syntax`,
      hint,
    );
  switch (f.type) {
    case "bool":
      if (TRUE.has(raw)) out[f.name] = true;
      else if (FALSE.has(raw)) out[f.name] = false;
      else throw invalid("strconv.ParseBool");
      break;
    case "int":
      if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw invalid("strconv.ParseInt");
      out[f.name] = Number(raw);
      break;
    case "strings": {
      const list = out[f.name];
      if (Array.isArray(list)) list.push(raw);
      else out[f.name] = [raw];
      break;
    }
    default:
      out[f.name] = raw;
  }
}

/** Parses `argv` (the words after the command name) against `spec`. Throws {@link UsageError} with a hint. */
export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const f of spec.flags) {
    byLong.set(f.name, f);
    if (f.short) byShort.set(f.short, f);
  }
  const hint = helpHint(spec);
  const flags = defaults(spec);
  const args: string[] = [];
  const given = new Set<string>();
  const note = (f: FlagSpec) => {
    given.add(f.name);
    if (f.ignored) debug(`--${f.name} is accepted for compatibility and has no effect in pod`);
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const f = byLong.get(name);
      if (!f) throw new UsageError(`unknown flag: --${name}`, hint);
      note(f);
      if (eq >= 0) setValue(flags, f, a.slice(eq + 1), hint);
      else if (f.type === "bool") flags[f.name] = true;
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`, hint);
        setValue(flags, f, argv[++i], hint);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // a cluster of short flags: -it, -ePATH=x, -e=x, -t 5, -t -1
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const f = byShort.get(c);
        if (!f) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`, hint);
        note(f);
        if (f.type === "bool") {
          if (a[j + 1] === "=") {
            setValue(flags, f, a.slice(j + 2), hint);
            break;
          }
          flags[f.name] = true;
          continue;
        }
        const rest = a.slice(j + 1);
        if (rest !== "") setValue(flags, f, rest.startsWith("=") ? rest.slice(1) : rest, hint);
        else {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in ${a}`, hint);
          setValue(flags, f, argv[++i], hint);
        }
        break;
      }
      continue;
    }
    args.push(a);
    if (spec.stopAtFirstArg) {
      i++;
      break;
    }
  }
  for (; i < argv.length; i++) args.push(argv[i]);

  if (spec.minArgs !== undefined && args.length < spec.minArgs) {
    throw new UsageError(
      `"${spec.name}" requires at least ${spec.minArgs} argument${spec.minArgs === 1 ? "" : "s"}`,
      hint,
    );
  }
  if (spec.maxArgs !== undefined && args.length > spec.maxArgs) {
    throw new UsageError(
      spec.maxArgs === 0
        ? `"${spec.name}" accepts no arguments`
        : `"${spec.name}" accepts at most ${spec.maxArgs} argument${spec.maxArgs === 1 ? "" : "s"}`,
      hint,
    );
  }
  return { flags, args, given };
}

/** Renders `--help` for a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [spec.summary, "", "Usage:", `  ${spec.usage}`];
  if (spec.aliases?.length) lines.push("", "Aliases:", `  ${[spec.name, ...spec.aliases].join(", ")}`);
  const visible = spec.flags.filter((f) => !f.hidden);
  if (visible.length) {
    lines.push("", "Options:");
    const left = visible.map((f) => {
      const short = f.short ? `-${f.short}, ` : "    ";
      const arg = f.type === "bool" ? "" : f.type === "int" ? " int" : " string";
      return `  ${short}--${f.name}${arg}`;
    });
    const width = Math.max(...left.map((l) => l.length)) + 3;
    visible.forEach((f, k) => {
      const def =
        f.default !== undefined && f.default !== false && !(Array.isArray(f.default) && !f.default.length)
          ? ` (default ${JSON.stringify(f.default)})`
          : "";
      lines.push(left[k].padEnd(width) + f.help + def);
    });
  }
  return lines.join("\n") + "\n";
}
