/**
 * pod's command-line entry: `deno run -A cli.ts <command> [options] [args]`.
 *
 * Global options come before the command. The command module is imported lazily, so `pod exec`
 * or `pod ps` load only what they use. Every error ends as one line on stderr and podman's exit code.
 * @module
 */

import { describeError, PodError } from "./lib/errors.ts";
import { helpText, parseArgs } from "./lib/cli/flags.ts";
import type { CommandModule } from "./lib/cli/registry.ts";
import { aliases, commands, groups } from "./lib/cli/registry.ts";
import { isDebug, setLogLevel } from "./lib/log.ts";
import { storeRoot } from "./lib/store/paths.ts";

const enc = new TextEncoder();

function out(s: string): void {
  Deno.stdout.writeSync(enc.encode(s));
}

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

async function topHelp(): Promise<string> {
  const rows: [string, string][] = [];
  for (const [name, load] of Object.entries(commands)) {
    try {
      rows.push([name, (await load()).spec.summary]);
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
    "  -h, --help               help for pod",
    '      --log-level string   log messages above specified level (debug, info, warn, error) (default "warn")',
    "      --root string        path to the store (default $POD_HOME, $XDG_DATA_HOME/pod or ~/.local/share/pod)",
    "  -v, --version            version for pod",
    "",
    'Use "pod [command] --help" for more information about a command.',
    "",
  ].join("\n");
}

/** Resolves argv to a command module and its own words. */
async function resolveCommand(argv: string[]): Promise<{ mod: CommandModule; rest: string[] } | undefined> {
  let name = argv[0];
  let rest = argv.slice(1);
  if (groups[name]) {
    const g = groups[name];
    const sub = rest[0];
    if (!sub || sub === "--help" || sub === "-h" || sub === "help") {
      const names = Object.keys(g.sub).sort();
      out(
        `${g.summary}\n\nUsage:\n  pod ${name} [command]\n\nAvailable Commands:\n${
          names.map((n) => `  ${n}`).join("\n")
        }\n`,
      );
      return undefined;
    }
    const target = g.sub[sub];
    if (!target) throw new PodError(`unrecognized command \`pod ${name} ${sub}\``);
    rest = rest.slice(1);
    if (typeof target !== "string") return { mod: await target(), rest };
    name = target;
  }
  name = aliases[name] ?? name;
  const load = commands[name];
  if (!load) {
    throw new PodError(`unrecognized command \`pod ${name}\`\nTry 'pod --help' for more information`);
  }
  return { mod: await load(), rest };
}

async function main(argv: string[]): Promise<number> {
  let root: string | undefined;
  // global options before the command
  while (argv.length && argv[0].startsWith("-")) {
    const a = argv.shift()!;
    if (a === "--help" || a === "-h") {
      out(await topHelp());
      return 0;
    }
    if (a === "--version" || a === "-v") argv.unshift("version");
    else if (a === "--log-level" || a.startsWith("--log-level=")) {
      setLogLevel(a.includes("=") ? a.slice(a.indexOf("=") + 1) : (argv.shift() ?? ""));
    } else if (a === "--root" || a.startsWith("--root=")) {
      root = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv.shift();
      if (!root) throw new PodError("flag needs an argument: --root");
    } else if (a === "--debug" || a === "-D") setLogLevel("debug");
    else throw new PodError(`unknown flag: ${a}\nSee 'pod --help'`);
  }
  if (argv.length === 0) {
    out(await topHelp());
    return 0;
  }
  if (argv[0] === "__stage2") {
    const m = await import("./lib/stage2.ts");
    return await m.stage2Main(argv[1]);
  }
  if (argv[0] === "help") {
    if (argv.length === 1) {
      out(await topHelp());
      return 0;
    }
    argv = [...argv.slice(1), "--help"];
  }
  const found = await resolveCommand(argv);
  if (!found) return 0;
  const { mod, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    // only when it is a flag of pod's, not part of a container's command line
    const cut = mod.spec.stopAtFirstArg ? rest.findIndex((w) => !w.startsWith("-")) : -1;
    const ours = cut < 0 ? rest : rest.slice(0, cut);
    if (ours.includes("--help") || ours.includes("-h") && !mod.spec.flags.some((f) => f.short === "h")) {
      out(helpText(mod.spec));
      return 0;
    }
  }
  const parsed = parseArgs(mod.spec, rest);
  return await mod.run(parsed, { root: storeRoot(undefined, root), argv0: programName() });
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args.slice());
  } catch (err) {
    const msg = describeError(err);
    const line = (err instanceof PodError ? err.message : msg).split("\n")[0];
    try {
      Deno.stderr.writeSync(enc.encode(`Error: ${line}\n`));
      if (isDebug() && err instanceof Error && err.stack) Deno.stderr.writeSync(enc.encode(err.stack + "\n"));
    } catch { /* stderr closed */ }
    code = err instanceof PodError ? err.exitCode : 125;
  }
  Deno.exit(code);
}
