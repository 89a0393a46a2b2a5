/**
 * Starting one program with libc's `posix_spawnp` instead of `Deno.Command`, for the `exec` hot path: Deno
 * loads its `Deno.Command` machinery on first use (~3 ms), while the few libc calls below are bound lazily
 * (lib/ns/libc.ts) and the spawn is a vfork. The child gets what `Deno.Command` would give it: default signal
 * dispositions, an empty signal mask, stdin `/dev/null` unless inherited, stdout/stderr inherited, exactly
 * the given environment, and (`setsid`) a session of its own.
 *
 * Each bound symbol costs start-up time (libc.ts), so only three are: the spawn attributes are written
 * straight into glibc's `posix_spawnattr_t` (a public struct of `<spawn.h>`: `short __flags; pid_t __pgrp;
 * sigset_t __sd; sigset_t __ss; …`, what `posix_spawnattr_init`/`_setflags`/`_setsigdefault`/`_setsigmask`
 * and `sigfillset` would write), and an all-zero `posix_spawn_file_actions_t` is an initialised one.
 *
 * {@link spawnProgram} returns undefined when the spawn fails for another reason than a missing program; the
 * caller then uses `Deno.Command`. (`POSIX_SPAWN_SETSID` needs glibc ≥ 2.26: Debian 10 and later.)
 * @module
 */

import { bindTogether, cstr, cstrArray, Errno, libc, type SymbolName } from "./libc.ts";

/** The libc symbols {@link spawnProgram} and its wait use (to bind them at once: libc.ts `bindTogether`). */
export const SPAWN_SYMBOLS: SymbolName[] = ["posix_spawn_file_actions_addopen", "posix_spawnp", "waitpid"];
/** With a pipe as the child's stdin (pipe.ts): the spawn's symbols, `adddup2` and `syscall`. */
export const PIPE_SYMBOLS: SymbolName[] = [...SPAWN_SYMBOLS, "posix_spawn_file_actions_adddup2", "syscall"];

const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
/** Room for glibc's posix_spawnattr_t (336 bytes) and posix_spawn_file_actions_t (80). */
const OPAQUE_BYTES = 512;
/** Offsets in posix_spawnattr_t of `__flags` (a short), `__sd` (signals to default) and `__ss` (the mask). */
const ATTR_FLAGS = 0, ATTR_SIGDEFAULT = 8;
/**
 * `__sd` as `sigfillset` makes it: signals 1–64 (bit N-1 for signal N), but glibc's internal SIGCANCEL (32)
 * and SIGSETXID (33), which it never lets a program touch.
 */
const ALL_SIGNALS = 0xffff_ffff_ffff_ffffn & ~((1n << 31n) | (1n << 32n));

/** A `posix_spawnattr_t` with `flags`, every signal reset to default and an empty mask (`__ss` zero). */
export function spawnAttributes(flags: number): Uint8Array<ArrayBuffer> {
  const attr = new Uint8Array(OPAQUE_BYTES);
  const view = new DataView(attr.buffer);
  // x86_64 and aarch64 (pod's platforms) are little-endian
  view.setInt16(ATTR_FLAGS, flags, true);
  view.setBigUint64(ATTR_SIGDEFAULT, ALL_SIGNALS, true);
  return attr;
}

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
  /** Inherit stdin (else `/dev/null`), or this descriptor as stdin (needs `adddup2`, see {@link PIPE_SYMBOLS}). */
  stdin: boolean | number;
  /** A new session (`setsid`). */
  setsid: boolean;
  /** run6: stdout and stderr to `/dev/null` (else inherited). */
  quiet?: boolean;
  /**
   * run7: descriptors opened on files, after the above: `read` opens it read-only, `write` creates or
   * truncates it (mode 0600). E.g. a tool's stdin from a file and its output to files, read after its exit.
   */
  files?: { fd: number; path: string; mode: "read" | "write" }[];
  /** pods9: descriptors of this process given to the child as others (`from` → `to`; needs `adddup2`). */
  dups?: { from: number; to: number }[];
}

/**
 * Starts `file` (looked up in this process's PATH when it has no `/`) with `argv` (argv[0] included).
 * Throws `Deno.errors.NotFound` when it does not exist; returns undefined when libc cannot spawn this way.
 */
export function spawnProgram(file: string, argv: string[], opts: SpawnOptions): Spawned | undefined {
  bindTogether(SPAWN_SYMBOLS);
  const c = libc();
  const attr = spawnAttributes(
    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.setsid ? POSIX_SPAWN_SETSID : 0),
  );
  const actions = new Uint8Array(OPAQUE_BYTES); // posix_spawn_file_actions_init: all zero
  if (typeof opts.stdin === "number") {
    if (c.posix_spawn_file_actions_adddup2(actions, opts.stdin, 0) !== 0) return undefined;
  } else if (!opts.stdin && c.posix_spawn_file_actions_addopen(actions, 0, cstr("/dev/null"), 0, 0) !== 0) {
    return undefined;
  }
  for (const fd of opts.quiet ? [1, 2] : []) {
    if (c.posix_spawn_file_actions_addopen(actions, fd, cstr("/dev/null"), O_WRONLY, 0) !== 0) {
      return undefined;
    }
  }
  for (const f of opts.files ?? []) {
    const flags = f.mode === "read" ? 0 : O_WRONLY | O_CREAT | O_TRUNC;
    if (c.posix_spawn_file_actions_addopen(actions, f.fd, cstr(f.path), flags, 0o600) !== 0) return undefined;
  }
  for (const d of opts.dups ?? []) {
    if (c.posix_spawn_file_actions_adddup2(actions, d.from, d.to) !== 0) return undefined;
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
  if (err !== 0) return undefined; // e.g. EINVAL: flags this libc does not know (SETSID)
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
