/**
 * Starts a detached container of pod's own runtime under conmon (issue 13, conmon2): writes the shim
 * (conmon_shim.ts) and runs conmon with it as the runtime; pod's exec fifo protocol (launch.ts) goes on as with
 * the perl supervisor. The caller's descriptors >= 3 are closed in the `bash` that execs conmon (conmon would
 * keep them open for the container's life), and conmon's sync pipe is its fd 3.
 * @module
 */

import { PodError } from "../errors.ts";
import { pidAlive } from "../proc.ts";
import { hostBinary } from "./helpers_check.ts";
import { traceTime } from "../log.ts";
import { conmonShim, type EarlyFifos, type ShimExit } from "./conmon_shim.ts";
import { shQuote } from "./sh_quote.ts";
import type { ExitRecord } from "./supervisor.ts";
import { sleepMs } from "./sleep.ts";
import { mkfifo } from "./fs.ts";
import { sendSignal } from "./signals.ts";
import { bindTogether } from "./libc.ts";
import { closeFd, openPipe } from "./pipe.ts";
import { PIPE_SYMBOLS, spawnProgram } from "./spawn.ts";

/** How conmon supervises a container of pod's own runtime. */
export interface ConmonLaunch {
  /** conmon's binary and arguments, its runtime (`/bin/sh <shim>`) and exit command included. */
  argv: string[];
  /** Where the shim is written (`-r /bin/sh --runtime-arg <shim>`). */
  shim: string;
  /** conmon's own pid file (`-P`). */
  conmonPidFile: string;
  /** The shim's `exit` step (its exit record, teardown, events, hook). */
  exit: ShimExit;
}

const sleep = sleepMs; // not setTimeout: its first use loads node:timers (sleep.ts)

/**
 * Whether this process has a descriptor >= 3 without close-on-exec (a library user's own, or one inherited by
 * the CLI), which a spawned conmon would inherit: `/proc/self/fdinfo/N`'s `flags` (octal) lack `O_CLOEXEC`.
 * Deno opens its own descriptors close-on-exec, but for one `/dev/null` (left out: it keeps nothing open).
 */
export function hasInheritableFds(): boolean {
  const fds = inheritableFds();
  return !fds || fds.length > 0;
}

/** The descriptors {@link hasInheritableFds} looks for; undefined without /proc. */
function inheritableFds(): number[] | undefined {
  const out: number[] = [];
  try {
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      const n = Number(e.name);
      if (!(n > 2)) continue;
      let info: string;
      try {
        info = Deno.readTextFileSync(`/proc/self/fdinfo/${n}`);
      } catch {
        continue; // closed meanwhile (the directory listing's own descriptor)
      }
      const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
      if (flags !== undefined && parseInt(flags, 8) & 0o2000000) continue;
      // Deno keeps a /dev/null of its own open without close-on-exec: harmless in conmon (holds nothing open)
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${n}`) === "/dev/null") continue;
      } catch { /* closed meanwhile */ }
      out.push(n);
    }
    return out;
  } catch {
    return undefined; // no /proc: close them to be safe
  }
}

/**
 * The command that runs `argv` (conmon) with every descriptor >= 3 it inherited closed and its stdout as fd 3
 * (conmon's sync pipe; it puts /dev/null on 0-2 itself). bash, as dash cannot name fds above 9 — only when
 * there is one to close ({@link hasInheritableFds}; pods6: dash starts faster, on every detached start's path).
 */
export function conmonSpawnCommand(argv: string[]): string[] {
  const bash = hasInheritableFds() ? hostBinary("bash") : undefined;
  const close =
    'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; ';
  return [bash ?? "/bin/sh", "-c", (bash ? close : "") + 'exec "$@" 3>&1 >/dev/null 2>&1', "sh", ...argv];
}

/**
 * Reads conmon's first sync-pipe message (`{"data": PID}`, or `{"data": -1, "message": "…"}` when the runtime's
 * `create` failed) and lets go of the pipe (conmon keeps its end open while the container runs). `source`: a
 * child's stdout stream, or the pipe's read end as a file, read with its own `read` (pods10: a file's
 * `readable` loads Deno's streams code on its first use, ~8 ms before the early start's spawn returned).
 */
export async function readConmonSync(
  source: ReadableStream<Uint8Array> | Deno.FsFile,
): Promise<{ data: number; message?: string }> {
  // not `instanceof ReadableStream`: naming that global may load the streams code too
  const reader = "getReader" in source ? source.getReader() : undefined;
  const buf = reader ? undefined : new Uint8Array(4096);
  const next = async (): Promise<Uint8Array | undefined> => {
    if (reader) {
      const { value, done } = await reader.read();
      return done ? undefined : value;
    }
    const n = await (source as Deno.FsFile).read(buf!);
    return n === null ? undefined : buf!.slice(0, n);
  };
  let text = "";
  try {
    for (;;) {
      const value = await next();
      if (!value) break;
      text += new TextDecoder().decode(value);
      const m = /\{[^}]*\}/.exec(text);
      if (m) return JSON.parse(m[0]);
    }
  } finally {
    if (reader) await reader.cancel().catch(() => {});
    else {
      try {
        (source as Deno.FsFile).close();
      } catch { /* closed */ }
    }
  }
  return { data: -1, message: text.trim() || "conmon ended without creating the container" };
}

/** A spawned conmon (its parent still running, or gone once its pid file was written). */
export interface SpawnedConmon {
  /** Settles when conmon's parent has exited. */
  exited: Promise<unknown>;
  /** conmon's first sync-pipe message. */
  sync: Promise<{ data: number; message?: string }>;
  /** Why conmon could not create the container, once it said so. */
  failed: () => string | undefined;
}

/**
 * Writes the shim for the unshare command `cmd` (or an early start's fifos; see {@link conmonShim}; `exit`
 * undefined: an early start's, whose exit step does nothing): a new file, renamed over the last one (that
 * start's `exit` step may still be reading it).
 */
export function writeShim(
  shim: string,
  cmd: string[] | EarlyFifos,
  forks: boolean,
  exit: ShimExit | undefined,
): void {
  Deno.writeTextFileSync(`${shim}.tmp`, conmonShim(cmd, forks, `${shim}.unshare-pid`, exit), { mode: 0o600 });
  Deno.renameSync(`${shim}.tmp`, shim);
}

/**
 * Spawns conmon (`argv`: its binary and arguments) with its sync pipe on fd 3: with `posix_spawnp`
 * (lib/ns/spawn.ts; pods9: no `Deno.Command`, whose first use costs ~10 ms, nor a shell moving the pipe), or
 * through {@link conmonSpawnCommand} without /proc or FFI.
 */
export function spawnConmon(argv: string[]): SpawnedConmon {
  const inherited = inheritableFds();
  const direct = inherited ? spawnDirect(argv, inherited) : undefined;
  let exited: Promise<unknown>, out: ReadableStream<Uint8Array> | Deno.FsFile;
  if (direct) ({ exited, out } = direct);
  else {
    const [prog, ...args] = conmonSpawnCommand(argv);
    const child = new Deno.Command(prog, {
      args,
      env: { _OCI_SYNCPIPE: "3" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    exited = child.status;
    out = child.stdout;
  }
  traceTime("conmon: spawned");
  let failed: string | undefined;
  const sync = readConmonSync(out).then((s) => {
    if (!(s.data > 0)) {
      failed = s.message?.trim().split("\n").at(-1) ?? "conmon could not create the container";
    }
    return s;
  });
  sync.catch(() => {});
  return { exited, sync, failed: () => failed };
}

/**
 * conmon by `posix_spawnp`, a pipe's write end as its fd 3, /dev/null on 0-2 and on the `inherited`
 * descriptors; undefined when it cannot be.
 */
function spawnDirect(
  argv: string[],
  inherited: number[],
): { exited: Promise<unknown>; out: Deno.FsFile } | undefined {
  let pipe: { read: number; write: number } | undefined;
  try {
    bindTogether(PIPE_SYMBOLS, "pointer");
    pipe = openPipe();
  } catch { /* no FFI */ }
  if (!pipe) return undefined;
  if (pipe.write === 3) { // a dup2 onto itself would keep it close-on-exec
    closeFd(pipe.read);
    closeFd(pipe.write);
    return undefined;
  }
  let out: Deno.FsFile | undefined;
  try {
    // the read end as a file Deno reads (the pipe reopened: this end's own descriptor is closed below)
    out = Deno.openSync(`/proc/self/fd/${pipe.read}`, { read: true });
    const env = [...Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`), "_OCI_SYNCPIPE=3"];
    const spawned = spawnProgram(argv[0], argv, {
      env,
      stdin: false,
      setsid: false,
      quiet: true,
      dups: [{ from: pipe.write, to: 3 }],
      // descriptors inherited without close-on-exec: /dev/null instead in conmon (it would keep them open)
      files: inherited.filter((n) => n !== 3).map((fd) => ({ fd, path: "/dev/null", mode: "read" as const })),
    });
    if (!spawned) {
      out.close();
      return undefined;
    }
    return { exited: spawned.status, out };
  } catch {
    out?.close();
    return undefined;
  } finally {
    closeFd(pipe.read);
    closeFd(pipe.write);
  }
}

/**
 * Starts conmon for the unshare command `cmd` (`forks`: it reports the init's pid on fd 4); resolves to unshare's
 * pid, conmon's, and a status that settles with the exit record (-1 once `settled()` says nobody waits any
 * more; 125 when conmon could not create the container).
 */
export async function startConmon(
  c: ConmonLaunch,
  exitPath: string,
  cmd: string[],
  forks: boolean,
  settled: () => boolean,
): Promise<{ unsharePid: number; supervisorPid: number; status: Promise<number> }> {
  for (const f of [exitPath, `${c.shim}.unshare-pid`, c.conmonPidFile, c.exit.conmonExit]) {
    try {
      Deno.removeSync(f);
    } catch { /* absent */ }
  }
  writeShim(c.shim, cmd, forks, c.exit);
  return await conmonStarted(spawnConmon(c.argv), c, exitPath, settled);
}

/** Reads a pid file: its pid, or 0 when it is missing or not (yet) a number. */
function readPid(f: string): number {
  try {
    const t = Deno.readTextFileSync(f).trim();
    return /^\d+$/.test(t) ? Number(t) : 0;
  } catch {
    return 0;
  }
}

/**
 * The rest of {@link startConmon} once conmon was spawned (now, or by an early start): waits for its parent to
 * exit and for unshare's pid; the result as there.
 */
export async function conmonStarted(
  s: SpawnedConmon,
  c: Pick<ConmonLaunch, "shim" | "conmonPidFile">,
  exitPath: string,
  settled: () => boolean,
): Promise<{ unsharePid: number; supervisorPid: number; status: Promise<number> }> {
  await s.exited; // conmon's parent exits once its pid file is written
  traceTime("conmon: parent exited");
  const supervisorPid = readPid(c.conmonPidFile);
  let unsharePid = 0;
  for (let i = 0; !(unsharePid = readPid(`${c.shim}.unshare-pid`)); i++) {
    // conmon reports a failed create on its sync pipe; one that died (or never ran the shim) is looked at too
    const gone = i % 100 === 99 && !(supervisorPid > 0 && pidAlive(supervisorPid));
    if (s.failed() !== undefined || gone || i > 6000) {
      throw new PodError(`conmon: ${s.failed() ?? "the container's runtime did not start"}`);
    }
    await sleep(i < 100 ? 1 : 10);
  }
  const status = (async () => {
    while (!settled()) {
      try {
        return (JSON.parse(Deno.readTextFileSync(exitPath)) as ExitRecord).exitCode;
      } catch { /* not yet */ }
      if (s.failed() !== undefined) return 125;
      await sleep(10);
    }
    return -1;
  })();
  return { unsharePid, supervisorPid, status };
}

// --- pods9 (issue 15): an early start of a detached container under conmon ---

/**
 * conmon started for a detached container before its record exists (lib/container/start_early.ts). Its shim
 * waits for the unshare command ({@link EarlyConmon.send}: as soon as it is known, for a pod member once its
 * infra runs) and runs it, so stage 2 starts up while pod creates the container; stage 2 then waits for its
 * spec on its stdin, a fifo pod holds open (EOF — a cancel, or pod died — makes it exit quietly; the shim exits
 * at EOF of the command fifo the same way). `launch` takes it when the command sent is the one the start needs
 * (sending it if nobody did yet), else cancels it.
 */
export interface EarlyConmon {
  /** The shim's path (conmon was started with it), and whether it takes the init's pid from fd 4 (`forks`). */
  readonly shim: string;
  readonly forks: boolean;
  /**
   * Sends the unshare command (stage 2 reading its spec from stdin), once: false when another one was sent
   * before, or it cannot be (cancelled or taken, or a word with a newline).
   */
  send(cmd: string[]): boolean;
  /**
   * @internal used by `launch` once the command was sent: conmon, and the fifos (both held open here until
   * conmon's create is over); undefined when nothing was sent, or once taken or cancelled.
   */
  readonly take: () =>
    | { spawned: SpawnedConmon; spec: Deno.FsFile; command: Deno.FsFile; fifos: EarlyFifos }
    | undefined;
  /**
   * Unless taken: ends the shim or stage 2 and waits until conmon is gone (its shim's exit step records
   * nothing); true when this call did that.
   */
  cancel(): Promise<boolean>;
}

/**
 * Binds the libc symbols of {@link startEarlyConmon} with one `dlopen`: the fifos, the spawn, the polls' sleeps
 * (each alone costs more). Called first by the early start (pods10): with `syscall` bound, `hostBinary` skips
 * a PATH dir without the tool by one `faccessat` instead of a throwing stat.
 */
export function bindEarlySymbols(): void {
  try {
    bindTogether([...PIPE_SYMBOLS, "mkfifo", "usleep"], "pointer");
  } catch { /* no FFI: mkfifo says so */ }
}

/**
 * Starts conmon (`c.argv`) with a shim that reads the unshare command from `fifos.command` and runs it with
 * `fifos.spec` as stdin (both made here; `forks`: as in {@link startConmon}); see {@link EarlyConmon}.
 */
export function startEarlyConmon(
  c: Pick<ConmonLaunch, "argv" | "shim" | "conmonPidFile">,
  forks: boolean,
  fifos: EarlyFifos,
): EarlyConmon {
  bindEarlySymbols();
  mkfifo(fifos.command, 0o600);
  mkfifo(fifos.spec, 0o600);
  // read-write: the opens do not wait for a reader, nor do the shim's opens for reading
  const command = Deno.openSync(fifos.command, { read: true, write: true });
  const spec = Deno.openSync(fifos.spec, { read: true, write: true });
  const closeCommand = () => {
    try {
      command.close();
    } catch { /* closed */ }
  };
  let spawned: SpawnedConmon;
  try {
    writeShim(c.shim, fifos, forks, undefined);
    spawned = spawnConmon(c.argv);
  } catch (e) {
    closeCommand();
    spec.close();
    throw e;
  }
  let taken = false;
  let sent: string[] | undefined;
  return {
    shim: c.shim,
    forks,
    send: (cmd) => {
      if (sent) return JSON.stringify(sent) === JSON.stringify(cmd);
      if (taken || cmd.some((w) => w.includes("\n"))) return false;
      // one short line: a single write, whole (under PIPE_BUF)
      const line = new TextEncoder().encode(cmd.map(shQuote).join(" ") + "\n");
      try {
        if (command.writeSync(line) !== line.length) return false;
      } catch {
        return false;
      }
      sent = cmd;
      traceTime("early: unshare command sent");
      return true;
    },
    take: () => {
      if (taken || !sent) return undefined;
      taken = true;
      return { spawned, spec, command, fifos };
    },
    cancel: async () => {
      if (taken) return false;
      taken = true;
      if (!sent) {
        try {
          command.writeSync(new TextEncoder().encode("\n")); // not sent: the shim fails conmon's create
        } catch { /* the shim is gone */ }
      }
      await spawned.exited;
      const conmon = readPid(c.conmonPidFile);
      // the init's pid once the shim's create is over (stage 2, or the process that becomes it): killed, not
      // left to see EOF (it reads only once its Deno is up)
      const got: { sync?: { data: number }; over?: boolean } = {};
      spawned.sync.then((s) => got.sync = s, () => {}).finally(() => got.over = true);
      for (let i = 0; !got.over && i < 600; i++) await sleep(i < 100 ? 1 : 10); // a poll: no long timer left
      if (got.sync && got.sync.data > 0) sendSignal(got.sync.data, 9);
      closeCommand();
      spec.close();
      for (let i = 0; conmon > 0 && pidAlive(conmon); i++) {
        if (i === 500) sendSignal(conmon, 9);
        await sleep(i < 100 ? 1 : 10);
      }
      for (const f of [fifos.command, fifos.spec]) {
        try {
          Deno.removeSync(f);
        } catch { /* removed */ }
      }
      return true;
    },
  };
}
