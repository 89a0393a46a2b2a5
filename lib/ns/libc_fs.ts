/**
 * File-system calls Deno lacks, through libc (FFI): calls that must not follow a symlink at the last path
 * component (`lchown`, `utimensat(AT_SYMLINK_NOFOLLOW)`, `lsetxattr`), `mknod` for fifos and devices, and
 * files handled by descriptor: created with `O_EXCL|O_NOFOLLOW`, filled with `pwrite` (also on one of
 * Deno's blocking threads, so the unpacker's file writes overlap its decompression), then owner, xattrs,
 * mode and times set through the descriptor, which names the inode created whatever happens to its path.
 *
 * The library is opened lazily on first use, so importing this module costs nothing. Every function throws a
 * {@link LibcError} carrying the errno on failure.
 * @module
 */

/** errno values the unpacker reacts to. */
export const Errno = {
  /** Operation not permitted. */
  EPERM: 1,
  /** No such file or directory. */
  ENOENT: 2,
  /** Permission denied. */
  EACCES: 13,
  /** File exists. */
  EEXIST: 17,
  /** Invalid argument (e.g. an id not mapped in the user namespace). */
  EINVAL: 22,
  /** No space left on device. */
  ENOSPC: 28,
  /** Result too large / xattr value too big. */
  ERANGE: 34,
  /** Operation not supported (also ENOTSUP). */
  EOPNOTSUPP: 95,
} as const;

/** File type bits for {@link mknod}. */
export const FileType = {
  /** Named pipe. */
  S_IFIFO: 0o010000,
  /** Character device. */
  S_IFCHR: 0o020000,
  /** Block device. */
  S_IFBLK: 0o060000,
} as const;

/** A failed libc call: `op` names the call, `errno` the reason. */
export class LibcError extends Error {
  /** The errno value reported by libc. */
  readonly errno: number;
  /** The libc function that failed. */
  readonly op: string;
  constructor(op: string, errno: number, path: string) {
    super(`${op} ${path}: ${errnoName(errno)}`);
    this.name = "LibcError";
    this.op = op;
    this.errno = errno;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: "operation not permitted",
  2: "no such file or directory",
  5: "input/output error",
  9: "bad file descriptor",
  13: "permission denied",
  17: "file exists",
  20: "not a directory",
  21: "is a directory",
  22: "invalid argument",
  27: "file too large",
  28: "no space left on device",
  30: "read-only file system",
  34: "numerical result out of range",
  36: "file name too long",
  40: "too many levels of symbolic links",
  61: "no data available",
  95: "operation not supported",
  122: "disk quota exceeded",
};

/** Returns a human description of an errno value. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

const SYMBOLS = {
  lchown: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  pwriteAsync: {
    name: "pwrite",
    parameters: ["i32", "buffer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  futimens: { parameters: ["i32", "buffer"], result: "i32" },
  fsetxattr: { parameters: ["i32", "buffer", "buffer", "usize", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

const enc = new TextEncoder();

/** Encodes a string as a NUL-terminated C string. */
function cstr(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length * 3 + 1);
  const { written } = enc.encodeInto(s, out);
  if (out.subarray(0, written).includes(0)) throw new LibcError("encode", Errno.EINVAL, s);
  return out.subarray(0, written + 1);
}

function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function check(rc: number, op: string, path: string): void {
  if (rc !== 0) throw new LibcError(op, errno(), path);
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;

/** Changes the owner of `path` without following a symlink at its last component. */
export function lchown(path: string, uid: number, gid: number): void {
  check(libc().lchown(cstr(path), uid >>> 0, gid >>> 0), "lchown", path);
}

/** A point in time as whole seconds since the epoch plus nanoseconds (0..999 999 999). */
export interface Timespec {
  /** Seconds since the epoch (may be negative). */
  sec: number;
  /** Nanoseconds within the second. */
  nsec: number;
}

const timesBuf = new BigInt64Array(4);

function fillTimes(atime: Timespec, mtime: Timespec): void {
  timesBuf[0] = BigInt(Math.trunc(atime.sec));
  timesBuf[1] = BigInt(atime.nsec);
  timesBuf[2] = BigInt(Math.trunc(mtime.sec));
  timesBuf[3] = BigInt(mtime.nsec);
}

/** Sets access and modification time of `path` without following a symlink at its last component. */
export function lutimes(path: string, atime: Timespec, mtime: Timespec): void {
  fillTimes(atime, mtime);
  check(libc().utimensat(AT_FDCWD, cstr(path), timesBuf, AT_SYMLINK_NOFOLLOW), "utimensat", path);
}

/** Encodes a device number the way glibc's `makedev` does. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/**
 * Creates a fifo or device node; `mode` includes the {@link FileType} bits and the permissions (subject to the
 * umask). Like mknod(2), never follows a symlink at `path` (fails with EEXIST).
 */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(libc().mknod(cstr(path), mode >>> 0, makedev(major, minor)), "mknod", path);
}

/** Sets an extended attribute on `path` itself (a symlink is not followed). */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const v = new Uint8Array(value.length);
  v.set(value);
  check(libc().lsetxattr(cstr(path), cstr(name), v, BigInt(v.length), 0), "lsetxattr", path);
}

/** `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC` (O_NOFOLLOW differs between architectures). */
const CREATE_FLAGS = 0o1 | 0o100 | 0o200 | 0o2000000 |
  (Deno.build.arch === "aarch64" ? 0o100000 : 0o400000);

/**
 * Creates `path` (which must not exist: an existing file or symlink fails with EEXIST, nothing is followed)
 * for writing with permissions `mode & 0o777` less the umask; returns the descriptor. `path` names the file
 * in messages of the descriptor calls below.
 */
export function createFile(path: string, mode = 0o600): number {
  const fd = libc().open(cstr(path), CREATE_FLAGS, mode & 0o777);
  if (fd < 0) throw new LibcError("open", errno(), path);
  return fd;
}

/** Writes `data` at `offset` of `fd`; returns how many bytes were written (possibly fewer). */
export function pwrite(fd: number, data: Uint8Array<ArrayBuffer>, offset: number, path: string): number {
  const n = Number(libc().pwrite(fd, data, BigInt(data.length), BigInt(offset)));
  if (n < 0) throw new LibcError("write", errno(), path);
  return n;
}

/**
 * {@link pwrite} on one of Deno's blocking threads: resolves to the bytes written, or -1 on failure (errno
 * belongs to that thread: repeat the write with {@link pwrite} to learn why). `data` must stay unchanged
 * until the promise settles.
 */
export async function pwriteAsync(
  fd: number,
  data: Uint8Array<ArrayBuffer>,
  offset: number,
): Promise<number> {
  return Number(await libc().pwriteAsync(fd, data, BigInt(data.length), BigInt(offset)));
}

/** Changes the owner of the open file `fd`. */
export function fchown(fd: number, uid: number, gid: number, path: string): void {
  check(libc().fchown(fd, uid >>> 0, gid >>> 0), "fchown", path);
}

/** Changes the permission bits (including setuid, setgid, sticky) of the open file `fd`. */
export function fchmod(fd: number, mode: number, path: string): void {
  check(libc().fchmod(fd, mode & 0o7777), "fchmod", path);
}

/** Sets access and modification time of the open file `fd`. */
export function futimes(fd: number, atime: Timespec, mtime: Timespec, path: string): void {
  fillTimes(atime, mtime);
  check(libc().futimens(fd, timesBuf), "futimens", path);
}

/** Sets an extended attribute on the open file `fd`. */
export function fsetxattr(fd: number, name: string, value: Uint8Array, path: string): void {
  const v = new Uint8Array(value.length);
  v.set(value);
  check(libc().fsetxattr(fd, cstr(name), v, BigInt(v.length), 0), "fsetxattr", path);
}

/** Closes `fd` (an error closing a file only written to would be a write error: reported as such). */
export function closeFd(fd: number, path: string): void {
  check(libc().close(fd), "close", path);
}
