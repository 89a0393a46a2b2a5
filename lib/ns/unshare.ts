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
 * (a non-interactive sh gives an async list /dev/null), stderr through fd 4. With `reportPid` (a detached
 * container: its supervisor is a child subreaper, supervisor.ts) the sh does not wait: it writes the init's pid
 * to fd 4 (the supervisor's pipe, closed for the init) and exits, so no shell stays beside each container.
 */
export function unshareCommand(
  spec: Pick<LaunchSpec, "namespaces" | "uidMap" | "join" | "holder">,
  stage2: string[],
  syncFifo?: string,
  uid = Deno.uid(),
  keepCaps = needsKeepCaps(spec.uidMap, uid),
  reportPid = false,
): string[] {
  const ns = spec.namespaces;
  const join = spec.join ?? {};
  const cmd = joinPrefix(join);
  // a joined pid namespace is entered by the children of the process that joined it: the sh below forks
  // stage 2 into it, as for a new one
  const fork = forksInit(spec);
  cmd.push("unshare");
  if (ns.user && !join.user) cmd.push("--user");
  // stage 2 must be given capabilities through the exec when the user is not the namespace's root (keep-id),
  // or when it is exec'd before its maps are written (an early start, lib/ns/prelaunch.ts)
  if (ns.user && !join.user && keepCaps) cmd.push("--keep-caps");
  if (!spec.holder) cmd.push("--mount"); // pods3: a namespace holder keeps no copy of the host's mounts
  if (ns.pid) cmd.push("--pid");
  if (ns.uts) cmd.push("--uts");
  if (ns.ipc) cmd.push("--ipc");
  if (ns.net) cmd.push("--net");
  cmd.push("--");
  if (!syncFifo && !fork) return [...cmd, ...stage2];
  const steps = syncFifo ? [SYNC_WAIT] : [];
  // sh's own stderr → /dev/null: dash reports a job killed by a signal ("Killed"), which must not reach the log;
  // stdin and stderr are kept on fds 8 and 9 (dash's highest), so the caller's fds 3..7 reach stage 2
  // (`run --preserve-fds`)
  const wait = reportPid ? "4>&- & echo $! >&4" : "& wait $!";
  steps.push(fork ? `exec 8<&0 9>&2 2>/dev/null; "$@" 0<&8 2>&9 8<&- 9>&- ${wait}` : 'exec "$@"');
  return [...cmd, ...SYNC_SHELL, steps.join("; "), syncFifo ?? "sh", ...stage2];
}

/** Whether {@link unshareCommand} for `spec` forks the container's init (a new or joined pid namespace). */
export function forksInit(spec: Pick<LaunchSpec, "namespaces" | "join">): boolean {
  return spec.namespaces.pid || !!spec.join?.pid;
}

/**
 * `nsenter --user=P --net=P … --no-fork --` for the namespaces a container joins (none: nothing). nsenter
 * enters the user namespace first (so it has the capabilities to enter the others, which it owns) and then,
 * without `--preserve-credentials`, becomes its root; `--no-fork`: a joined pid namespace is entered by the
 * sh that `unshareCommand` runs (see there).
 */
export function joinPrefix(join: NonNullable<LaunchSpec["join"]>): string[] {
  const kinds = (["user", "net", "ipc", "uts", "pid"] as const).filter((k) => join[k]);
  if (!kinds.length) return [];
  return ["nsenter", ...kinds.map((k) => `--${k}=${join[k]}`), "--no-fork", "--"];
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
