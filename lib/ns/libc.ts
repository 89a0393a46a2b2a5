/**
 * The libc calls of the runtime (stage 2 mounts, ids and execve; ptys and fifos for stage 1), through
 * `Deno.dlopen("libc.so.6")`. Each symbol is bound on its first use (binding all of them costs 5–8 ms, which
 * stage 1 and `exec` would pay for one or two calls); `lib/ns` is the only place FFI is allowed.
 *
 * Every wrapper throws {@link SysError} (with the errno) when the call fails.
 * @module
 */

const symbols = {
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
  sethostname: { parameters: ["buffer", "u64"], result: "i32" },
  setgroups: { parameters: ["u64", "buffer"], result: "i32" },
  setresgid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  setresuid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  close_range: { parameters: ["u32", "u32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  setsid: { parameters: [], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname_r: { parameters: ["i32", "buffer", "u64"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u64"], result: "i64", nonblocking: true },
  write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  sigprocmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  posix_spawnp: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: { parameters: ["buffer", "i32", "buffer", "i32", "u32"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof symbols>["symbols"];
type Name = keyof typeof symbols;
const bound: Partial<Record<Name, unknown>> = {};

const lazy = new Proxy({} as Lib, {
  get(_target, key) {
    const name = key as Name;
    if (!(name in symbols)) return undefined;
    return bound[name] ??= Deno.dlopen("libc.so.6", { [name]: symbols[name] }).symbols[name];
  },
});

/** The libc symbols, each bound by `dlopen` on its first use. */
export function libc(): Lib {
  return lazy;
}

/** Binds these symbols now (stage 2 does it while it waits for its spec, off the critical path). */
export function bindEarly(names: Name[]): void {
  for (const n of names) void lazy[n];
}

const enc = new TextEncoder();

/** A NUL-terminated C string. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = enc.encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** Errno names for the codes the runtime reports. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOEXEC: 8,
  ELOOP: 40,
  ENOSYS: 38,
} as const;

/** A failed libc call: `<what>: <strerror>` with the errno kept. */
export class SysError extends Error {
  /** The errno of the failed call. */
  readonly errno: number;
  constructor(what: string, errno: number) {
    super(`${what}: ${strerror(errno)}`);
    this.name = "SysError";
    this.errno = errno;
  }
}

/** The calling thread's errno. */
export function errno(): number {
  const p = libc().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/** The text of an errno (`strerror`). */
export function strerror(e: number): string {
  const p = libc().strerror(e);
  return p ? Deno.UnsafePointerView.getCString(p) : `errno ${e}`;
}

/** Throws a {@link SysError} when `r` is negative. */
export function check<T extends number | bigint>(r: T, what: string): T {
  if (r < 0) throw new SysError(what, errno());
  return r;
}

/** Mount flags (`<sys/mount.h>`). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
} as const;

/** `mount(2)`. */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const r = libc().mount(
    source === null ? null : cstr(source),
    cstr(target),
    fstype === null ? null : cstr(fstype),
    BigInt(flags),
    data === null ? null : cstr(data),
  );
  check(r, `mount ${source ?? fstype ?? ""} on ${target}`);
}

/** `umount2(2)`; `MNT_DETACH` = 2. */
export function umount2(target: string, flags: number): void {
  check(libc().umount2(cstr(target), flags), `umount ${target}`);
}

function ptr(b: Uint8Array | null): bigint {
  if (!b) return 0n;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

const SYS_pivot_root = Deno.build.arch === "aarch64" ? 41 : 155;
const SYS_mount_setattr = 442;

/** `pivot_root(2)` (no glibc wrapper: raw syscall). */
export function pivotRoot(newRoot: string, putOld: string): void {
  const a = cstr(newRoot), b = cstr(putOld);
  check(libc().syscall(BigInt(SYS_pivot_root), ptr(a), ptr(b), 0n, 0n, 0n), "pivot_root");
}

/** `MOUNT_ATTR_*` flags of `mount_setattr(2)`. */
export const MOUNT_ATTR = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8 } as const;

/**
 * `mount_setattr(2)` on `path` (recursive when asked): sets/clears mount attributes and the propagation
 * (an `MS_*` propagation flag or 0) without touching the locked flags of a mount made in a user namespace.
 */
export function mountSetattr(
  path: string,
  opts: { set?: number; clear?: number; propagation?: number; recursive?: boolean },
): void {
  const attr = new BigUint64Array([
    BigInt(opts.set ?? 0),
    BigInt(opts.clear ?? 0),
    BigInt(opts.propagation ?? 0),
    0n,
  ]);
  const p = cstr(path);
  const AT_FDCWD = -100n, AT_RECURSIVE = 0x8000n;
  const r = libc().syscall(
    BigInt(SYS_mount_setattr),
    AT_FDCWD,
    ptr(p),
    opts.recursive ? AT_RECURSIVE : 0n,
    ptr(new Uint8Array(attr.buffer)),
    32n,
  );
  check(r, `mount_setattr ${path}`);
}

/** The mount flags of the file system holding `path` (`statvfs` `f_flag`, `ST_*` = `MS_*` bits). */
export function statvfsFlags(path: string): number {
  const buf = new Uint8Array(112);
  check(libc().statvfs(cstr(path), buf), `statvfs ${path}`);
  // struct statvfs on 64-bit glibc: 8 u64 fields (bsize…favail), fsid, flag.
  return Number(new DataView(buf.buffer).getBigUint64(72, true));
}

/** `sethostname(2)`. */
export function sethostname(name: string): void {
  const b = enc.encode(name);
  check(libc().sethostname(b, BigInt(b.length)), "sethostname");
}

/** `setgroups`, `setresgid`, `setresuid` (glibc's, which apply to every thread). */
export function setIds(uid: number, gid: number, groups: number[]): void {
  const g = new Uint32Array(groups.length || 1);
  g.set(groups);
  check(libc().setgroups(BigInt(groups.length), new Uint8Array(g.buffer)), "setgroups");
  check(libc().setresgid(gid, gid, gid), `setresgid ${gid}`);
  check(libc().setresuid(uid, uid, uid), `setresuid ${uid}`);
}

/** Drops capability `cap` from the bounding set (`PR_CAPBSET_DROP`); EINVAL (unknown cap) is ignored. */
export function dropBoundingCap(cap: number): void {
  const r = libc().prctl(24, /* PR_CAPBSET_DROP */ BigInt(cap), 0n, 0n, 0n);
  if (r < 0 && errno() !== Errno.EINVAL) throw new SysError(`PR_CAPBSET_DROP ${cap}`, errno());
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

/** Marks every fd ≥ `first` close-on-exec (`close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)`). */
export function cloexecFrom(first: number): void {
  check(libc().close_range(first, 0xffffffff, 4), "close_range");
}

/** Brings the loopback interface up (`SIOCSIFFLAGS` with IFF_UP|IFF_RUNNING on `lo`). */
export function loopbackUp(): void {
  const s = check(libc().socket(2, /* AF_INET */ 2 | 0x80000, /* SOCK_DGRAM|CLOEXEC */ 0), "socket");
  try {
    const ifr = new Uint8Array(40);
    ifr.set(enc.encode("lo"));
    check(libc().ioctl(s, 0x8913n, /* SIOCGIFFLAGS */ ifr), "SIOCGIFFLAGS lo");
    const dv = new DataView(ifr.buffer);
    dv.setUint16(16, dv.getUint16(16, true) | 0x1 | 0x40, true);
    check(libc().ioctl(s, 0x8914n, /* SIOCSIFFLAGS */ ifr), "SIOCSIFFLAGS lo");
  } finally {
    libc().close(s);
  }
}

/** Open flags. */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  NOCTTY: 0o400,
  NONBLOCK: 0o4000,
  CLOEXEC: 0o2000000,
} as const;

/** `open(2)`; returns the fd. */
export function open(path: string, flags: number, mode = 0): number {
  return check(libc().open(cstr(path), flags, mode), `open ${path}`);
}

/** `close(2)` (errors ignored). */
export function close(fd: number): void {
  libc().close(fd);
}

/** Reopens stdin (fd 0) on `path`, read-only. */
export function redirectStdin(path: string): void {
  const fd = open(path, O.RDONLY);
  check(libc().dup2(fd, 0), "dup2");
  if (fd !== 0) libc().close(fd);
}

/** Makes `fd` the stdin, stdout and stderr of this process and its controlling terminal (new session). */
export function takeTerminal(fd: number): void {
  check(libc().setsid(), "setsid");
  check(libc().ioctl(fd, 0x540en, /* TIOCSCTTY */ null), "TIOCSCTTY");
  for (const t of [0, 1, 2]) check(libc().dup2(fd, t), "dup2");
  if (fd > 2) libc().close(fd);
}

/** `access(path, X_OK)` as the current ids. */
export function canExecute(path: string): boolean {
  return libc().access(cstr(path), 1) === 0;
}

/** Resets every signal to its default action and unblocks all (Deno ignores SIGPIPE; ignores survive exec). */
export function resetSignals(): void {
  for (let s = 1; s < 65; s++) if (s !== 9 && s !== 19 && s !== 32 && s !== 33) libc().signal(s, null);
  libc().sigprocmask(2, /* SIG_SETMASK */ new Uint8Array(128), null);
}

/** `execve(2)`; returns only on failure, with the errno. */
export function execve(path: string, args: string[], env: string[]): number {
  const keep: Uint8Array[] = [];
  const vec = (list: string[]) => {
    const v = new BigUint64Array(list.length + 1);
    list.forEach((s, i) => {
      const c = cstr(s);
      keep.push(c);
      v[i] = ptr(c);
    });
    return new Uint8Array(v.buffer);
  };
  const argv = vec(args), envp = vec(env);
  libc().execve(cstr(path), argv, envp);
  const e = errno();
  keep.length = 0;
  return e;
}

/** `mkfifo(3)`. */
export function mkfifo(path: string, mode = 0o600): void {
  check(libc().mkfifo(cstr(path), mode), `mkfifo ${path}`);
}

/** Opens a new pty master; returns its fd and the slave's path. */
export function openPty(): { master: number; slave: string } {
  const m = check(libc().posix_openpt(O.RDWR | O.NOCTTY | O.CLOEXEC), "posix_openpt");
  check(libc().grantpt(m), "grantpt");
  check(libc().unlockpt(m), "unlockpt");
  const name = new Uint8Array(128);
  const r = libc().ptsname_r(m, name, 128n);
  if (r !== 0) throw new SysError("ptsname", r);
  return { master: m, slave: new TextDecoder().decode(name.subarray(0, name.indexOf(0))) };
}

/** Opens a pty master from a given devpts `ptmx` (e.g. a container's); returns its fd and the pty number. */
export function openPtyAt(ptmx: string): { master: number; index: number } {
  const m = open(ptmx, O.RDWR | O.NOCTTY | O.CLOEXEC);
  check(libc().unlockpt(m), "unlockpt");
  const n = new Uint32Array(1);
  check(libc().ioctl(m, 0x80045430n, /* TIOCGPTN */ new Uint8Array(n.buffer)), "TIOCGPTN");
  return { master: m, index: n[0] };
}

/** Sets a terminal's window size (`TIOCSWINSZ`). */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  libc().ioctl(fd, 0x5414n, new Uint8Array(ws.buffer));
}

/** Reads from an fd on a worker thread; resolves to the byte count (0 = EOF, -1 on failure, e.g. EIO). */
export async function readAsync(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  const n = Number(await libc().read(fd, buf, BigInt(buf.length)));
  return n < 0 ? -1 : n;
}

/** Writes all of `data` to an fd (blocking). */
export function writeAll(fd: number, data: Uint8Array<ArrayBuffer>): void {
  let off = 0;
  while (off < data.length) {
    const n = Number(libc().write(fd, data.subarray(off), BigInt(data.length - off)));
    if (n < 0) {
      const e = errno();
      if (e === Errno.EINTR || e === Errno.EAGAIN) continue;
      throw new SysError("write", e);
    }
    off += n;
  }
}
