/**
 * `pod exec` on its own, for the one-file build: scripts/bundle.ts bundles this module (and what it imports)
 * apart, and `dist/pod.js` sends `pod exec …` (the command first, no global flags) to it, so an exec loads one
 * file instead of cli.ts's chunks plus the exec command's, each shared with other commands. It behaves as
 * `cli.ts exec` does: `--help`, typed flags, `Error: …` with its hint, podman's exit codes. (cli.ts's own
 * `exec` goes through the command table as any command.)
 * @module
 */

import { PodError } from "../errors.ts";
import { helpText, parseArgs } from "./flags.ts";
import execCommand from "./commands/exec.ts";
import { storeRoot } from "../store/paths.ts";

/** Where lib/cli/output.ts, once loaded, leaves its `flushOutput` (as cli.ts reads it). */
const FLUSH_OUTPUT = Symbol.for("pod.cli.flushOutput");

async function run(args: string[]): Promise<number> {
  const spec = execCommand.spec;
  // `--help` only among pod's own flags, not in the container's command line
  const cut = args.findIndex((w) => !w.startsWith("-"));
  const ours = cut < 0 ? args : args.slice(0, cut);
  if (ours.includes("--help") || ours.includes("-h") && !spec.flags.some((f) => f.short === "h")) {
    (await import("./output.ts")).out(helpText(spec));
    return 0;
  }
  const code = await execCommand.run(parseArgs(spec, args), {
    root: storeRoot(undefined, undefined),
    argv0: Deno.env.get("POD_ARGV0") || "pod",
  });
  await (globalThis as { [FLUSH_OUTPUT]?: () => Promise<void> })[FLUSH_OUTPUT]?.();
  return code;
}

/** Runs `pod exec args…` (the words after `exec`) and exits with its code. */
export async function execMain(args: string[]): Promise<never> {
  let code: number;
  try {
    code = await run(args);
  } catch (err) {
    try {
      (await import("./output.ts")).printError(err);
    } catch { /* stderr closed */ }
    code = err instanceof PodError ? err.exitCode : 125;
  }
  Deno.exit(code);
}
