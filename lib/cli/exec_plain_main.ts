/**
 * `pod exec CONTAINER COMMAND…` without options, before anything else of the CLI loads: cli.ts tries it first,
 * and in the one-file build scripts/bundle.ts bundles this module and what it imports into one file
 * (`dist/exec_plain.js`, no chunks), which `dist/pod.js` tries first. It
 * runs the exec from the container's plan (lib/container/exec_fast.ts) and exits with the command's code;
 * when there is no valid plan, or the words are anything but a container and a command (an option, no
 * command), it returns false having started nothing, and `pod.js` runs the exec bundle (lib/cli/exec_main.ts)
 * as before, which reports errors, prints help and makes the plan.
 * @module
 */

import { execPlanned } from "../container/exec_fast.ts";
import { storeRoot } from "../store/paths.ts";

/**
 * Runs `pod exec args…` (the words after `exec`) from the plan of a container in store `root` and exits;
 * false when it cannot. cli.ts calls it too, before loading its command table.
 */
export async function execPlain(args: string[], root = storeRoot(undefined, undefined)): Promise<boolean> {
  if (args.length < 2 || args[0].startsWith("-")) return false;
  let code: number | undefined;
  try {
    // with the compiled helper this process becomes it (the handoff) and this does not return
    code = await execPlanned(root, args[0], args.slice(1), false, true);
  } catch {
    return false; // nothing started (execPlanned throws only before the helper runs): the full way
  }
  if (code === undefined) return false;
  Deno.exit(code);
}
