/**
 * File-system calls Deno lacks, through libc (FFI): calls that must not follow a symlink at the last path
 * component (`lchown`, `utimensat(AT_SYMLINK_NOFOLLOW)`, `lsetxattr`) and `mknod` for fifos and devices.
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
  13: "permission denied",
  17: "file exists",
  20: "not a directory",
  21: "is a directory",
  22: "invalid argument",
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

/** Sets access and modification time of `path` without following a symlink at its last component. */
export function lutimes(path: string, atime: Timespec, mtime: Timespec): void {
  timesBuf[0] = BigInt(Math.trunc(atime.sec));
  timesBuf[1] = BigInt(atime.nsec);
  timesBuf[2] = BigInt(Math.trunc(mtime.sec));
  timesBuf[3] = BigInt(mtime.nsec);
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
