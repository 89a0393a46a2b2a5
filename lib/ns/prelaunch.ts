/**
 * Early start: stage 2 started before its container's spec exists (`run` in the foreground without
 * `-i`/`-t`), so util-linux `unshare`, the id maps and Deno's start-up (~20 ms) overlap with creating the
 * container. Stage 2 reads its spec as one line from its stdin, a pipe from this process (`launch` writes
 * it); EOF instead — {@link Prelaunched.cancel}, or this process died — makes it exit quietly.
 * @module
 */

import { mkfifo } from "./fs.ts";
import { checkHelpers } from "./helpers_check.ts";
import { sendSignal } from "./signals.ts";
import type { LaunchSpec } from "./spec.ts";
import { stage2Command } from "./stage2_command.ts";
import { exitCodeOf, spawnForeground, unshareCommand } from "./unshare.ts";
import { mapAndRelease } from "./userns.ts";

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
  /** Rootless: the maps written and stage 2 let go (rejects when that failed). */
  ready: Promise<void>;
}

/** The {@link Prelaunched.key} of an early start with `ns`, its output piped (`logged`) or not. */
export function prelaunchKey(ns: PrelaunchNs, logged: boolean): string {
  return JSON.stringify([ns.namespaces, ns.uidMap ?? [], ns.gidMap ?? [], logged]);
}

/**
 * Starts stage 2 ahead of its spec (see {@link Prelaunched}); rootless, `dir` (a fresh temp dir, removed once
 * the maps are written) holds the sync fifo. `logged`: its output is piped, for a launch with a `logPath`.
 */
export function prelaunch(ns: PrelaunchNs, dir: string, logged = false): Prelaunched {
  checkHelpers({ rootless: ns.namespaces.user && Deno.uid() !== 0, detached: false });
  const syncFifo = ns.namespaces.user ? `${dir}/sync.fifo` : undefined;
  if (syncFifo) {
    Deno.mkdirSync(dir, { mode: 0o700 });
    mkfifo(syncFifo, 0o600);
  }
  const removeDir = () => {
    if (!syncFifo) return;
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone */ }
  };
  let child: Deno.ChildProcess;
  try {
    child = spawnForeground(unshareCommand(ns, stage2Command("-"), syncFifo), "piped", logged);
  } catch (e) {
    removeDir();
    throw e;
  }
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return exitCodeOf(s);
  });
  const ready = syncFifo ? mapAndRelease(child.pid, ns, syncFifo, status, () => exited) : Promise.resolve();
  ready.then(removeDir, removeDir);
  const specIn = child.stdin.getWriter();
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
      if (syncFifo && !exited) sendSignal(child.pid, 9); // maybe still waiting for its maps
      removeDir();
    },
    take: () => {
      if (taken) return undefined;
      taken = true;
      return { specIn, child, unsharePid: child.pid, status, exited: () => exited, ready };
    },
  };
}
