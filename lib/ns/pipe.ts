/**
 * A pipe made and written through libc's `syscall` (one bound symbol), for a child started with
 * `posix_spawnp` (spawn.ts): `run`'s early stage 2 reads its spec from such a pipe on its stdin
 * (prelaunch.ts), without `Deno.Command`, whose first use costs more than the spawn itself.
 * @module
 */

import { libc } from "./libc.ts";

const arm = Deno.build.arch === "aarch64";
const SYS_write = arm ? 64 : 1;
const SYS_close = arm ? 57 : 3;
const SYS_pipe2 = arm ? 59 : 293;
const O_CLOEXEC = 0o2000000;

function sys(nr: number, a = 0n, b = 0n, c = 0n): number {
  return Number(libc().syscall(BigInt(nr), a, b, c, 0n, 0n));
}

const addr = (b: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));

/** A pipe, both ends close-on-exec (a spawn's file action makes the child's copy of one its stdin). */
export function openPipe(): { read: number; write: number } | undefined {
  const fds = new Int32Array(2);
  if (sys(SYS_pipe2, addr(new Uint8Array(fds.buffer)), BigInt(O_CLOEXEC)) !== 0) return undefined;
  return { read: fds[0], write: fds[1] };
}

/** Writes all of `bytes` to `fd` (blocking); false when the reader is gone (EPIPE) or another error. */
export function writeFd(fd: number, bytes: Uint8Array): boolean {
  for (let off = 0; off < bytes.length;) {
    const rest = bytes.subarray(off);
    const n = sys(SYS_write, BigInt(fd), addr(rest), BigInt(rest.length));
    if (n < 0) return false; // EINTR cannot happen: Deno's signal handlers restart
    off += n;
  }
  return true;
}

/** Closes `fd`. */
export function closeFd(fd: number): void {
  sys(SYS_close, BigInt(fd));
}
