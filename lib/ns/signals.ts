/**
 * Signalling and stopping a running container from the host: its processes are found by pid namespace
 * (or, sharing the host's, by mount namespace), and with a private pid namespace killing its init ends all
 * of them.
 * @module
 */

import { pidAlive } from "../proc.ts";
import { sleepMs } from "./sleep.ts";

/** Linux numbers (x86_64/aarch64) of the signals Deno has names for. */
const NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** The number of a signal Deno names (the status of a child it ended, one to forward). */
export function signalNumber(sig: Deno.Signal): number {
  const n = NUMBERS[sig];
  if (n === undefined) throw new Error(`unknown signal ${sig}`);
  return n;
}

/** Names Deno.kill knows, by number (aliases, STKFLT and real-time signals go through `kill`). */
const NAMES: Record<number, Deno.Signal> = Object.fromEntries(
  Object.entries(NUMBERS).filter(([name]) => name !== "SIGPOLL" && name !== "SIGSTKFLT")
    .map(([name, n]) => [n, name as Deno.Signal]),
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

/** The pid of `pid` inside its own pid namespace (`NSpid`'s last field), or undefined. */
function innerPid(pid: number): number | undefined {
  try {
    const line = /^NSpid:\s*(.*)$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return line ? Number(line[1].trim().split(/\s+/).pop()) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when the container whose init is `pid` has its own pid namespace: one that is not the host's and of
 * which it is pid 1 (a container that joined another's pid namespace, `--pid container:ID`, shares it).
 */
export function hasPrivatePidNs(pid: number): boolean {
  const p = nsOf(pid, "pid");
  return p !== undefined && p !== nsOf("self", "pid") && innerPid(pid) === 1;
}

/**
 * Host pids of every process of the container whose init is `pid`, init first. With a private pid namespace:
 * the processes in it (or in a pid namespace nested in it, seen by sharing the init's mount namespace);
 * so pod's helpers (the `sh` that forked the init, an `nsenter` before it forks) are not counted. With the
 * host's pid namespace, or one joined from another container: the processes sharing the init's mount
 * namespace.
 */
export function containerProcesses(pid: number): number[] {
  const mnt = nsOf(pid, "mnt");
  const pidNs = nsOf(pid, "pid");
  if (!mnt || !pidNs) return [];
  const hostPidNs = nsOf("self", "pid");
  const privatePid = hasPrivatePidNs(pid);
  const out = [pid];
  // pods3: a pod's infra holder (lib/ns/holder.ts) stays in the host's mount namespace: never a criterion then
  if (mnt === nsOf("self", "mnt")) {
    if (!privatePid) return out;
    for (const e of Deno.readDirSync("/proc")) {
      if (/^\d+$/.test(e.name) && Number(e.name) !== pid && nsOf(Number(e.name), "pid") === pidNs) {
        out.push(Number(e.name));
      }
    }
    return out;
  }
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
export function signalContainer(pid: number, signal: Deno.Signal | number, all = false): boolean {
  const n = typeof signal === "number" ? signal : signalNumber(signal);
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
  opts: { signal?: Deno.Signal | number; timeout?: number } = {},
): Promise<{ killed: boolean }> {
  if (!pidAlive(pid)) return { killed: false };
  signalContainer(pid, opts.signal ?? "SIGTERM");
  const end = Date.now() + (opts.timeout ?? 10) * 1000;
  let delay = 2; // pods5: most containers end within ms of the signal
  while (Date.now() < end) {
    if (!pidAlive(pid)) return { killed: false };
    await sleepMs(delay); // not setTimeout: its first use loads node:timers (sleep.ts)
    delay = Math.min(delay * 2, 20);
  }
  if (!pidAlive(pid)) return { killed: false };
  signalContainer(pid, "SIGKILL", true);
  const killedAt = Date.now(), hard = killedAt + 5000;
  // pods6: a SIGKILL'd init is gone within ms (`rm -f -t 0`, `kube down`): 2 ms polls for 200 ms, then 10
  while (pidAlive(pid) && Date.now() < hard) {
    await sleepMs(Date.now() - killedAt < 200 ? 2 : 10);
  }
  return { killed: true };
}
