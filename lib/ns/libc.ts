/**
 * libc through `Deno.dlopen("libc.so.6")`: the one symbol table of pod (`lib/ns` is the only place FFI is
 * allowed), C strings, errno and the one error type of a failed call, {@link SysError}, plus the plain
 * descriptor calls the rest of `lib/ns` shares. Each symbol is bound on its first use: binding all of them
 * costs 5–8 ms, which stage 1 and `exec` would pay for one or two calls. The calls that are one system call
 * each (`open`, `mount`, `prctl`, `execve`…: {@link VIA_SYSCALL}) go through `syscall` instead, so stage 2
 * binds 5 symbols, not 20, and binds them as pointers ({@link BindWay}: no fast-call stubs, run8), as does
 * `run`'s early start.
 *
 * The wrappers live beside their users: file-system calls in `fs.ts`, mounts in `mounts.ts`, stage 2's
 * process set-up in `process.ts`, ptys in `pty.ts`, `posix_spawnp` in `spawn.ts`, `usleep` in `sleep.ts`;
 * exec's handoff ({@link execveProgram}) here, its path loading as few modules as it can.
 * @module
 */

import { PodError } from "../errors.ts";

const symbols = {
  // descriptors and files
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u64"], result: "i64", nonblocking: true },
  write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  pwriteAsync: {
    name: "pwrite",
    parameters: ["i32", "buffer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
  close_range: { parameters: ["u32", "u32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  lchown: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  futimens: { parameters: ["i32", "buffer"], result: "i32" },
  fsetxattr: { parameters: ["i32", "buffer", "buffer", "usize", "i32"], result: "i32" },
  // mounts, ids, process
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
  sethostname: { parameters: ["buffer", "u64"], result: "i32" },
  setgroups: { parameters: ["u64", "buffer"], result: "i32" },
  setresgid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  setresuid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsid: { parameters: [], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  sigprocmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  // ptys
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname_r: { parameters: ["i32", "buffer", "u64"], result: "i32" },
  // spawning
  posix_spawnp: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: { parameters: ["buffer", "i32", "buffer", "i32", "u32"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32", nonblocking: true },
  // waiting (sleep.ts)
  usleep: { parameters: ["u32"], result: "i32", nonblocking: true },
  // errors
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof symbols>["symbols"];
/** The name of a libc symbol of the table. */
export type SymbolName = keyof typeof symbols;
const bound: Partial<Record<SymbolName, unknown>> = {};

const arm = Deno.build.arch === "aarch64";
const AT_FDCWD = -100n;

/**
 * The symbols that are one Linux system call each, as pod calls them: made through `syscall(2)`, so they cost
 * no binding of their own (each bound symbol adds ~0.3 ms to a start-up; stage 2 used twenty). `open` and
 * `access` are `openat`/`faccessat` from the current directory, as glibc makes them; `syscall` returns -1 and
 * sets errno as the wrappers do. Not here: the id calls (glibc applies `setgroups`/`setresgid`/`setresuid` to
 * every thread of the process), `signal`, `sigprocmask`, `statvfs`, `mkfifo`, the pty and spawn calls (more
 * than one system call, or another struct), and `dup2` on aarch64 (only `dup3`, which refuses equal fds).
 */
const VIA_SYSCALL: Partial<Record<SymbolName, { nr: number; before?: bigint[] }>> = {
  open: { nr: arm ? 56 : 257, before: [AT_FDCWD] },
  write: { nr: arm ? 64 : 1 },
  close: { nr: arm ? 57 : 3 },
  mount: { nr: arm ? 40 : 165 },
  umount2: { nr: arm ? 39 : 166 },
  sethostname: { nr: arm ? 161 : 170 },
  prctl: { nr: arm ? 167 : 157 },
  close_range: { nr: 436 },
  socket: { nr: arm ? 198 : 41 },
  ioctl: { nr: arm ? 29 : 16 },
  access: { nr: arm ? 48 : 269, before: [AT_FDCWD] },
  execve: { nr: arm ? 221 : 59 },
  ...(arm ? {} : { dup2: { nr: 33 } }),
};

/** An FFI argument as a `syscall` word: numbers as they are, a buffer as its address, null as 0. */
function word(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (v === null || v === undefined) return 0n;
  if (ArrayBuffer.isView(v)) return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(v)));
  throw new TypeError(`libc: cannot pass ${typeof v} to syscall`);
}

/** The function standing for `name` (of {@link VIA_SYSCALL}): its result typed as the symbol's would be. */
function viaSyscall(name: SymbolName): (...args: unknown[]) => number | bigint {
  const { nr, before = [] } = VIA_SYSCALL[name]!;
  const wide = symbols[name].result !== "i32";
  return (...args: unknown[]) => {
    const w = [...before, ...args.map(word), 0n, 0n, 0n, 0n, 0n, 0n];
    const r = (lazy.syscall as (...a: bigint[]) => bigint)(BigInt(nr), w[0], w[1], w[2], w[3], w[4], w[5]);
    return wide ? r : Number(r);
  };
}

const lazy = new Proxy({} as Lib, {
  get(_target, key) {
    const name = key as SymbolName;
    if (!(name in symbols)) return undefined;
    if (name in VIA_SYSCALL) return bound[name] ??= viaSyscall(name);
    return bound[name] ??= Deno.dlopen("libc.so.6", { [name]: symbols[name] }).symbols[name];
  },
});

/** The libc symbols, each bound by `dlopen` on its first use. */
export function libc(): Lib {
  return lazy;
}

/**
 * True when calling `name` costs no `dlopen` of its own: bound already, or made through `syscall` and that is
 * bound (a caller with a cheaper way that needs no FFI takes that one otherwise).
 */
export function isBound(name: SymbolName): boolean {
  return (name in VIA_SYSCALL ? "syscall" : name) in bound;
}

/**
 * Binds these symbols now, with one `dlopen`, as static pointers called through `Deno.UnsafeFnPointer`
 * ({@link bindTogether}'s `"pointer"` way): stage 2 makes few calls of each, and in a rootless `run` its
 * binding sits on the critical path (issue 16).
 */
export function bindEarly(names: SymbolName[]): void {
  bindTogether(names, "pointer");
}

/**
 * How {@link bindTogether} binds a function symbol. `"stub"`: a `Deno.dlopen` function symbol, for which Deno
 * compiles a fast-call stub (the process's first ~3 ms, each more ~0.3 ms; a call ~2 µs) — for hot calls.
 * `"pointer"`: a static `pointer` symbol called through `Deno.UnsafeFnPointer` (libffi: ~1.3 ms for the first
 * dlopen, ~0.05 ms each more, a first call ~0.3 ms, then ~5–10 µs a call) — for a process's few calls.
 */
export type BindWay = "stub" | "pointer";

/**
 * Binds those of these symbols not bound yet with one `dlopen`: each `Deno.dlopen` call costs more than a
 * symbol it binds (`exec` binds its dozen spawn and setns symbols at once). `way`: see {@link BindWay}.
 */
export function bindTogether(names: SymbolName[], way: BindWay = "stub"): void {
  const own = names.map((n) => n in VIA_SYSCALL ? "syscall" : n);
  const todo = [...new Set(own)].filter((n) => !(n in bound));
  if (way === "stub" && todo.length < 2) return;
  if (!todo.length) return;
  if (way === "pointer") {
    const lib = Deno.dlopen("libc.so.6", Object.fromEntries(todo.map((n) => [n, pointerSymbol(n)])));
    for (const n of todo) bound[n] = viaPointer(n, (lib.symbols as Record<string, Deno.PointerValue>)[n]);
    return;
  }
  const lib = Deno.dlopen("libc.so.6", Object.fromEntries(todo.map((n) => [n, symbols[n]])));
  for (const n of todo) bound[n] = (lib.symbols as Record<string, unknown>)[n];
}

/** The static `pointer` symbol standing for function `name`. */
function pointerSymbol(name: SymbolName): { name: string; type: "pointer" } {
  return { name: (symbols[name] as Deno.ForeignFunction).name ?? name, type: "pointer" };
}

/** Function symbol `name` at `ptr`, called through `Deno.UnsafeFnPointer` (see {@link BindWay}). */
function viaPointer(name: SymbolName, ptr: Deno.PointerValue): (...args: unknown[]) => unknown {
  if (!ptr) throw new SysError(`dlsym ${name}`, Errno.ENOENT);
  const def = symbols[name] as Deno.ForeignFunction;
  const fn = new Deno.UnsafeFnPointer(ptr as Deno.PointerObject<Deno.ForeignFunction>, {
    parameters: def.parameters,
    result: def.result,
    nonblocking: def.nonblocking,
  });
  return (...args: unknown[]) => (fn.call as (...a: unknown[]) => unknown)(...args);
}

/** Linux errno values by name (x86_64 and aarch64 share them). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
  EDQUOT: 122,
} as const;

/** The name of an errno value of {@link Errno}. */
export type ErrnoName = keyof typeof Errno;

const ERRNO_NAMES = new Map<number, ErrnoName>(
  Object.entries(Errno).map(([name, n]) => [n, name as ErrnoName]),
);

/**
 * A failed libc call (`code` `SYSCALL`), e.g. `mount "/proc": EPERM (Operation not permitted)`: the call,
 * the path or argument it was given, the errno's name and its `strerror` text. Branch on {@link errno}.
 */
export class SysError extends PodError {
  /** The errno's name (`EEXIST`…), `EUNKNOWN` for a value not in {@link Errno}. */
  readonly errno: ErrnoName | "EUNKNOWN";
  /** The errno value. */
  readonly errnum: number;
  /** The call that failed (`mount`, `lchown`…). */
  readonly call: string;
  constructor(call: string, errnum: number, arg?: string) {
    const name = ERRNO_NAMES.get(errnum);
    const what = arg === undefined ? call : `${call} ${JSON.stringify(arg)}`;
    super(`${what}: ${name ?? `errno ${errnum}`} (${strerror(errnum)})`, { code: "SYSCALL" });
    this.name = "SysError";
    this.errno = name ?? "EUNKNOWN";
    this.errnum = errnum;
    this.call = call;
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

/** Throws a {@link SysError} for `call` (on `arg`) with the thread's errno when `r` is negative. */
export function check<T extends number | bigint>(r: T, call: string, arg?: string): T {
  if (r < 0) throw new SysError(call, errno(), arg);
  return r;
}

const enc = new TextEncoder();

/** A NUL-terminated C string; a string holding a NUL byte is refused (EINVAL) rather than cut short. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length * 3 + 1);
  const { written } = enc.encodeInto(s, out);
  if (out.subarray(0, written).includes(0)) throw new SysError("encode", Errno.EINVAL, s);
  return out.subarray(0, written + 1);
}

/** The address of a buffer as a syscall argument (0 for null). */
export function ptr(b: Uint8Array | null): bigint {
  if (!b) return 0n;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** A NULL-terminated `char *[]` of `list`; `keep` holds the strings alive while it is used. */
export function cstrArray(list: string[], keep: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const v = new BigUint64Array(list.length + 1);
  list.forEach((s, i) => {
    const c = cstr(s);
    keep.push(c);
    v[i] = ptr(c);
  });
  return new Uint8Array(v.buffer);
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
  return check(libc().open(cstr(path), flags, mode), "open", path);
}

/** `close(2)` (errors ignored). */
export function close(fd: number): void {
  libc().close(fd);
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

/**
 * Symbol `name` bound for a process that calls it once ({@link execveProgram}): a static pointer called
 * through `Deno.UnsafeFnPointer` (libffi). A `Deno.dlopen` of a function symbol makes Deno compile a
 * fast-call stub, and the process's first one costs ~3 ms (~1.5 ms this way, measured in-process on the CI VM);
 * each call is slower, so hot calls use {@link libc}.
 */
function libcOnce<N extends SymbolName>(name: N): Lib[N] {
  const ptr = Deno.dlopen("libc.so.6", { [name]: pointerSymbol(name) }).symbols[name];
  return viaPointer(name, ptr as Deno.PointerValue) as Lib[N];
}

/**
 * `execve(2)` of this process, for `pod exec`'s handoff (lib/container/exec_fast.ts): pod's own process
 * becomes the compiled exec helper; here beside the table rather than in a module of its own because the
 * handoff's path loads as few modules as it can (each ~0.5–1 ms from the checkout). Replaces this process with
 * program `path` (absolute), `argv` and exactly the environment `env` (`KEY=value`); returns only when that
 * failed: the errno (the process is unchanged then). From a multi-threaded process this is allowed: the kernel
 * ends the other threads. Signal handlers fall back to their defaults, ignored signals and the calling
 * thread's signal mask stay (the helper resets them for the command), descriptors without close-on-exec stay
 * open (the helper closes them).
 */
export function execveProgram(path: string, argv: string[], env: string[]): number {
  const keep: Uint8Array[] = [];
  const file = cstr(path);
  libcOnce("execve")(file, cstrArray(argv, keep), cstrArray(env, keep));
  return errno();
}
