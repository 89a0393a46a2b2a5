/**
 * `execve(2)` of this process, for `pod exec`'s handoff (lib/container/exec_fast.ts): pod's own process
 * becomes the compiled exec helper. Through libc.ts's table, bound by `libcOnce` (libffi's call, no fast-call
 * stub: the process's first `dlopen` costs half as much). From a multi-threaded process this is allowed: the kernel ends the other threads. Signal handlers
 * fall back to their defaults, ignored signals and the calling thread's signal mask stay (the helper resets
 * them for the command), descriptors without close-on-exec stay open (the helper closes them).
 * @module
 */

import { cstr, cstrArray, errno, libcOnce } from "./libc.ts";

/**
 * Replaces this process with program `path` (absolute), `argv` and exactly the environment `env`
 * (`KEY=value`). Returns only when that failed: the errno (the process is unchanged then).
 */
export function execveProgram(path: string, argv: string[], env: string[]): number {
  const keep: Uint8Array[] = [];
  const file = cstr(path);
  libcOnce("execve")(file, cstrArray(argv, keep), cstrArray(env, keep));
  return errno();
}
