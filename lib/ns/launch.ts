/**
 * Stage 1: starts a container. util-linux `unshare` makes the namespaces (Deno is multi-threaded and can't)
 * and runs stage 2 (`lib/stage2.ts`) inside; rootless, stage 1 writes the id maps with newuidmap/newgidmap
 * while a tiny `sh` waits on a sync fifo (userns.ts), so stage 2 is exec'd as the mapped root with full
 * capabilities. With `--userns=keep-id` the user is not the namespace's root: `unshare --keep-caps` passes
 * the capabilities on as ambient ones and stage 2 makes itself root (uid/gid 0) first.
 *
 * The parts: the stage 2 command line (stage2_command.ts), the `unshare` line (unshare.ts), the exec fifo
 * protocol (exec_fifo.ts), an early start (prelaunch.ts) and the detached supervisor (supervisor.ts).
 * The parts only some launches use are loaded on first use (each module ~0.5–1 ms on every start): the log
 * pump (a logged foreground run), the pty relay (`-t`), the holder (a pod's infra) and the perl supervisor.
 * @module
 */

import { PodError } from "../errors.ts";
import { traceTime } from "../log.ts";
import { abortExecFifo, cmdlineEmpty, readExecFifo } from "./exec_fifo.ts";
import { mkfifo } from "./fs.ts";
import { checkHelpers, utilLinuxMissing } from "./helpers_check.ts";
import { type Prelaunched, prelaunchKey } from "./prelaunch.ts";
import type { PtyRelay } from "./pty.ts";
import { sendSignal, signalNumber } from "./signals.ts";
import { type LaunchSpec, type ProcessSpec, stateFiles } from "./spec.ts";
import { stage2Command } from "./stage2_command.ts";
import type { ExitRecord, SupervisorEvents, SupervisorExtras } from "./supervisor.ts";
import { exitCodeOf, forksInit, spawnForeground, unshareCommand } from "./unshare.ts";
import { mapAndRelease } from "./userns.ts";
import type { ConmonLaunch, EarlyConmon } from "./conmon_launch.ts";
import { sleepMs } from "./sleep.ts";

/** How the container's stdio is wired. */
export type LaunchIO =
  | {
    mode: "foreground";
    tty: boolean;
    stdin: boolean;
    /** Without a terminal: also append the output to this k8s-file log (see log_pump.ts). */
    logPath?: string;
    /** `--log-opt max-size=`: the log is rotated to `<logPath>.1` before it would grow past it. */
    logMaxSize?: number;
  }
  | {
    mode: "detached";
    logPath: string;
    exitPath: string;
    /** Give the container a pty, kept by the supervisor (its output is logged as stdout). */
    tty?: boolean;
    /** `-i`: the container's input comes through this fifo, made by the supervisor (`pod attach` writes it). */
    stdinFifo?: string;
    /** The supervisor appends `died` and `cleanup` events to this log when the command ends (supervisor.ts). */
    events?: SupervisorEvents;
    /** The supervisor's exit hook and health check timer. */
    extras?: SupervisorExtras;
    /** A shell script the supervisor runs (if it exists then) when the container ended, before the exit record. */
    exitHook?: string;
    /** conmon2 (issue 13): conmon supervises instead of the perl supervisor (its shim does the exit duties). */
    conmon?: ConmonLaunch;
    /** pods9: conmon started early for this container (used when its command matches, else cancelled first). */
    early?: EarlyConmon;
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
  /**
   * net5 (issue 12): with `resolveProcess`, what must be done before the process runs but not before it is
   * resolved (the container's network): stage 2 builds the root meanwhile (`ProcessSpec.gate`).
   */
  gate?: (pid: number) => Promise<void>;
  /**
   * Called as soon as stage 2 reported its pid (its namespaces exist), before it has prepared the root: work on
   * the namespaces (the container's network) can start then, beside stage 2's own.
   */
  onPid?: (pid: number) => void;
  /**
   * net3: called as soon as the pid of the process that makes the container's new network namespace is known
   * (`unshare`'s: the namespace exists once `/proc/<pid>/ns/net` differs from this process's), before stage 2
   * has started: the network can be set up beside stage 2's start-up. Not called when the netns is joined.
   */
  onUnshared?: (pid: number) => void;
}

/** What a launch returns: the init's host pid, and in the foreground the exit code. */
export interface LaunchResult {
  pid: number;
  /** Foreground only: the container's exit code (128+N when killed by signal N). */
  exitCode?: number;
}

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

const sleep = sleepMs; // not setTimeout: its first use loads node:timers (sleep.ts)

/**
 * Detached: starts the perl supervisor (supervisor.ts) that runs `cmd` and outlives pod; resolves to the
 * pids of `unshare` and of the supervisor, and a status that settles with the exit record (-1 once
 * `settled()` says nobody waits any more).
 */
async function startSupervised(
  io: Extract<LaunchIO, { mode: "detached" }>,
  cmd: string[],
  hasProcess: boolean,
  settled: () => boolean,
  cgroup: LaunchSpec["cgroup"],
  forks = false,
): Promise<{ unsharePid: number; supervisorPid: number; status: Promise<number> }> {
  try {
    Deno.removeSync(io.exitPath);
  } catch { /* absent */ }
  const { cgroupEnv, supervisorCommand } = await import("./supervisor.ts");
  const env = cgroupEnv(cgroup);
  let child: Deno.ChildProcess;
  try {
    const sup = supervisorCommand(
      io.logPath,
      io.exitPath,
      cmd,
      !!io.tty && hasProcess,
      hasProcess ? io.stdinFifo : undefined,
      hasProcess ? io.extras : undefined,
      forks,
    );
    const evEnv = io.events
      ? { POD_EV_PATH: io.events.path, POD_EV_HEAD: io.events.head, POD_EV_TAIL: io.events.tail }
      : undefined;
    const hookEnv = io.exitHook ? { POD_EXIT_HOOK: io.exitHook } : undefined;
    child = new Deno.Command(sup[0], {
      args: sup.slice(1),
      env: env || evEnv || hookEnv ? { ...env, ...evEnv, ...hookEnv } : undefined,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    })
      .spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw utilLinuxMissing("setsid");
    throw e;
  }
  const out = (await new Response(child.stdout).text()).trim();
  child.unref(); // the supervisor outlives pod
  const m = /^(\d+) (\d+)$/.exec(out);
  if (!m) throw new PodError("cannot start the container supervisor (is perl installed?)");
  const exitPath = io.exitPath;
  const status = (async () => {
    while (!settled()) {
      try {
        return (JSON.parse(Deno.readTextFileSync(exitPath)) as ExitRecord).exitCode;
      } catch { /* not yet */ }
      await sleep(10);
    }
    return -1;
  })();
  return { unsharePid: Number(m[1]), supervisorPid: Number(m[2]), status };
}

/**
 * Starts the container described by `spec`. Foreground: stays attached (inherited stdio, or a pty with the
 * host terminal raw), forwards signals and resolves with the exit code. Detached: a perl supervisor, or conmon
 * with `io.conmon` (conmon_launch.ts), owns the container (logs, exit file) and this resolves once the command
 * has been exec'd.
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
  traceTime("launch: begin");
  const hasProcess = !!spec.process || !!spec.deferProcess;
  const logPath = io.mode === "foreground" && !io.tty && hasProcess ? io.logPath : undefined;
  const fits = io.mode === "foreground" && !io.tty && !io.stdin &&
    early?.key === prelaunchKey(spec, !!logPath) && !spec.join?.user;
  const pre = fits ? early!.take() : undefined;
  early?.cancel();
  if (!pre) {
    checkHelpers({ rootless: spec.namespaces.user && Deno.uid() !== 0, detached: io.mode === "detached" });
  }
  const files = stateFiles(spec.stateDir);
  Deno.mkdirSync(spec.stateDir, { recursive: true, mode: 0o700 });
  const syncFifo = spec.namespaces.user && !spec.join?.user && !pre
    ? `${spec.stateDir}/sync.fifo`
    : undefined;
  const processFifo = spec.deferProcess ? files.processFifo : undefined;
  for (const f of [files.fifo, files.pid, syncFifo, files.processFifo]) {
    try {
      if (f) Deno.removeSync(f);
    } catch { /* absent */ }
  }
  for (const f of [files.fifo, syncFifo, processFifo]) if (f) mkfifo(f, 0o600);
  const relay: PtyRelay | undefined = io.mode === "foreground" && io.tty && hasProcess
    ? new (await import("./pty.ts")).PtyRelay()
    : undefined;
  if (relay) spec = { ...spec, ttyPath: relay.slavePath };
  Deno.writeTextFileSync(files.spec, JSON.stringify(spec), { mode: 0o600 });
  // detached: the supervisor reaps the init itself, no sh waits for it (supervisor.ts)
  const forks = io.mode === "detached" && forksInit(spec);
  // pods3: a pod's default infra runs a namespace holder, not stage 2
  const inner = spec.holder
    ? (await import("./holder.ts")).holderCommand(spec, files)
    : stage2Command(files.spec);
  const cmd = unshareCommand(spec, inner, syncFifo, undefined, undefined, forks);
  // pods9: a detached start's conmon started early, its stage 2 waiting for the spec on its stdin
  let earlyC: ReturnType<EarlyConmon["take"]>;
  if (io.mode === "detached" && io.early) {
    // its shim runs this start's command (sent now if nobody did: a member whose infra started meanwhile)
    const fits = io.conmon && hasProcess && !spec.holder && io.early.shim === io.conmon.shim &&
      io.early.forks === forks;
    const earlyCmd = unshareCommand(spec, stage2Command("-"), syncFifo, undefined, undefined, forks);
    earlyC = fits && io.early.send(earlyCmd) ? io.early.take() : undefined;
    if (!earlyC) await io.early.cancel(); // gone before this start's own conmon runs in the same directory
  }

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
  } else if (io.mode === "foreground") {
    const child = spawnForeground(cmd, io.stdin && !io.tty ? "inherit" : "null", !!logPath);
    if (logPath) output = child;
    unsharePid = child.pid;
    status = child.status.then((s) => {
      exited = true;
      return exitCodeOf(s);
    });
  } else if (earlyC && io.mode === "detached" && io.conmon) {
    const cl = await import("./conmon_launch.ts");
    try {
      Deno.removeSync(io.exitPath);
    } catch { /* absent */ }
    // the shim with its exit step now (conmon runs it anew when the container ends); its `create` the early
    // one still: conmon may not have started it yet (under load), and then reads this file
    cl.writeShim(io.conmon.shim, earlyC.fifos, forks, io.conmon.exit);
    const sup = await cl.conmonStarted(earlyC.spawned, io.conmon, io.exitPath, () => settled).catch((e) => {
      earlyC!.spec.close(); // EOF: stage 2 exits
      earlyC!.command.close();
      throw e;
    });
    unsharePid = sup.unsharePid;
    supervisorPid = sup.supervisorPid;
    status = sup.status.then((code) => {
      if (code !== -1) exited = true;
      return code;
    });
  } else {
    const sup = io.conmon && hasProcess
      ? await (await import("./conmon_launch.ts")).startConmon(
        io.conmon,
        io.exitPath,
        cmd,
        forks,
        () => settled,
      )
      : await startSupervised(io, cmd, hasProcess, () => settled, spec.cgroup, forks);
    unsharePid = sup.unsharePid;
    supervisorPid = sup.supervisorPid;
    status = sup.status.then((code) => {
      if (code !== -1) exited = true;
      return code;
    });
  }
  // the early netavark start watches the unshare'd process; a detached start's forking sh exits at once (its
  // child, the init, is reaped by the supervisor), so those start networking at stage 2's pid instead
  if (spec.namespaces.net && !spec.join?.net && !forks) hooks.onUnshared?.(unsharePid);
  traceTime("launch: fifos made, unshare running");
  const abort = () => abortExecFifo(keep);
  status.then(abort);
  const pumping = output && logPath
    ? (await import("./log_pump.ts")).pumpOutput(
      output,
      logPath,
      status,
      100,
      io.mode === "foreground" ? io.logMaxSize : undefined,
    )
    : undefined;

  let pid = 0;
  const forward = (sig: Deno.Signal) => () => pid && sendSignal(pid, signalNumber(sig));
  const listeners: [Deno.Signal, () => void][] = [];
  try {
    if (pre) {
      await pre.ready; // with a user namespace, the spec is what lets stage 2 go on once its maps are written
      // a stage 2 that died meanwhile: the write fails, and its status says why
      await pre.specIn.write(new TextEncoder().encode(JSON.stringify(spec) + "\n")).catch(() => {});
      await pre.specIn.close().catch(() => {});
      traceTime("launch: maps written, spec sent");
    } else if (earlyC) {
      // the exec fifo is open for reading: stage 2 may go on (a stage 2 gone meanwhile: its status says why);
      // the spec fifo is open on its side once conmon's create is over (the shim opens it)
      await earlyC.spawned.sync;
      const bytes = new TextEncoder().encode(JSON.stringify(spec) + "\n");
      try {
        for (let off = 0; off < bytes.length;) off += await earlyC.spec.write(bytes.subarray(off));
      } catch { /* gone */ }
      earlyC.spec.close();
      earlyC.command.close();
      for (const f of [earlyC.fifos.spec, earlyC.fifos.command]) {
        try {
          Deno.removeSync(f); // stage 2 has the spec's open, the shim read its command
        } catch { /* removed */ }
      }
      earlyC = undefined;
      traceTime("launch: spec sent to the early stage 2");
    } else if (syncFifo) await mapAndRelease(unsharePid, spec, syncFifo, status, () => exited);
    if (io.mode === "foreground") {
      for (const s of FORWARDED) listeners.push([s, forward(s)]);
      if (relay) listeners.push(["SIGWINCH", () => relay.resize()]);
      for (const [s, f] of listeners) Deno.addSignalListener(s, f);
      relay?.start(io.stdin);
    }
    let hook: void | Promise<void> = undefined;
    const send = async (line: string) => {
      const bytes = new TextEncoder().encode(line);
      for (let off = 0; off < bytes.length;) off += await processOut!.write(bytes.subarray(off));
    };
    const onPrepared = async () => {
      let line = "abort\n";
      try {
        const p = await hooks.resolveProcess!(pid);
        if (hooks.gate) {
          // net5: the process now, `go` once the gate is passed (stage 2 builds the root meanwhile)
          await send(JSON.stringify({ ...p, gate: true }) + "\n");
          await hooks.gate(pid);
          line = "go\n";
        } else line = JSON.stringify(p) + "\n";
        hook = hooks.onStarted?.(pid, supervisorPid);
      } finally {
        await send(line);
        closeProcessOut();
      }
    };
    const started = await readExecFifo(reader, keep, (p) => {
      traceTime("launch: stage 2 pid read");
      pid = p;
      hooks.onPid?.(p);
      if (!spec.deferProcess) hook = hooks.onStarted?.(p, supervisorPid);
    }, spec.deferProcess ? onPrepared : undefined);
    traceTime("launch: exec fifo EOF (execve done)");
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
    const exitCode = await status;
    traceTime("launch: unshare exited");
    return { pid: started.pid, exitCode };
  } finally {
    if (!launched && !exited) {
      // Failed half-way (maps, sync, stage 2 error): leave nothing running behind.
      if (pid) sendSignal(pid, 9);
      sendSignal(unsharePid, 9);
    }
    settled = true;
    abort();
    closeProcessOut();
    try {
      earlyC?.spec.close(); // not sent (a failure before): EOF, stage 2 exits
      earlyC?.command.close();
    } catch { /* closed */ }
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
    await relay?.finish();
    await pumping?.catch(() => {});
  }
}
