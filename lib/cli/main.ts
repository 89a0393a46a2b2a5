/**
 * The whole command line of pod (cli.ts loads it for everything but a plain `exec CONTAINER COMMAND…`, which it
 * tries first): global options, the command table (lib/cli/registry.ts, each command loaded lazily, so
 * `pod ps` loads only what it uses; lib/cli/output.ts too: help and errors load it when they print), the flag
 * parser, help. A plain `exec` that cli.ts could not run from the container's plan (a global option other
 * than `--root` before it) is tried here again, before the command table and the flag parser load
 * (lib/cli/exec_plain_main.ts).
 * Every error ends as `Error: <message>` on stderr, its hint on the next line (`See 'pod run --help'`),
 * and podman's exit code.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import type { Command } from "./flags.ts";
import { debug, setLogLevel, traceTime, warn } from "../log.ts";
import { storeRoot } from "../store/paths.ts";

async function out(s: string): Promise<void> {
  (await import("./output.ts")).out(s);
}

const TOP_HINT = "See 'pod --help'";

/** Where lib/cli/output.ts, once loaded, leaves its `flushOutput` (so this file need not load it). */
const FLUSH_OUTPUT = Symbol.for("pod.cli.flushOutput");

/** The name pod was called by: argv[0]'s basename (`lilipod` symlink), or `POD_ARGV0`, else `pod`. */
function programName(): string {
  const env = Deno.env.get("POD_ARGV0");
  if (env) return env;
  try {
    const first = Deno.readTextFileSync("/proc/self/cmdline").split("\0")[0];
    const base = first.slice(first.lastIndexOf("/") + 1);
    if (base && base !== "deno") return base;
  } catch { /* no /proc */ }
  return "pod";
}

/** The command table and the flag parser: loaded after a planned plain `exec` had its chance (see main). */
const cliModules = () => Promise.all([import("./registry.ts"), import("./flags.ts")]);

async function topHelp(): Promise<string> {
  const [{ commands, groups, loadCommand }] = await cliModules();
  const rows: [string, string][] = [];
  for (const [name, load] of Object.entries(commands)) {
    try {
      rows.push([name, (await loadCommand(load)).spec.summary]);
    } catch { /* a command not built yet */ }
  }
  for (const [name, g] of Object.entries(groups)) rows.push([name, g.summary]);
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const w = Math.max(...rows.map((r) => r[0].length)) + 3;
  return [
    "Manage containers and images",
    "",
    "Usage:",
    "  pod [options] [command]",
    "",
    "Available Commands:",
    ...rows.map(([n, s]) => `  ${n.padEnd(w)}${s}`),
    "",
    "Options:",
    "      --cgroup-manager string   cgroup manager (cgroupfs, systemd)",
    '      --events-backend string   events backend (file, journald (as file), none) (default "file")',
    "  -h, --help                    help for pod",
    "      --log-level string        log messages above specified level (trace, debug, info, warn, warning, error, " +
    'fatal, panic) (default "warn")',
    "      --noout                   do not output to stdout",
    "      --out string              send output (stdout) from pod to a file",
    "      --root string             path to the store (default $POD_HOME, $XDG_DATA_HOME/pod or ~/.local/share/pod)",
    "      --runroot string          accepted for podman compatibility (pod keeps its state in the store)",
    "      --runtime string          OCI runtime name or path (accepted and recorded; pod runs containers itself)",
    "      --storage-driver string   storage driver (overlay, vfs)",
    "      --storage-opt strings     accepted for podman compatibility (no effect)",
    "      --tmpdir string           accepted for podman compatibility (no effect)",
    "  -v, --version                 version for pod",
    "",
    'Use "pod [command] --help" for more information about a command.',
    "",
  ].join("\n");
}

/** Resolves argv to a command module and its own words. */
async function resolveCommand(argv: string[]): Promise<{ cmd: Command; rest: string[] } | undefined> {
  const [{ aliases, commands, groups, loadCommand }] = await cliModules();
  let name = argv[0];
  let rest = argv.slice(1);
  if (groups[name]) {
    const g = groups[name];
    const sub = rest[0];
    if (!sub || sub === "--help" || sub === "-h" || sub === "help") {
      const { collectCommands, groupHelp } = await import("./docs.ts");
      const all = await collectCommands({ commands, groups: { [name]: g } });
      await out(groupHelp(all.groups[0]));
      return undefined;
    }
    const target = g.sub[sub];
    if (!target) {
      throw new UsageError(
        `unrecognized command \`pod ${name} ${sub}\``,
        `Try 'pod ${name} --help' for more information`,
      );
    }
    rest = rest.slice(1);
    if (typeof target !== "string") return { cmd: await loadCommand(target), rest };
    name = target;
  }
  name = aliases[name] ?? name;
  const load = commands[name];
  if (!load) {
    throw new UsageError(`unrecognized command \`pod ${name}\``, "Try 'pod --help' for more information");
  }
  return { cmd: await loadCommand(load), rest };
}

/**
 * podman's global flags that take a value and what pod does with them: `root`/`runtime` are used, `set` ones
 * set an environment variable the rest of pod reads, `accepted` ones have no equivalent in pod (a debug note),
 * `remote` ones are refused: pod is daemonless.
 */
const GLOBAL_VALUE_FLAGS: Record<
  string,
  "root" | "runtime" | "log-level" | "set" | "accepted" | "remote" | "out"
> = {
  "--root": "root",
  "--runtime": "runtime",
  "--log-level": "log-level",
  "--storage-driver": "set",
  "--events-backend": "set",
  "--cgroup-manager": "set",
  "--runroot": "accepted",
  "--storage-opt": "accepted",
  "--tmpdir": "accepted",
  "--conmon": "accepted",
  "--hooks-dir": "accepted",
  "--network-cmd-path": "accepted",
  "--network-config-dir": "accepted",
  "--namespace": "accepted",
  "--runtime-flag": "accepted",
  "--volumepath": "accepted",
  "--module": "accepted",
  "--ssh": "accepted",
  "--out": "out",
  "--url": "remote",
  "--connection": "remote",
  "-c": "remote",
  "--identity": "remote",
  "-H": "remote",
  "--host": "remote",
};

/** podman's log levels, as pod's four. */
const LOG_LEVELS: Record<string, string> = {
  trace: "debug",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
  fatal: "error",
  panic: "error",
};

/** Applies a `set` global flag (validated as podman validates it). */
function setGlobal(flag: string, v: string): void {
  switch (flag) {
    case "--storage-driver":
      if (v !== "overlay" && v !== "vfs") {
        throw new UsageError(`unsupported storage driver "${v}": pod has overlay and vfs`, TOP_HINT);
      }
      Deno.env.set("POD_STORAGE_DRIVER", v);
      return;
    case "--events-backend":
      if (v === "journald") {
        warn("the journald events backend is not supported by pod: events go to the file backend");
        v = "file";
      }
      if (v !== "file" && v !== "none") {
        throw new UsageError(`invalid events backend "${v}": use file, journald or none`, TOP_HINT);
      }
      Deno.env.set("POD_EVENTS_BACKEND", v);
      return;
    case "--cgroup-manager":
      if (v !== "cgroupfs" && v !== "systemd") {
        throw new UsageError(`invalid cgroup manager "${v}": use cgroupfs or systemd`, TOP_HINT);
      }
      Deno.env.set("POD_CGROUP_MANAGER", v);
      return;
  }
}

/** Where lib/cli/output.ts sends stdout when `--out FILE`/`--noout` asked for it elsewhere. */
const STDOUT_FILE = Symbol.for("pod.cli.stdoutFile");

async function main(argv: string[]): Promise<number> {
  let root: string | undefined;
  let runtime: string | undefined;
  // global options before the command
  while (argv.length && argv[0].startsWith("-")) {
    const a = argv.shift()!;
    if (a === "--help" || a === "-h") {
      await out(await topHelp());
      return 0;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const kind = GLOBAL_VALUE_FLAGS[name];
    if (kind) {
      const v = eq > 0 ? a.slice(eq + 1) : argv.shift();
      if (v === undefined || (eq < 0 && v === "" && kind !== "accepted")) {
        throw new UsageError(`flag needs an argument: ${name}`, TOP_HINT);
      }
      if (kind === "root") {
        if (!v) throw new UsageError("flag needs an argument: --root", TOP_HINT);
        root = v;
      } else if (kind === "runtime") {
        if (!v) throw new UsageError("flag needs an argument: --runtime", TOP_HINT);
        runtime = v;
      } else if (kind === "log-level") {
        const l = LOG_LEVELS[v];
        if (!l) {
          throw new UsageError(
            `log level "${v}" is not supported: use trace, debug, info, warn, warning, error, fatal or panic`,
            TOP_HINT,
          );
        }
        setLogLevel(l);
      } else if (kind === "set") setGlobal(name, v);
      else if (kind === "out") {
        (globalThis as Record<symbol, unknown>)[STDOUT_FILE] = Deno.openSync(v, {
          write: true,
          create: true,
          truncate: true,
        });
      } else if (kind === "remote") {
        throw new PodError(
          `${name}: remote connections are not supported: pod is daemonless and works on the local store only`,
        );
      } else debug(`${name} ${v}: accepted for podman compatibility, no effect in pod`);
      continue;
    }
    if (a === "--version" || a === "-v") argv.unshift("version");
    else if (a === "--debug" || a === "-D") setLogLevel("debug");
    else if (a === "--noout") {
      (globalThis as Record<symbol, unknown>)[STDOUT_FILE] = Deno.openSync("/dev/null", { write: true });
    } else if (a === "--remote" || a === "-r" || a.startsWith("--remote=")) {
      if (a !== "--remote=false") {
        throw new PodError(
          "--remote: remote connections are not supported: pod is daemonless and works on the local store only",
        );
      }
    } else if (a === "--syslog" || a.startsWith("--syslog=")) debug("--syslog: no effect in pod");
    else throw new UsageError(`unknown flag: ${a}`, TOP_HINT);
  }
  if (argv.length === 0) {
    await out(await topHelp());
    return 0;
  }
  if (argv[0] === "__stage2") {
    const m = await import("../stage2.ts");
    return await m.stage2Main(argv[1]);
  }
  if (argv[0] === "help") {
    if (argv.length === 1) {
      await out(await topHelp());
      return 0;
    }
    argv = [...argv.slice(1), "--help"];
  }
  if (argv[0] === "exec") {
    // `exec CONTAINER COMMAND…` from the container's plan, before the command table and flag parser load; it
    // exits when it ran, else (nothing started) the exec command below does it all
    await (await import("./exec_plain_main.ts")).execPlain(argv.slice(1), storeRoot(undefined, root), debug);
  }
  const found = await resolveCommand(argv);
  if (!found) return 0;
  const { cmd, rest } = found;
  const { helpText, parseArgs } = await import("./flags.ts");
  if (rest.includes("--help") || rest.includes("-h")) {
    // only when it is a flag of pod's, not part of a container's command line
    const cut = cmd.spec.stopAtFirstArg ? rest.findIndex((w) => !w.startsWith("-")) : -1;
    const ours = cut < 0 ? rest : rest.slice(0, cut);
    if (ours.includes("--help") || ours.includes("-h") && !cmd.spec.flags.some((f) => f.short === "h")) {
      await out(helpText(cmd.spec));
      return 0;
    }
  }
  const parsed = parseArgs(cmd.spec, rest);
  // argv[0] only when a command asks (create/kube): reading /proc/self/cmdline is not free on the exec path
  let argv0: string | undefined;
  const g = {
    root: storeRoot(undefined, root),
    get argv0() {
      return argv0 ??= programName();
    },
    runtime,
  };
  traceTime("cli: command parsed");
  const code = await cmd.run(parsed, g);
  traceTime("cli: command done");
  // a `--format` template still rendering (loaded on demand) is written before the exit
  await (globalThis as { [FLUSH_OUTPUT]?: () => Promise<void> })[FLUSH_OUTPUT]?.();
  return code;
}

/**
 * Runs pod with `argv` (the words after `pod`) and exits with podman's exit code: the whole CLI, which cli.ts
 * loads for anything but a plain `exec`. Every error ends as one `Error: <message>` line on stderr.
 */
export async function cliMain(argv: string[]): Promise<never> {
  traceTime("cli: static imports loaded");
  let code: number;
  try {
    code = await main(argv);
  } catch (err) {
    try {
      (await import("./output.ts")).printError(err);
    } catch { /* stderr closed */ }
    code = err instanceof PodError ? err.exitCode : 125;
  }
  traceTime("cli: exit");
  Deno.exit(code);
}
