/**
 * File-system calls Deno lacks, on top of `libc.ts`: calls that must not follow a symlink at the last path
 * component (`lchown`, `utimensat(AT_SYMLINK_NOFOLLOW)`, `lsetxattr`), `mknod`/`mkfifo`, and files handled by
 * descriptor: created with `O_EXCL|O_NOFOLLOW`, filled with `pwrite` (also on one of Deno's blocking threads,
 * so the unpacker's file writes overlap its decompression), then owner, xattrs, mode and times set through the
 * descriptor, which names the inode created whatever happens to its path. Plus `statvfs` flags and `access`.
 *
 * Every function throws a `SysError` (libc.ts) (branch on its `errno` name) when the call fails; `path` arguments
 * of descriptor calls only name the file in that message.
 * @module
 */

import { check, cstr, libc } from "./libc.ts";

/** File type bits for {@link mknod}. */
export const FileType = {
  /** Named pipe. */
  S_IFIFO: 0o010000,
  /** Character device. */
  S_IFCHR: 0o020000,
  /** Block device. */
  S_IFBLK: 0o060000,
} as const;

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

/** `mkfifo(3)`. */
export function mkfifo(path: string, mode = 0o600): void {
  check(libc().mkfifo(cstr(path), mode), "mkfifo", path);
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
 * for writing with permissions `mode & 0o777` less the umask; returns the descriptor.
 */
export function createFile(path: string, mode = 0o600): number {
  return check(libc().open(cstr(path), CREATE_FLAGS, mode & 0o777), "open", path);
}

/** Writes `data` at `offset` of `fd`; returns how many bytes were written (possibly fewer). */
export function pwrite(fd: number, data: Uint8Array<ArrayBuffer>, offset: number, path: string): number {
  return Number(check(libc().pwrite(fd, data, BigInt(data.length), BigInt(offset)), "write", path));
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

/** The mount flags of the file system holding `path` (`statvfs` `f_flag`, `ST_*` = `MS_*` bits). */
export function statvfsFlags(path: string): number {
  const buf = new Uint8Array(112);
  check(libc().statvfs(cstr(path), buf), "statvfs", path);
  // struct statvfs on 64-bit glibc: 8 u64 fields (bsize…favail), fsid, flag.
  return Number(new DataView(buf.buffer).getBigUint64(72, true));
}

/** `access(path, X_OK)` as the current ids. */
export function canExecute(path: string): boolean {
  return libc().access(cstr(path), 1) === 0;
}
