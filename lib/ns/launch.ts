/**
 * Stage 1: starts a container. util-linux `unshare` makes the namespaces (Deno is multi-threaded and can't)
 * and runs stage 2 (`stage2.ts`) inside; rootless, stage 1 writes the id maps with newuidmap/newgidmap
 * while a tiny `sh` waits on a sync fifo, so stage 2 is exec'd as the mapped root with full capabilities.
 * With `--userns=keep-id` the user is not the namespace's root: `unshare --keep-caps` passes the
 * capabilities on as ambient ones and stage 2 makes itself root (uid/gid 0) first.
 *
 * Exec fifo protocol (`<stateDir>/exec.fifo`): stage 2 writes `pid <host pid>\n`, then nothing (its fd is
 * close-on-exec: EOF = the command runs) or `<code> <message>\n` on failure.
 * @module
 */

import { PodError } from "../errors.ts";
import { warnOnce } from "../log.ts";
import { checkHelpers } from "./helpers_check.ts";
import { mapArgs, toContainer } from "./idmap.ts";
import { mkfifo } from "./libc.ts";
import { pumpOutput } from "./log_pump.ts";
import { PtyRelay } from "./pty.ts";
import { sendSignal, signalNumber } from "./signals.ts";
import { type LaunchSpec, type ProcessSpec, stateFiles } from "./spec.ts";
import { type ExitRecord, supervisorCommand } from "./supervisor.ts";

/** How the container's stdio is wired. */
export type LaunchIO =
  | {
    mode: "foreground";
    tty: boolean;
    stdin: boolean;
    /** Without a terminal: also append the output to this k8s-file log (see log_pump.ts). */
    logPath?: string;
  }
  | {
    mode: "detached";
    logPath: string;
    exitPath: string;
    /** Give the container a pty, kept by the supervisor (its output is logged as stdout). */
    tty?: boolean;
    /** `-i`: the container's input comes through this fifo, made by the supervisor (`pod attach` writes it). */
    stdinFifo?: string;
  };

/** Callbacks during a launch. */
export interface LaunchHooks {
  /**
   * Called as soon as the host pid of the container's init is known (before its command runs); detached, with
   * the supervisor's pid too (it writes the exit record, see supervisor.ts).
   */
  onStarted?: (pid: number, supervisorPid?: number) => void | Promise<void>;
  /**
   * With `spec.deferProcess`: called once stage 2 has prepared the rootfs (an overlay root is then mounted at
   * `spec.rootfs` in stage 2's mount namespace: `/proc/<pid>/root<rootfs>`); returns the process to run there
   * (a throw stops the launch with that error). `onStarted` is then called after it, not at the pid.
   */
  resolveProcess?: (pid: number) => ProcessSpec | Promise<ProcessSpec>;
}

/** What a launch returns: the init's host pid, and in the foreground the exit code. */
export interface LaunchResult {
  pid: number;
  /** Foreground only: the container's exit code (128+N when killed by signal N). */
  exitCode?: number;
}

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/**
 * The command that runs stage 2 with the spec at `specPath`: from a source checkout, `stage2.ts` itself
 * (it imports only what it needs); from a bundle or a `jsr:` URL, the main module's hidden `__stage2`
 * entry; from a `deno compile` binary, the binary's.
 */
export function stage2Command(specPath: string): string[] {
  const exe = Deno.execPath();
  if (!/\/deno$/.test(exe)) return [exe, "__stage2", specPath];
  const url = new URL("../stage2.ts", import.meta.url);
  if (url.protocol === "file:") {
    const path = decodeURIComponent(url.pathname);
    try {
      Deno.statSync(path);
      return [exe, "run", "-A", "-q", "--no-config", path, specPath];
    } catch { /* bundled: no stage2.ts beside this code */ }
  }
  return [exe, "run", "-A", "-q", "--no-config", Deno.mainModule, "__stage2", specPath];
}

/**
 * Whether stage 2 must be given capabilities through the exec (`unshare --keep-caps`): rootless with a map
 * where the user is not the namespace's root (`--userns=keep-id`), so the exec'd stage 2 would not be root.
 */
export function needsKeepCaps(spec: LaunchSpec, uid = Deno.uid()): boolean {
  if (!spec.namespaces.user || uid === 0 || uid === null) return false;
  return toContainer(spec.uidMap ?? [], uid) !== 0;
}

/**
 * The `unshare` command line for `spec` (with the rootless sync wait when `syncFifo` is given).
 *
 * No `--fork`: util-linux 2.38's forking parent cannot re-raise SIGKILL (`sigprocmask unblock failed`, exit 1).
 * With a pid namespace, a tiny `sh` (still in the host's pid namespace) forks stage 2 as the namespace's
 * pid 1 and `wait`s for it, which yields 128+N for a kill by signal N; stdin is passed on through fd 3
 * (a non-interactive sh gives an async list /dev/null), stderr through fd 4.
 */
export function unshareCommand(
  spec: LaunchSpec,
  stage2: string[],
  syncFifo?: string,
  uid = Deno.uid(),
): string[] {
  const ns = spec.namespaces;
  const cmd = ["unshare"];
  if (ns.user) cmd.push("--user");
  if (needsKeepCaps(spec, uid)) cmd.push("--keep-caps");
  cmd.push("--mount");
  if (ns.pid) cmd.push("--pid");
  if (ns.uts) cmd.push("--uts");
  if (ns.ipc) cmd.push("--ipc");
  if (ns.net) cmd.push("--net");
  cmd.push("--");
  if (!syncFifo && !ns.pid) return [...cmd, ...stage2];
  // no maps (stage 1 gone before writing them): exit instead of running stage 2 unmapped
  const steps = syncFifo ? ['read _ < "$0" || exit 125'] : [];
  // sh's own stderr → /dev/null: dash reports a job killed by a signal ("Killed"), which must not reach the log
  steps.push(ns.pid ? 'exec 3<&0 4>&2 2>/dev/null; "$@" 0<&3 2>&4 3<&- 4>&- & wait $!' : 'exec "$@"');
  return [...cmd, "/bin/sh", "-c", steps.join("; "), syncFifo ?? "sh", ...stage2];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUserNs(pid: number, gone: () => boolean): Promise<void> {
  const own = Deno.readLinkSync("/proc/self/ns/user");
  for (let i = 0;; i++) {
    let ns: string | undefined;
    try {
      ns = Deno.readLinkSync(`/proc/${pid}/ns/user`);
    } catch { /* not yet / gone */ }
    if (ns && ns !== own) return;
    if (gone()) throw new PodError("the container process exited before its user namespace was set up");
    await sleep(i < 20 ? 1 : 5);
  }
}

async function writeMaps(pid: number, spec: Pick<LaunchSpec, "uidMap" | "gidMap">): Promise<void> {
  const uidMap = spec.uidMap ?? [], gidMap = spec.gidMap ?? [];
  if (!uidMap.length || !gidMap.length) throw new PodError("a user namespace needs uid and gid maps");
  if (Deno.uid() === 0) {
    const text = (m: typeof uidMap) => m.map((x) => `${x.containerId} ${x.hostId} ${x.size}\n`).join("");
    Deno.writeTextFileSync(`/proc/${pid}/uid_map`, text(uidMap));
    Deno.writeTextFileSync(`/proc/${pid}/gid_map`, text(gidMap));
    return;
  }
  const run = async (tool: string, maps: typeof uidMap) => {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(tool, {
        args: [String(pid), ...mapArgs(maps)],
        stdout: "null",
        stderr: "piped",
      })
        .output();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new PodError(
          `${tool} not found: install it with "apt-get install uidmap" (or "dnf install shadow-utils")`,
        );
      }
      throw e;
    }
    if (!out.success) {
      const msg = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
      throw new PodError(`${tool} ${pid} ${mapArgs(maps).join(" ")}: ${msg || `exit ${out.code}`}`);
    }
  };
  await Promise.all([run("newuidmap", uidMap), run("newgidmap", gidMap)]);
}

/**
 * Reads the exec fifo: resolves to the init pid and the stage 2 failure, if any. A `prepared` line after the
 * pid (deferred process) is answered by `onPrepared` before reading on.
 */
async function readExecFifo(
  reader: Deno.FsFile,
  keep: { file?: Deno.FsFile },
  onPid: (pid: number) => void,
  onPrepared?: () => Promise<void>,
): Promise<{ pid?: number; error?: { code: number; message: string } }> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  let pid: number | undefined;
  let prepared = !onPrepared;
  for (;;) {
    const n = await reader.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0 && (pid === undefined || !prepared)) {
      const line = text.slice(0, nl);
      if (pid !== undefined) {
        if (line !== "prepared") break; // an error line: read to EOF
        text = text.slice(nl + 1);
        prepared = true;
        await onPrepared!();
        continue;
      }
      text = text.slice(nl + 1);
      if (line === "abort") return {};
      if (line.startsWith("pid ")) {
        pid = Number(line.slice(4));
        keep.file?.close();
        keep.file = undefined;
        onPid(pid);
      }
    }
  }
  reader.close();
  const m = /^(\d+) (.*)/.exec(text.trim());
  return { pid, error: m ? { code: Number(m[1]), message: m[2] } : undefined };
}

function cmdlineEmpty(pid: number): boolean {
  try {
    return Deno.readFileSync(`/proc/${pid}/cmdline`).length === 0;
  } catch {
    return false;
  }
}

function exitCodeOf(s: Deno.CommandStatus): number {
  if (s.signal) return 128 + signalNumber(s.signal);
  return s.code;
}

function unshareMissing(e: unknown, tool: string): never {
  if (e instanceof Deno.errors.NotFound) {
    throw new PodError(
      `${tool} not found: install util-linux ("apt-get install util-linux" or "dnf install util-linux")`,
    );
  }
  throw e;
}

/** Namespaces and id maps: what an early stage 2 is started with (see {@link prelaunch}). */
export type PrelaunchNs = Pick<LaunchSpec, "namespaces" | "uidMap" | "gidMap">;

/**
 * A stage 2 started before its container's spec exists (`run` in the foreground without `-i`/`-t`):
 * util-linux `unshare`, the id maps and Deno's start-up (~20 ms) overlap with creating the container.
 * Stage 2 reads its spec as one line from its stdin, a pipe from this process ({@link launch} writes it);
 * EOF instead — {@link Prelaunched.cancel}, or this process died — makes it exit quietly.
 */
export interface Prelaunched {
  /** Namespaces and maps it was started with: a launch with other ones cancels it. */
  readonly key: string;
  /** Closes its stdin unwritten (a no-op once a launch took it). */
  cancel(): void;
  /** @internal used by {@link launch}. */
  readonly take: () => PrelaunchParts | undefined;
}

interface PrelaunchParts {
  specIn: WritableStreamDefaultWriter<Uint8Array>;
  child: Deno.ChildProcess;
  unsharePid: number;
  status: Promise<number>;
  exited: () => boolean;
  /** Rootless: the maps written and stage 2 let go (rejects when that failed). */
  ready: Promise<void>;
}

function prelaunchKey(ns: PrelaunchNs, logged: boolean): string {
  return JSON.stringify([ns.namespaces, ns.uidMap ?? [], ns.gidMap ?? [], logged]);
}

/**
 * Spawns `setsid <cmd>` with the foreground container's stdio: stdout/stderr inherited, or piped when they
 * are also logged (`pumpOutput`).
 */
function spawnForeground(
  cmd: string[],
  stdin: "inherit" | "null" | "piped",
  logged: boolean,
): Deno.ChildProcess {
  const out = logged ? "piped" : "inherit";
  try {
    return new Deno.Command("setsid", { args: cmd, stdin, stdout: out, stderr: out }).spawn();
  } catch (e) {
    unshareMissing(e, "setsid");
  }
}

/** Rootless: waits for the user namespace of `pid`, writes its maps, then lets the sync fifo go. */
async function mapAndRelease(
  pid: number,
  maps: Pick<LaunchSpec, "uidMap" | "gidMap">,
  syncFifo: string,
  status: Promise<number>,
  exited: () => boolean,
): Promise<void> {
  await waitUserNs(pid, exited);
  await writeMaps(pid, maps);
  const sync = await Promise.race([Deno.open(syncFifo, { write: true }), status.then(() => undefined)]);
  if (sync) {
    await sync.write(new TextEncoder().encode("go\n"));
    sync.close();
  }
}

/**
 * Starts stage 2 ahead of its spec (see {@link Prelaunched}); rootless, `dir` (a fresh temp dir, removed once
 * the maps are written) holds the sync fifo. `logged`: its output is piped, for a launch with a `logPath`.
 */
export function prelaunch(ns: PrelaunchNs, dir: string, logged = false): Prelaunched {
  checkHelpers({ rootless: ns.namespaces.user && Deno.uid() !== 0, detached: false });
  const syncFifo = ns.namespaces.user ? `${dir}/sync.fifo` : undefined;
  if (syncFifo) {
    Deno.mkdirSync(dir, { mode: 0o700 });
    mkfifo(syncFifo, 0o600);
  }
  const removeDir = () => {
    if (!syncFifo) return;
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone */ }
  };
  const shell = { namespaces: ns.namespaces, uidMap: ns.uidMap, gidMap: ns.gidMap } as LaunchSpec;
  let child: Deno.ChildProcess;
  try {
    child = spawnForeground(unshareCommand(shell, stage2Command("-"), syncFifo), "piped", logged);
  } catch (e) {
    removeDir();
    throw e;
  }
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return exitCodeOf(s);
  });
  const ready = syncFifo ? mapAndRelease(child.pid, ns, syncFifo, status, () => exited) : Promise.resolve();
  ready.then(removeDir, removeDir);
  const specIn = child.stdin.getWriter();
  let taken = false;
  return {
    key: prelaunchKey(ns, logged),
    cancel: () => {
      if (taken) return;
      taken = true;
      specIn.close().catch(() => {});
      if (logged) {
        child.stdout.cancel().catch(() => {});
        child.stderr.cancel().catch(() => {});
      }
      if (syncFifo && !exited) sendSignal(child.pid, 9); // maybe still waiting for its maps
      removeDir();
    },
    take: () => {
      if (taken) return undefined;
      taken = true;
      return { specIn, child, unsharePid: child.pid, status, exited: () => exited, ready };
    },
  };
}

/**
 * Starts the container described by `spec`. Foreground: stays attached (inherited stdio, or a pty with the
 * host terminal raw), forwards signals and resolves with the exit code. Detached: a perl supervisor owns
 * the container (logs, exit file) and this resolves once the command has been exec'd.
 * Failures before the command runs throw a PodError: 127 not found, 126 cannot invoke, 125 otherwise.
 */
export async function launch(
  spec: LaunchSpec,
  io: LaunchIO,
  hooks: LaunchHooks = {},
  early?: Prelaunched,
): Promise<LaunchResult> {
  for (const [what, path] of [["stateDir", spec.stateDir], ["rootfs", spec.rootfs]]) {
    // an empty or relative path would put the fifos, or the root, in the host's / or the current dir
    if (!path.startsWith("/") || /^\/*$/.test(path)) {
      throw new PodError(`launch: ${what} "${path}" is not a directory path`);
    }
  }
  const hasProcess = !!spec.process || !!spec.deferProcess;
  const logPath = io.mode === "foreground" && !io.tty && hasProcess ? io.logPath : undefined;
  const fits = io.mode === "foreground" && !io.tty && !io.stdin &&
    early?.key === prelaunchKey(spec, !!logPath);
  const pre = fits ? early!.take() : undefined;
  early?.cancel();
  if (!pre) {
    checkHelpers({ rootless: spec.namespaces.user && Deno.uid() !== 0, detached: io.mode === "detached" });
  }
  const files = stateFiles(spec.stateDir);
  Deno.mkdirSync(spec.stateDir, { recursive: true, mode: 0o700 });
  const syncFifo = spec.namespaces.user && !pre ? `${spec.stateDir}/sync.fifo` : undefined;
  const processFifo = spec.deferProcess ? files.processFifo : undefined;
  for (const f of [files.fifo, files.pid, syncFifo, files.processFifo]) {
    try {
      if (f) Deno.removeSync(f);
    } catch { /* absent */ }
  }
  for (const f of [files.fifo, syncFifo, processFifo]) if (f) mkfifo(f, 0o600);
  const relay = io.mode === "foreground" && io.tty && hasProcess ? new PtyRelay() : undefined;
  if (relay) spec = { ...spec, ttyPath: relay.slavePath };
  Deno.writeTextFileSync(files.spec, JSON.stringify(spec), { mode: 0o600 });
  const cmd = unshareCommand(spec, stage2Command(files.spec), syncFifo);

  const keep = { file: Deno.openSync(files.fifo, { read: true, write: true }) as Deno.FsFile | undefined };
  const reader = Deno.openSync(files.fifo, { read: true });
  // read-write: stage 2's open for reading never blocks, and EOF reaches it if this process dies
  let processOut = processFifo ? Deno.openSync(processFifo, { read: true, write: true }) : undefined;
  const closeProcessOut = () => {
    try {
      processOut?.close();
    } catch { /* closed */ }
    processOut = undefined;
  };
  let exited = false;
  let settled = false;
  let launched = false;
  let unsharePid: number;
  let supervisorPid: number | undefined;
  let status: Promise<number>;
  let output: Deno.ChildProcess | undefined; // piped stdout/stderr to pump into the log
  if (pre) {
    if (logPath) output = pre.child;
    unsharePid = pre.unsharePid;
    status = pre.status.then((code) => {
      exited = true;
      return code;
    });
    if (pre.exited()) exited = true;
    // a stage 2 that died meanwhile: the write fails, and its status says why
    await pre.specIn.write(new TextEncoder().encode(JSON.stringify(spec) + "\n")).catch(() => {});
    await pre.specIn.close().catch(() => {});
  } else if (io.mode === "foreground") {
    const child = spawnForeground(cmd, io.stdin && !io.tty ? "inherit" : "null", !!logPath);
    if (logPath) output = child;
    unsharePid = child.pid;
    status = child.status.then((s) => {
      exited = true;
      return exitCodeOf(s);
    });
  } else {
    try {
      Deno.removeSync(io.exitPath);
    } catch { /* absent */ }
    let child: Deno.ChildProcess;
    try {
      const sup = supervisorCommand(
        io.logPath,
        io.exitPath,
        cmd,
        !!io.tty && hasProcess,
        hasProcess ? io.stdinFifo : undefined,
      );
      child = new Deno.Command(sup[0], {
        args: sup.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
    } catch (e) {
      unshareMissing(e, "setsid");
    }
    const out = (await new Response(child.stdout).text()).trim();
    child.unref(); // the supervisor outlives pod
    const m = /^(\d+) (\d+)$/.exec(out);
    if (!m) throw new PodError("cannot start the container supervisor (is perl installed?)");
    unsharePid = Number(m[1]);
    supervisorPid = Number(m[2]);
    const exitPath = io.exitPath;
    status = (async () => {
      while (!settled) {
        try {
          const rec = JSON.parse(Deno.readTextFileSync(exitPath)) as ExitRecord;
          exited = true;
          return rec.exitCode;
        } catch { /* not yet */ }
        await sleep(10);
      }
      return -1;
    })();
  }
  const abort = () => {
    if (!keep.file) return;
    try {
      keep.file.writeSync(new TextEncoder().encode("abort\n"));
      keep.file.close();
    } catch { /* closed */ }
    keep.file = undefined;
  };
  status.then(abort);
  const pumping = output && logPath ? pumpOutput(output, logPath, status) : undefined;

  let pid = 0;
  const forward = (sig: Deno.Signal) => () => pid && sendSignal(pid, signalNumber(sig));
  const listeners: [Deno.Signal, () => void][] = [];
  try {
    if (pre) await pre.ready;
    else if (syncFifo) await mapAndRelease(unsharePid, spec, syncFifo, status, () => exited);
    if (io.mode === "foreground") {
      for (const s of FORWARDED) listeners.push([s, forward(s)]);
      if (relay) listeners.push(["SIGWINCH", () => relay.resize()]);
      for (const [s, f] of listeners) Deno.addSignalListener(s, f);
      relay?.start(io.stdin);
    }
    let hook: void | Promise<void> = undefined;
    const onPrepared = async () => {
      let line = "abort\n";
      try {
        line = JSON.stringify(await hooks.resolveProcess!(pid)) + "\n";
        hook = hooks.onStarted?.(pid, supervisorPid);
      } finally {
        const out = processOut!;
        const bytes = new TextEncoder().encode(line);
        for (let off = 0; off < bytes.length;) off += await out.write(bytes.subarray(off));
        closeProcessOut();
      }
    };
    const started = await readExecFifo(reader, keep, (p) => {
      pid = p;
      if (!spec.deferProcess) hook = hooks.onStarted?.(p, supervisorPid);
    }, spec.deferProcess ? onPrepared : undefined);
    await hook;
    relay?.released();
    if (started.error) {
      if (io.mode === "foreground") await status;
      throw new PodError(started.error.message, started.error.code);
    }
    if (!started.pid) {
      const code = await status;
      throw new PodError(`the container process exited (code ${code}) before running its command`);
    }
    launched = true;
    if (!hasProcess) return { pid: started.pid, exitCode: await status };
    if (io.mode === "detached") {
      // EOF comes when execve closes the fd, a moment before the new image's argv is in place.
      for (let i = 0; i < 100 && cmdlineEmpty(started.pid); i++) await sleep(1);
      return { pid: started.pid };
    }
    return { pid: started.pid, exitCode: await status };
  } finally {
    if (!launched && !exited) {
      // Failed half-way (maps, sync, stage 2 error): leave nothing running behind.
      if (pid) sendSignal(pid, 9);
      sendSignal(unsharePid, 9);
    }
    settled = true;
    abort();
    closeProcessOut();
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
    await relay?.finish();
    await pumping?.catch(() => {});
  }
}

/** Warns once when rootless maps had to fall back to a single id. */
export function warnSingleMapping(warning: string | undefined): void {
  if (warning) warnOnce("single-id-map", warning);
}
