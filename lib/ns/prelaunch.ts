/**
 * Early start: stage 2 started before its container's spec exists (`run` in the foreground without
 * `-i`/`-t`), so util-linux `unshare`, the id maps and Deno's start-up (~20 ms) overlap with creating the
 * container. Stage 2 reads its spec as one line from its stdin, a pipe from this process (`launch` writes
 * it); EOF instead — {@link Prelaunched.cancel}, or this process died — makes it exit quietly.
 * @module
 */

import { checkHelpers } from "./helpers_check.ts";
import type { LaunchSpec } from "./spec.ts";
import { stage2Command } from "./stage2_command.ts";
import { exitCodeOf, spawnForeground, unshareCommand } from "./unshare.ts";
import { waitUserNs, writeMaps } from "./userns.ts";

/** Namespaces and id maps: what an early stage 2 is started with (see {@link prelaunch}). */
export type PrelaunchNs = Pick<LaunchSpec, "namespaces" | "uidMap" | "gidMap">;

/** A stage 2 started ahead of its spec (see the module doc). */
export interface Prelaunched {
  /** Namespaces and maps it was started with: a launch with other ones cancels it. */
  readonly key: string;
  /** Closes its stdin unwritten (a no-op once a launch took it). */
  cancel(): void;
  /** @internal used by `launch`. */
  readonly take: () => PrelaunchParts | undefined;
}

/** What a launch takes over from an early start. */
export interface PrelaunchParts {
  specIn: WritableStreamDefaultWriter<Uint8Array>;
  child: Deno.ChildProcess;
  unsharePid: number;
  status: Promise<number>;
  exited: () => boolean;
  /** With a user namespace: its maps written (rejects when that failed; stage 2 then gets EOF). */
  ready: Promise<void>;
}

/** The {@link Prelaunched.key} of an early start with `ns`, its output piped (`logged`) or not. */
export function prelaunchKey(ns: PrelaunchNs, logged: boolean): string {
  return JSON.stringify([ns.namespaces, ns.uidMap ?? [], ns.gidMap ?? [], logged]);
}

/**
 * Starts stage 2 ahead of its spec (see {@link Prelaunched}); with a user namespace, its maps are written
 * meanwhile (`ready`). `logged`: its output is piped, for a launch with a `logPath`.
 */
export function prelaunch(ns: PrelaunchNs, logged = false): Prelaunched {
  checkHelpers({ rootless: ns.namespaces.user && Deno.uid() !== 0, detached: false });
  // with a user namespace there is no sync wait: stage 2 is exec'd at once, unmapped, its capabilities kept
  // as ambient ones, so Deno starts while the maps are written; its spec, sent once they are, lets it go on
  const cmd = unshareCommand(ns, stage2Command("-"), undefined, Deno.uid(), ns.namespaces.user);
  const child = spawnForeground(cmd, "piped", logged);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return exitCodeOf(s);
  });
  const ready = ns.namespaces.user
    ? waitUserNs(child.pid, () => exited).then(() => writeMaps(child.pid, ns))
    : Promise.resolve();
  const specIn = child.stdin.getWriter();
  ready.catch(() => specIn.close().catch(() => {})); // no maps: EOF, stage 2 exits
  let taken = false;
  return {
    key: prelaunchKey(ns, logged),
    cancel: () => {
      if (taken) return;
      taken = true;
      specIn.close().catch(() => {});
      if (logged) {
        child.stdout.cancel().catch(() => {});
        child.stderr.cancel().catch(() => {});
      }
    },
    take: () => {
      if (taken) return undefined;
      taken = true;
      return { specIn, child, unsharePid: child.pid, status, exited: () => exited, ready };
    },
  };
}
