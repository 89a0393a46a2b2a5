/**
 * Starting an exec's helper (perl, exec_helper.ts, or nsenter) without a terminal and waiting for it while
 * forwarding pod's signals: the part of `exec` both exec.ts `execIn` and the planned fast path
 * (lib/container/exec_fast.ts) run, so the fast path loads this small module instead of exec.ts.
 *
 * The helper starts in a session of its own (terminal signals reach pod, which forwards them). As root, when
 * the container has a pid namespace but no user namespace, it is born in the container's pid namespace (the
 * `direct` command line, which does not fork), else the helper forks into it itself.
 *
 * Starting a process straight into a container's pid namespace from Deno ({@link inPidNamespace}):
 * `setns(2)` with `CLONE_NEWPID` changes only the calling thread's namespace for *children*
 * (`pid_for_children`), and is allowed in a multi-threaded process, unlike joining a user or mount namespace.
 * So this thread joins, spawns (posix_spawn runs on this thread: the child is born in the container's pid
 * namespace, and the exec helper need not fork), and goes back to its own pid namespace before anything else
 * runs. It needs CAP_SYS_ADMIN over the container's pid namespace and over this process's user namespace:
 * root with a container without a user namespace of its own. Elsewhere (rootless) it returns `undefined`
 * without spawning, and the helper joins the namespaces and forks itself.
 * @module
 */

import { PodError } from "../errors.ts";
import { bindTogether, cstr, libc, O } from "./libc.ts";
import { SPAWN_SYMBOLS, type Spawned, spawnProgram } from "./spawn.ts";

/**
 * A helper's command line without the container command's words (they come last on both perl's and
 * nsenter's), as exec.ts `helperPlan` makes it.
 */
export interface HelperPlan {
  /** The container init's host pid. */
  pid: number;
  /** The command line (argv[0] the program: looked up in PATH when it has no `/`). */
  argv: string[];
  /** As root with a pid but no user namespace to join: the command line without the pid namespace. */
  direct?: string[];
  /** The helper's whole environment (`KEY=value`). */
  env: string[];
  /** Whether `argv` forks into the pid namespace (signals then go to its child). */
  forks: boolean;
}

/** A started helper, and whether the process to signal is its child. */
export interface StartedHelper {
  /** The helper process. */
  child: Spawned;
  /** Whether it forks into the pid namespace: the process to signal is then its child. */
  forks: boolean;
}

/**
 * Starts `plan` with `args` appended (stdin inherited with `interactive`, else `/dev/null`). Returns
 * undefined when it cannot start this way (the program is not in PATH, or libc cannot `posix_spawn` a
 * session): the caller then looks for the program itself and uses `Deno.Command`.
 */
export function spawnHelper(
  plan: HelperPlan,
  args: string[],
  interactive: boolean,
): StartedHelper | undefined {
  const o = { env: plan.env, stdin: interactive, setsid: true };
  const spawn = (argv: string[]) => {
    try {
      return spawnProgram(argv[0], argv, o);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      return undefined;
    }
  };
  if (plan.direct) {
    const child = inPidNamespace(plan.pid, () => spawn([...plan.direct!, ...args]));
    if (child) return { child, forks: false };
  }
  const child = spawn([...plan.argv, ...args]);
  return child && { child, forks: plan.forks };
}

const arm = Deno.build.arch === "aarch64";
const SYS_setns = arm ? 268 : 308;
const SYS_openat = arm ? 56 : 257;
const SYS_close = arm ? 57 : 3;
const AT_FDCWD = -100n;
const CLONE_NEWPID = 0x20000000;

/** Through `syscall`, the one symbol this module binds besides the spawn's (each bound symbol costs start-up). */
function sys(nr: number, a = 0n, b = 0n, c = 0n): number {
  return Number(libc().syscall(BigInt(nr), a, b, c, 0n, 0n));
}

function openNs(path: string): number {
  const p = cstr(path);
  const ptr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(p)));
  return sys(SYS_openat, AT_FDCWD, ptr, BigInt(O.RDONLY | O.CLOEXEC));
}

function closeFd(fd: number): void {
  sys(SYS_close, BigInt(fd));
}

function setns(fd: number): boolean {
  return sys(SYS_setns, BigInt(fd), BigInt(CLONE_NEWPID)) === 0;
}

/**
 * Runs `spawn` (which must start its process synchronously on this thread) with children of this thread
 * created in the pid namespace of host pid `pid`, then restores this thread's own. Returns `undefined`
 * (and does not call `spawn`) when the namespace cannot be joined (not root, a user namespace of its own, the
 * container gone); throws when the thread's own namespace could not be restored (nothing may be spawned
 * after that).
 */
export function inPidNamespace<T>(pid: number, spawn: () => T): T | undefined {
  if (Deno.uid() !== 0) return undefined;
  bindTogether(["syscall", ...SPAWN_SYMBOLS]);
  const own = openNs("/proc/thread-self/ns/pid");
  if (own < 0) return undefined;
  const target = openNs(`/proc/${pid}/ns/pid`);
  const joined = target >= 0 && setns(target);
  let out: T | undefined, failure: unknown, failed = false;
  if (joined) {
    try {
      out = spawn();
    } catch (e) {
      failed = true;
      failure = e;
    }
  }
  const back = !joined || setns(own);
  if (target >= 0) closeFd(target);
  closeFd(own);
  if (!back) throw new PodError("setns: cannot return to this process's own pid namespace");
  if (failed) throw failure;
  return out;
}

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/**
 * Forwards a signal to the exec'd process: the helper's child when the helper forks into the pid namespace
 * (`forks`; the helper itself before it has forked), else the process started (the helper became it).
 */
function forwardTo(helperPid: number, forks: boolean, sig: Deno.Signal): void {
  let target = helperPid;
  if (forks) {
    try {
      const kids = Deno.readTextFileSync(`/proc/${helperPid}/task/${helperPid}/children`).trim().split(/\s+/);
      if (kids[0]) target = Number(kids[0]);
    } catch { /* gone */ }
  }
  // loaded on the first signal: signals.ts is off the hot path
  import("./signals.ts").then(({ sendSignal, signalNumber }) => sendSignal(target, signalNumber(sig)))
    .catch(() => {});
}

/**
 * Waits for `h` while forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to its process (and
 * running `extra` listeners, e.g. a pty's SIGWINCH); resolves with its exit code (128+N for signal N).
 */
export async function waitForwarding(
  h: StartedHelper,
  extra: [Deno.Signal, () => void][] = [],
): Promise<number> {
  const listeners: [Deno.Signal, () => void][] = [
    ...FORWARDED.map((s): [Deno.Signal, () => void] => [s, () => forwardTo(h.child.pid, h.forks, s)]),
    ...extra,
  ];
  for (const [s, f] of listeners) Deno.addSignalListener(s, f);
  try {
    return await h.child.status;
  } finally {
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
  }
}
