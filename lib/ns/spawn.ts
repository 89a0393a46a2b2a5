/**
 * Starting one program with libc's `posix_spawnp` instead of `Deno.Command`, for the `exec` hot path: Deno
 * loads its `Deno.Command` machinery on first use (~3 ms), while the few libc calls below are bound lazily
 * (lib/ns/libc.ts) and the spawn is a vfork. The child gets what `Deno.Command` would give it: default signal
 * dispositions, an empty signal mask, stdin `/dev/null` unless inherited, stdout/stderr inherited, exactly
 * the given environment, and (`setsid`) a session of its own.
 *
 * {@link spawnProgram} returns undefined when this libc cannot do it (e.g. no `POSIX_SPAWN_SETSID`, glibc
 * < 2.26); the caller then uses `Deno.Command`.
 * @module
 */

import { bindTogether, cstr, cstrArray, Errno, libc, type SymbolName } from "./libc.ts";

/** The libc symbols {@link spawnProgram} and its wait use (to bind them at once: libc.ts `bindTogether`). */
export const SPAWN_SYMBOLS: SymbolName[] = [
  "posix_spawnattr_init",
  "posix_spawnattr_setflags",
  "sigfillset",
  "posix_spawnattr_setsigdefault",
  "posix_spawnattr_setsigmask",
  "posix_spawn_file_actions_init",
  "posix_spawn_file_actions_addopen",
  "posix_spawnp",
  "waitpid",
];

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
/** Room for glibc's posix_spawnattr_t (336 bytes), posix_spawn_file_actions_t (80) and sigset_t (128). */
const OPAQUE_BYTES = 512;

/** A started child. */
export interface Spawned {
  /** Host pid. */
  pid: number;
  /** Resolves with the exit code, or 128 + the signal number that ended it. */
  status: Promise<number>;
}

/** What {@link spawnProgram} gives the child. */
export interface SpawnOptions {
  /** The whole environment, `KEY=value`. */
  env: string[];
  /** Inherit stdin (else `/dev/null`). */
  stdin: boolean;
  /** A new session (`setsid`). */
  setsid: boolean;
}

/**
 * Starts `file` (looked up in this process's PATH when it has no `/`) with `argv` (argv[0] included).
 * Throws `Deno.errors.NotFound` when it does not exist; returns undefined when libc cannot spawn this way.
 */
export function spawnProgram(file: string, argv: string[], opts: SpawnOptions): Spawned | undefined {
  bindTogether(SPAWN_SYMBOLS);
  const c = libc();
  const attr = new Uint8Array(OPAQUE_BYTES);
  const actions = new Uint8Array(OPAQUE_BYTES);
  const all = new Uint8Array(OPAQUE_BYTES);
  const none = new Uint8Array(OPAQUE_BYTES); // sigemptyset: all zero
  const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.setsid ? POSIX_SPAWN_SETSID : 0);
  if (
    c.posix_spawnattr_init(attr) !== 0 || c.posix_spawnattr_setflags(attr, flags) !== 0 ||
    c.sigfillset(all) !== 0 || c.posix_spawnattr_setsigdefault(attr, all) !== 0 ||
    c.posix_spawnattr_setsigmask(attr, none) !== 0 || c.posix_spawn_file_actions_init(actions) !== 0
  ) {
    return undefined; // EINVAL: flags this libc does not know (SETSID)
  }
  if (!opts.stdin && c.posix_spawn_file_actions_addopen(actions, 0, cstr("/dev/null"), 0, 0) !== 0) {
    return undefined;
  }
  const keep: Uint8Array[] = [];
  const pidOut = new Int32Array(1);
  const err = c.posix_spawnp(
    new Uint8Array(pidOut.buffer),
    cstr(file),
    actions,
    attr,
    cstrArray(argv, keep),
    cstrArray(opts.env, keep),
  );
  if (err === Errno.ENOENT) throw new Deno.errors.NotFound(`${file}: no such file or directory`);
  if (err !== 0) return undefined;
  const pid = pidOut[0];
  return { pid, status: waitExit(pid) };
}

async function waitExit(pid: number): Promise<number> {
  const statusOut = new Int32Array(1);
  for (;;) {
    const r = await libc().waitpid(pid, new Uint8Array(statusOut.buffer), 0);
    if (r === pid) break;
    // -1: EINTR (retry) or ECHILD (someone else reaped it: nothing left to learn)
    try {
      Deno.statSync(`/proc/${pid}`);
    } catch {
      return 1;
    }
  }
  const s = statusOut[0];
  const sig = s & 0x7f;
  return sig === 0 ? (s >> 8) & 0xff : 128 + sig;
}
