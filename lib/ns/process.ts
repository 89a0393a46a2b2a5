/**
 * The libc calls stage 2 makes on its own process before it becomes the container's command: hostname,
 * loopback, ids and capabilities, descriptors, terminal, signal dispositions and finally `execve`.
 * Each throws a `SysError` (libc.ts) when the call fails.
 * @module
 */

import { check, cstr, cstrArray, Errno, errno, libc, O, open, ptr, SysError } from "./libc.ts";
import { RLIMITS } from "./spec.ts";

const enc = new TextEncoder();

/** `sethostname(2)`. */
export function sethostname(name: string): void {
  const b = enc.encode(name);
  check(libc().sethostname(b, BigInt(b.length)), "sethostname", name);
}

/** `setgroups`, `setresgid`, `setresuid` (glibc's, which apply to every thread). */
export function setIds(uid: number, gid: number, groups: number[] | null): void {
  if (groups) { // null: keep the supplementary groups (`--group-add keep-groups`)
    const g = new Uint32Array(groups.length || 1);
    g.set(groups);
    check(libc().setgroups(BigInt(groups.length), new Uint8Array(g.buffer)), "setgroups", groups.join(","));
  }
  check(libc().setresgid(gid, gid, gid), "setresgid", String(gid));
  check(libc().setresuid(uid, uid, uid), "setresuid", String(uid));
}

/** Drops capability `cap` from the bounding set (`PR_CAPBSET_DROP`); EINVAL (unknown cap) is ignored. */
export function dropBoundingCap(cap: number): void {
  const r = libc().prctl(24, /* PR_CAPBSET_DROP */ BigInt(cap), 0n, 0n, 0n);
  if (r < 0 && errno() !== Errno.EINVAL) throw new SysError("PR_CAPBSET_DROP", errno(), String(cap));
}

const SYS_capget = Deno.build.arch === "aarch64" ? 90 : 125;
const SYS_capset = Deno.build.arch === "aarch64" ? 91 : 126;

/**
 * Empties the calling thread's inheritable and ambient capability sets (`capset`, `PR_CAP_AMBIENT_CLEAR_ALL`),
 * so only the bounding set and the uid rules decide what an exec'd program gets.
 */
export function clearInheritableCaps(): void {
  const header = new Uint32Array([0x20080522, /* _LINUX_CAPABILITY_VERSION_3 */ 0]);
  const data = new Uint32Array(6); // 2 × { effective, permitted, inheritable }
  const h = new Uint8Array(header.buffer), d = new Uint8Array(data.buffer);
  check(libc().syscall(BigInt(SYS_capget), ptr(h), ptr(d), 0n, 0n, 0n), "capget");
  data[2] = data[5] = 0;
  check(libc().syscall(BigInt(SYS_capset), ptr(h), ptr(d), 0n, 0n, 0n), "capset");
  const r = libc().prctl(47, /* PR_CAP_AMBIENT */ 4n, /* PR_CAP_AMBIENT_CLEAR_ALL */ 0n, 0n, 0n);
  if (r < 0 && errno() !== Errno.EINVAL) throw new SysError("PR_CAP_AMBIENT_CLEAR_ALL", errno());
}

/** `PR_SET_NO_NEW_PRIVS`: setuid bits and file capabilities grant nothing after `execve`. */
export function setNoNewPrivs(): void {
  check(libc().prctl(38, /* PR_SET_NO_NEW_PRIVS */ 1n, 0n, 0n, 0n), "PR_SET_NO_NEW_PRIVS");
}

const SYS_prlimit64 = Deno.build.arch === "aarch64" ? 261 : 302;

/** Sets the resource limit `name` (`nofile`…) of this process with `prlimit64`; -1 = unlimited. */
export function setRlimit(name: string, soft: number, hard: number): void {
  const res = RLIMITS[name];
  if (res === undefined) throw new SysError("prlimit", Errno.EINVAL, name);
  const inf = 0xffffffffffffffffn;
  const lim = new BigUint64Array([soft < 0 ? inf : BigInt(soft), hard < 0 ? inf : BigInt(hard)]);
  const r = libc().syscall(BigInt(SYS_prlimit64), 0n, BigInt(res), ptr(new Uint8Array(lim.buffer)), 0n, 0n);
  check(r, "prlimit", name);
}

/** `PR_SET_KEEPCAPS`: the permitted capabilities survive the coming `setresuid` to a non-zero uid. */
export function keepCapsAcrossSetuid(): void {
  check(libc().prctl(8, /* PR_SET_KEEPCAPS */ 1n, 0n, 0n, 0n), "PR_SET_KEEPCAPS");
}

/**
 * After `setresuid` to a non-root uid (with {@link keepCapsAcrossSetuid}): makes `caps` (numbers) this
 * process's effective, permitted, inheritable and ambient capabilities, so the exec'd program keeps them
 * (podman's `--cap-add` for a non-root user).
 */
export function raiseAmbientCaps(caps: number[]): void {
  const header = new Uint32Array([0x20080522, /* _LINUX_CAPABILITY_VERSION_3 */ 0]);
  const data = new Uint32Array(6);
  for (const c of caps) {
    if (c < 0) continue;
    const i = (c >> 5) * 3, bit = 1 << (c & 31);
    data[i] |= bit;
    data[i + 1] |= bit;
    data[i + 2] |= bit;
  }
  const h = new Uint8Array(header.buffer), d = new Uint8Array(data.buffer);
  check(libc().syscall(BigInt(SYS_capset), ptr(h), ptr(d), 0n, 0n, 0n), "capset");
  for (const c of caps) {
    if (c < 0) continue;
    const r = libc().prctl(47, /* PR_CAP_AMBIENT */ 2n, /* PR_CAP_AMBIENT_RAISE */ BigInt(c), 0n, 0n);
    if (r < 0) throw new SysError("PR_CAP_AMBIENT_RAISE", errno(), String(c));
  }
}

/** Marks every fd ≥ `first` close-on-exec (`close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)`). */
export function cloexecFrom(first: number): void {
  check(libc().close_range(first, 0xffffffff, 4), "close_range", String(first));
}

/** Brings the loopback interface up (`SIOCSIFFLAGS` with IFF_UP|IFF_RUNNING on `lo`). */
export function loopbackUp(): void {
  const s = check(libc().socket(2, /* AF_INET */ 2 | 0x80000, /* SOCK_DGRAM|CLOEXEC */ 0), "socket");
  try {
    const ifr = new Uint8Array(40);
    ifr.set(enc.encode("lo"));
    check(libc().ioctl(s, 0x8913n, /* SIOCGIFFLAGS */ ifr), "SIOCGIFFLAGS", "lo");
    const dv = new DataView(ifr.buffer);
    dv.setUint16(16, dv.getUint16(16, true) | 0x1 | 0x40, true);
    check(libc().ioctl(s, 0x8914n, /* SIOCSIFFLAGS */ ifr), "SIOCSIFFLAGS", "lo");
  } finally {
    libc().close(s);
  }
}

/** Reopens stdin (fd 0) on `path`, read-only. */
export function redirectStdin(path: string): void {
  const fd = open(path, O.RDONLY);
  check(libc().dup2(fd, 0), "dup2", path);
  if (fd !== 0) libc().close(fd);
}

/** Makes `fd` the stdin, stdout and stderr of this process and its controlling terminal (new session). */
export function takeTerminal(fd: number): void {
  check(libc().setsid(), "setsid");
  check(libc().ioctl(fd, 0x540en, /* TIOCSCTTY */ null), "TIOCSCTTY");
  for (const t of [0, 1, 2]) check(libc().dup2(fd, t), "dup2");
  if (fd > 2) libc().close(fd);
}

const SYS_rt_sigaction = Deno.build.arch === "aarch64" ? 134 : 13;
const SYS_rt_sigprocmask = Deno.build.arch === "aarch64" ? 135 : 14;

/**
 * Resets every signal to its default action and unblocks all, as the container's command expects (podman's
 * shows `SigIgn`/`SigBlk` 0). `execve` resets the caught signals itself; only ignored ones survive it (Deno
 * ignores SIGPIPE and glibc's SIGCANCEL, 32), so only those — the `SigIgn` mask of /proc/self/status — are
 * reset, every signal when that cannot be read (stage 2 is past pivot_root: a container without /proc).
 * Raw `rt_sigaction`/`rt_sigprocmask` (through `syscall`, no symbols of their own to bind; glibc's wrappers
 * refuse 32 and 33); a zeroed kernel `sigaction` is `SIG_DFL`, no flags, an empty mask on both arches.
 */
export function resetSignals(): void {
  let ignored = (1n << 64n) - 1n;
  try {
    const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) ignored = BigInt(`0x${m[1]}`);
  } catch { /* every signal below */ }
  const act = new Uint8Array(32), none = new Uint8Array(8);
  const dfl = ptr(act);
  for (let s = 1n; s < 65n; s++) {
    if (s === 9n || s === 19n || !(ignored & (1n << (s - 1n)))) continue;
    libc().syscall(BigInt(SYS_rt_sigaction), s, dfl, 0n, 8n, 0n);
  }
  libc().syscall(BigInt(SYS_rt_sigprocmask), 2n, /* SIG_SETMASK */ ptr(none), 0n, 8n, 0n);
  act.fill(0); // held alive until here
}

/** `execve(2)`; returns only on failure, with the errno. */
export function execve(path: string, args: string[], env: string[]): number {
  const keep: Uint8Array[] = [];
  const argv = cstrArray(args, keep), envp = cstrArray(env, keep);
  libc().execve(cstr(path), argv, envp);
  const e = errno();
  keep.length = 0;
  return e;
}
