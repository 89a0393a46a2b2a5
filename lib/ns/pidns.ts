/**
 * Starting a process straight into a container's pid namespace from Deno, for `exec` as root: `setns(2)` with
 * `CLONE_NEWPID` changes only the calling thread's namespace for *children* (`pid_for_children`), and is
 * allowed in a multi-threaded process, unlike joining a user or mount namespace. So this thread joins, spawns
 * (posix_spawn runs on this thread: the child is born in the container's pid namespace, and the exec helper
 * need not fork), and goes back to its own pid namespace before anything else runs.
 *
 * It needs CAP_SYS_ADMIN over the container's pid namespace and over this process's user namespace: root with
 * a container without a user namespace of its own. Elsewhere (rootless) {@link inPidNamespace} returns
 * `undefined` without spawning, and the helper joins the namespaces and forks itself.
 * @module
 */

import { PodError } from "../errors.ts";
import { bindTogether, cstr, libc, O } from "./libc.ts";
import { SPAWN_SYMBOLS } from "./spawn.ts";

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
