/**
 * runtime3 (issue 13): checking `--preserve-fds N` (`run`, `exec`): the caller's fds 3..3+N-1 are passed to the
 * container's process. `run` passes them through stage 1's shell, which keeps its own on fds 8 and 9 (so at
 * most 5), in a foreground run of pod's own runtime; `exec` through its helper, in the foreground.
 * @module
 */

import { UsageError } from "../errors.ts";

/**
 * Throws a {@link UsageError} unless `n` fds can be passed: `notWith` names a flag that rules it out (`-d`),
 * `max` is the most pod passes. Each fd must be open and inheritable (not close-on-exec: else it is one of
 * Deno's own, and the container would get whatever pod opened there).
 */
export function checkPreserveFds(n: number, notWith: string | undefined, max: number): void {
  if (!n) return;
  if (n < 0 || n > max) {
    throw new UsageError(`--preserve-fds ${n}: pod passes at most ${max} (fds 3 to ${2 + max})`);
  }
  if (notWith) {
    throw new UsageError(`--preserve-fds cannot be used with ${notWith}: it needs a foreground process`);
  }
  for (let fd = 3; fd < 3 + n; fd++) {
    let flags = "";
    try {
      flags = /^flags:\s*([0-7]+)/m.exec(Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`))?.[1] ?? "";
    } catch { /* not open */ }
    if (!flags || (parseInt(flags, 8) & 0o2000000 /* O_CLOEXEC */)) {
      throw new UsageError(`--preserve-fds ${n}: file descriptor ${fd} is not open`);
    }
  }
}
