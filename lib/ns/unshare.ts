/**
 * Stage 1's `unshare` command line and how it is started in the foreground.
 * @module
 */

import { utilLinuxMissing } from "./helpers_check.ts";
import { signalNumber } from "./signals.ts";
import type { LaunchSpec } from "./spec.ts";
import { needsKeepCaps, SYNC_SHELL, SYNC_WAIT } from "./userns.ts";

/**
 * The `unshare` command line for `spec` (with the rootless sync wait when `syncFifo` is given).
 *
 * No `--fork`: util-linux 2.38's forking parent cannot re-raise SIGKILL (`sigprocmask unblock failed`, exit 1).
 * With a pid namespace, a tiny `sh` (still in the host's pid namespace) forks stage 2 as the namespace's
 * pid 1 and `wait`s for it, which yields 128+N for a kill by signal N; stdin is passed on through fd 3
 * (a non-interactive sh gives an async list /dev/null), stderr through fd 4.
 */
export function unshareCommand(
  spec: Pick<LaunchSpec, "namespaces" | "uidMap">,
  stage2: string[],
  syncFifo?: string,
  uid = Deno.uid(),
  keepCaps = needsKeepCaps(spec.uidMap, uid),
): string[] {
  const ns = spec.namespaces;
  const cmd = ["unshare"];
  if (ns.user) cmd.push("--user");
  // stage 2 must be given capabilities through the exec when the user is not the namespace's root (keep-id),
  // or when it is exec'd before its maps are written (an early start, lib/ns/prelaunch.ts)
  if (ns.user && keepCaps) cmd.push("--keep-caps");
  cmd.push("--mount");
  if (ns.pid) cmd.push("--pid");
  if (ns.uts) cmd.push("--uts");
  if (ns.ipc) cmd.push("--ipc");
  if (ns.net) cmd.push("--net");
  cmd.push("--");
  if (!syncFifo && !ns.pid) return [...cmd, ...stage2];
  const steps = syncFifo ? [SYNC_WAIT] : [];
  // sh's own stderr → /dev/null: dash reports a job killed by a signal ("Killed"), which must not reach the log
  steps.push(ns.pid ? 'exec 3<&0 4>&2 2>/dev/null; "$@" 0<&3 2>&4 3<&- 4>&- & wait $!' : 'exec "$@"');
  return [...cmd, ...SYNC_SHELL, steps.join("; "), syncFifo ?? "sh", ...stage2];
}

/**
 * Spawns `setsid <cmd>` with the foreground container's stdio: stdout/stderr inherited, or piped when they
 * are also logged (`pumpOutput`).
 */
export function spawnForeground(
  cmd: string[],
  stdin: "inherit" | "null" | "piped",
  logged: boolean,
): Deno.ChildProcess {
  const out = logged ? "piped" : "inherit";
  try {
    return new Deno.Command("setsid", { args: cmd, stdin, stdout: out, stderr: out }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw utilLinuxMissing("setsid");
    throw e;
  }
}

/** The exit code of a child: its own, or 128+N when signal N ended it. */
export function exitCodeOf(s: Deno.CommandStatus): number {
  if (s.signal) return 128 + signalNumber(s.signal);
  return s.code;
}
