/**
 * `pod exec CONTAINER COMMAND…` without options, before anything else of the CLI loads: cli.ts tries it first
 * (lib/cli/main.ts again, after global options other than `--root`), and in the one-file build scripts/bundle.ts
 * bundles this module and what it imports into one file (`dist/exec_plain.js`, no chunks), which
 * `dist/pod.js` tries first. It hands this process over to the compiled helper the container's plan names
 * (lib/container/exec_fast.ts); when there is no such plan, or the words are anything but a container and a
 * command (an option, no command), it returns false having started nothing, and the full way runs it
 * (lib/cli/commands/exec.ts; lib/cli/exec_main.ts in the bundle), which reports errors, prints help and makes
 * the plan. It imports exec_fast.ts only (from the checkout each module costs ~0.5 ms).
 * @module
 */

import { handOverPlanned } from "../container/exec_fast.ts";

/**
 * The store root as lib/store/paths.ts `storeRoot(undefined, explicit)` finds it (written out here so the plain
 * exec need not load that module; tests/unit/exec_plain_root_test.ts holds the two equal): `explicit`
 * (`--root`), else `$POD_HOME`, `$XDG_DATA_HOME/pod`, `~/.local/share/pod`, made absolute.
 */
export function plainStoreRoot(explicit?: string): string {
  const env = (k: string) => Deno.env.get(k);
  const xdg = env("XDG_DATA_HOME");
  const home = env("HOME");
  const p = explicit || env("POD_HOME") || (xdg ? `${xdg}/pod` : home ? `${home}/.local/share/pod` : "");
  if (!p) throw new Error("cannot find the store: set POD_HOME or HOME");
  const abs = p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  return abs.length > 1 ? abs.replace(/\/+$/, "") : abs;
}

/**
 * Runs `pod exec args…` (the words after `exec`) from the plan of a container in store `root`: with a plan of
 * the compiled helper this process becomes the helper (the handoff) and this never returns. Else it returns
 * false having started nothing, and the full way runs the exec (the spawn way of a perl plan or of
 * `POD_EXEC_HANDOFF=0` too: it is not in this module, so the one-file bundle holds only the handoff). `note`
 * gets the debug notes (lib/log.ts `debug`, loaded here only with `POD_DEBUG`).
 */
export async function execPlain(
  args: string[],
  root?: string,
  note?: (msg: string) => void,
): Promise<false> {
  if (args.length < 2 || args[0].startsWith("-")) return false;
  try {
    root ??= plainStoreRoot();
    note ??= Deno.env.get("POD_DEBUG") ? (await import("../log.ts")).debug : undefined;
    handOverPlanned(root, args[0], args.slice(1), note);
  } catch { /* nothing started (only the handoff's execve starts anything): the full way */ }
  return false;
}
