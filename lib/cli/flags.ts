/**
 * Command-line parsing with pflag/cobra semantics, as podman users expect:
 * `--flag=v`, `--flag v`, `-f v`, `-fv`, combined short booleans (`-it`), `--bool=false`, repeated flags
 * collected into arrays, `--` to end flags, and (for `run`/`create`/`exec`) flags end at the first argument.
 * @module
 */

import { UsageError } from "../errors.ts";
import { debug } from "../log.ts";

/** The kinds of value a flag takes. `strings` may be repeated and collects every value. */
export type FlagType = "bool" | "string" | "strings" | "int";

/** One flag of a command. */
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

/** The result of parsing: flag values by long name and positional arguments. */
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
}

const TRUE = new Set(["true", "1", "t", "T", "TRUE", "True"]);
const FALSE = new Set(["false", "0", "f", "F", "FALSE", "False"]);

function defaults(spec: CommandSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of spec.flags) {
    if (f.default !== undefined) out[f.name] = Array.isArray(f.default) ? [...f.default] : f.default;
    else if (f.type === "bool") out[f.name] = false;
    else if (f.type === "strings") out[f.name] = [];
  }
  return out;
}

function setValue(out: Record<string, unknown>, f: FlagSpec, raw: string, shown: string): void {
  switch (f.type) {
    case "bool":
      if (TRUE.has(raw)) out[f.name] = true;
      else if (FALSE.has(raw)) out[f.name] = false;
      else throw new UsageError(`invalid argument "${raw}" for "${shown}" flag: parse error`);
      break;
    case "int": {
      if (!/^-?\d+$/.test(raw)) {
        throw new UsageError(`invalid argument "${raw}" for "${shown}" flag: parse error`);
      }
      out[f.name] = Number(raw);
      break;
    }
    case "strings": {
      const list = (out[f.name] as string[] | undefined) ?? [];
      list.push(raw);
      out[f.name] = list;
      break;
    }
    default:
      out[f.name] = raw;
  }
}

/** Parses `argv` (the words after the command name) against `spec`. Throws {@link UsageError}. */
export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const f of spec.flags) {
    byLong.set(f.name, f);
    if (f.short) byShort.set(f.short, f);
  }
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
      if (!f) {
        throw new UsageError(
          `unknown flag: --${name}\nSee '${spec.usage.split(" ")[0]} ${spec.name} --help'`,
        );
      }
      note(f);
      if (eq >= 0) setValue(flags, f, a.slice(eq + 1), `--${name}`);
      else if (f.type === "bool") flags[f.name] = true;
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        setValue(flags, f, argv[++i], `--${name}`);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // a cluster of short flags: -it, -ePATH=x, -e=x, -t 5
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const f = byShort.get(c);
        if (!f) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`);
        note(f);
        if (f.type === "bool") {
          if (a[j + 1] === "=") {
            setValue(flags, f, a.slice(j + 2), `-${c}`);
            break;
          }
          flags[f.name] = true;
          continue;
        }
        let rest = a.slice(j + 1);
        if (rest.startsWith("=")) rest = rest.slice(1);
        if (rest !== "" || a[j + 1] === "=") setValue(flags, f, rest, `-${c}`);
        else {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in ${a}`);
          setValue(flags, f, argv[++i], `-${c}`);
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
      `"${spec.name}" requires at least ${spec.minArgs} argument${spec.minArgs === 1 ? "" : "s"}\n` +
        `See '${spec.usage.split(" ")[0]} ${spec.name} --help'`,
    );
  }
  if (spec.maxArgs !== undefined && args.length > spec.maxArgs) {
    throw new UsageError(
      spec.maxArgs === 0
        ? `"${spec.name}" accepts no arguments`
        : `"${spec.name}" accepts at most ${spec.maxArgs} argument${spec.maxArgs === 1 ? "" : "s"}`,
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
