/**
 * An async sleep that does not use `setTimeout`: in Deno 2.9 the first `setTimeout` of a process loads
 * `node:timers` and the node internals it imports (~15–19 ms of CPU on the 2-core CI VM, measured in a rootless
 * `run --rm`, whose only timer was the poll for the early stage 2's user namespace). The wait is libc's
 * `usleep` as a nonblocking FFI call (on a thread of Deno's blocking pool); `setTimeout` when FFI is not
 * available. Most callers have libc bound anyway (the early start's `posix_spawn`, the launch); for some — a
 * `stop`'s polls for the process to end, a detached start's wait for conmon — this is the first use of libc,
 * which still costs less than loading node:timers.
 * @module
 */

import { libc } from "./libc.ts";

let ffi = true;

/** Resolves after about `ms` milliseconds (see the module doc). */
export async function sleepMs(ms: number): Promise<void> {
  if (ffi) {
    try {
      await libc().usleep(Math.max(0, Math.round(ms * 1000)));
      return;
    } catch { /* no FFI (e.g. --deny-ffi): the timer */ }
    ffi = false;
  }
  await new Promise((r) => setTimeout(r, ms));
}
