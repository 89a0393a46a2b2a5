/**
 * Signalling and stopping a running container from the host: its processes are found by pid namespace
 * (or, sharing the host's, by mount namespace), and with a private pid namespace killing its init ends all
 * of them.
 * @module
 */

import { parseSignal, SIGNALS } from "../oci/signals.ts";
import { pidAlive } from "../proc.ts";

/** The number of a signal given as `TERM`, `SIGTERM`, `term` or `15`; throws a PodError when unknown. */
export function signalNumber(sig: string | number): number {
  return typeof sig === "number" ? sig : parseSignal(sig);
}

/** Names Deno.kill knows, by number (aliases, STKFLT and real-time signals go through `kill`). */
const NAMES: Record<number, Deno.Signal> = Object.fromEntries(
  Object.entries(SIGNALS).filter(([n, v]) => v < 32 && !["IOT", "POLL", "CLD", "STKFLT"].includes(n))
    .map(([n, v]) => [v, `SIG${n}` as Deno.Signal]),
);

/** Sends signal number `n` to `pid` (raw numbers Deno has no name for go through `kill`). */
export function sendSignal(pid: number, n: number): boolean {
  try {
    const name = NAMES[n];
    if (name) Deno.kill(pid, name);
    else new Deno.Command("kill", { args: [`-${n}`, String(pid)], stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

function nsOf(pid: number | "self", ns: string): string | undefined {
  try {
    return Deno.readLinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
}

/** True when the container whose init is `pid` has its own pid namespace. */
export function hasPrivatePidNs(pid: number): boolean {
  const p = nsOf(pid, "pid");
  return p !== undefined && p !== nsOf("self", "pid");
}

/**
 * Host pids of every process of the container whose init is `pid`, init first. With a private pid namespace:
 * the processes in it (or in a pid namespace nested in it, seen by sharing the init's mount namespace);
 * so pod's helpers (the `sh` that forked the init, an `nsenter` before it forks) are not counted. With the
 * host's pid namespace: the processes sharing the init's mount namespace.
 */
export function containerProcesses(pid: number): number[] {
  const mnt = nsOf(pid, "mnt");
  const pidNs = nsOf(pid, "pid");
  if (!mnt || !pidNs) return [];
  const hostPidNs = nsOf("self", "pid");
  const privatePid = pidNs !== hostPidNs;
  const out = [pid];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const p = Number(e.name);
    if (p === pid) continue;
    const pns = nsOf(p, "pid");
    if (pns === undefined) continue;
    if (
      privatePid ? pns === pidNs || (pns !== hostPidNs && nsOf(p, "mnt") === mnt) : nsOf(p, "mnt") === mnt
    ) {
      out.push(p);
    }
  }
  return out;
}

/**
 * Signals the container: its init, or every process when `all` or when the container shares the host's
 * pid namespace (nothing would forward it). Returns false when the container is gone.
 */
export function signalContainer(pid: number, signal: string | number, all = false): boolean {
  const n = signalNumber(signal);
  if (!all && hasPrivatePidNs(pid)) return sendSignal(pid, n);
  const procs = containerProcesses(pid);
  let any = false;
  for (const p of procs) any = sendSignal(p, n) || any;
  return any;
}

/**
 * Stops the container: `signal` (default SIGTERM), then SIGKILL to all its processes after `timeout`
 * seconds (default 10). Resolves to whether SIGKILL was needed.
 */
export async function stopContainer(
  pid: number,
  opts: { signal?: string | number; timeout?: number } = {},
): Promise<{ killed: boolean }> {
  if (!pidAlive(pid)) return { killed: false };
  signalContainer(pid, opts.signal ?? "TERM");
  const end = Date.now() + (opts.timeout ?? 10) * 1000;
  while (Date.now() < end) {
    if (!pidAlive(pid)) return { killed: false };
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!pidAlive(pid)) return { killed: false };
  signalContainer(pid, "KILL", true);
  const hard = Date.now() + 5000;
  while (pidAlive(pid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 10));
  return { killed: true };
}
