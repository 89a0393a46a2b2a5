/**
 * Starting containers: launch the process detached (a supervisor writes the log and exit.json) or in the
 * foreground (this process waits and records the exit). Overlay containers: stage 2 builds the image tree
 * when it is missing and mounts the overlay; the process is resolved against that root. vfs containers:
 * the rootfs is extracted on first start.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug } from "../log.ts";
import { launch, type LaunchHooks, type LaunchResult } from "../ns/launch.ts";
import type { Prelaunched } from "../ns/prelaunch.ts";
import type { LaunchSpec, ProcessSpec } from "../ns/spec.ts";
import { procStartTime } from "../proc.ts";
import {
  containerPaths,
  type ContainerRecord,
  nowNano,
  readContainer,
  withContainerLock,
  writeState,
  ZERO_TIME,
} from "../store/containers.ts";
import { pathExists } from "../store/paths.ts";
import { supervisorCommand, type SupervisorExtras } from "../ns/supervisor.ts";
import { signalNumber } from "../ns/signals.ts";
import { podCommandLine } from "./self_command.ts";
import { ensureTreesDir, treePath } from "../store/trees.ts";
import {
  overlayRunSpec,
  prepareSpec,
  preparingRunSpec,
  processSpec,
  runSpec,
  securitySpec,
} from "./launch_spec.ts";

/**
 * vfs containers: extracts the image into the rootfs unless that was done before (a start after a stop reuses
 * it). Overlay containers have no rootfs of their own to make (their tree is built by the first start).
 */
export async function ensureRootfs(root: string, rec: ContainerRecord): Promise<void> {
  const cp = containerPaths(root, rec.config.id);
  if (rec.config.storage || await pathExists(cp.rootfs)) return;
  await Deno.mkdir(`${cp.dir}/run`, { recursive: true, mode: 0o700 });
  const t0 = performance.now();
  if (extractsHere(rec)) {
    await extractHere(cp.rootfs, rec);
  } else {
    const r = await launch(prepareSpec(root, rec.config), { mode: "foreground", tty: false, stdin: false });
    if (r.exitCode !== 0) {
      throw new PodError(`preparing the root file system of ${rec.config.id.slice(0, 12)} failed`);
    }
  }
  debug(`rootfs of ${rec.config.id.slice(0, 12)} prepared in ${Math.round(performance.now() - t0)} ms`);
}

/** No user namespace: the layers' ids are the host's, so this process extracts them (saves a process start). */
function extractsHere(rec: ContainerRecord): boolean {
  return rec.config.userns.mode === "host" && Deno.uid() === 0;
}

/** Extracts the layers into `<rootfs>.tmp`, renamed to `rootfs` once every layer verified. */
async function extractHere(rootfs: string, rec: ContainerRecord): Promise<void> {
  const { unpackInto } = await import("../unpack/mod.ts");
  await unpackInto(rootfs, `${rootfs}.tmp`, rec.config.layers, { replace: true });
}

/** How a start launches. */
interface StartPlan {
  spec: LaunchSpec;
  /** The process, resolved once stage 2 made the root (see {@link preparingRunSpec}): pid = stage 2's. */
  resolveProcess?: (pid: number) => Promise<ProcessSpec>;
  /** Whether the process was resolved: a failure before that leaves the container as it was (not started). */
  resolved: () => boolean;
  /** Waits for this process's own extraction to end (after a failed launch). */
  settle: () => Promise<void>;
}

/**
 * The launch of a start: the full spec when the rootfs exists; on a first start, one launch that makes the
 * rootfs and then runs the process (no separate prepare launch). Rootless, stage 2 extracts inside the user
 * namespace; as root without one, this process extracts while stage 2 starts up.
 */
async function startPlan(root: string, rec: ContainerRecord, terminal: boolean): Promise<StartPlan> {
  const [plan, security] = await Promise.all([
    launchPlan(root, rec, terminal),
    securitySpec(root, rec.config),
  ]);
  plan.spec = { ...plan.spec, ...security };
  return plan;
}

async function launchPlan(root: string, rec: ContainerRecord, terminal: boolean): Promise<StartPlan> {
  const c = rec.config;
  const cp = containerPaths(root, c.id);
  if (c.storage) {
    const t0 = performance.now();
    const build = !(await pathExists(treePath(root, c.storage.tree)));
    if (build) await ensureTreesDir(root);
    let resolved = false;
    return {
      spec: overlayRunSpec(root, c, build),
      resolveProcess: (pid: number) => {
        debug(
          `root of ${c.id.slice(0, 12)} mounted${build ? " (tree built)" : ""} in ${
            Math.round(performance.now() - t0)
          } ms`,
        );
        // the overlay is mounted only in stage 2's mount namespace: read it there
        const p = processSpec(`/proc/${pid}/root${Deno.realPathSync(cp.dir)}/rootfs`, c, terminal);
        resolved = true;
        return Promise.resolve(p);
      },
      resolved: () => resolved,
      settle: () => Promise.resolve(),
    };
  }
  if (await pathExists(cp.rootfs)) {
    return { spec: runSpec(root, c, terminal), resolved: () => true, settle: () => Promise.resolve() };
  }
  const t0 = performance.now();
  const here = extractsHere(rec);
  const extraction = here ? extractHere(cp.rootfs, rec) : undefined;
  extraction?.catch(() => {}); // reported through resolveProcess, awaited by settle
  let resolved = false;
  return {
    spec: preparingRunSpec(root, c, !here),
    resolveProcess: async (_pid: number) => {
      await extraction;
      debug(`rootfs of ${c.id.slice(0, 12)} prepared in ${Math.round(performance.now() - t0)} ms`);
      const p = processSpec(cp.rootfs, c, terminal);
      resolved = true;
      return p;
    },
    resolved: () => resolved,
    settle: async () => await extraction?.catch(() => {}),
  };
}

async function resetForStart(root: string, rec: ContainerRecord): Promise<void> {
  const cp = containerPaths(root, rec.config.id);
  await Deno.remove(cp.exit).catch(() => {});
  if (rec.config.healthcheck) {
    const { resetHealth } = await import("./health_state.ts");
    await resetHealth(root, rec.config.id);
  }
  await Deno.mkdir(`${cp.dir}/run`, { recursive: true, mode: 0o700 });
}

function startedState(
  rec: ContainerRecord,
  pid: number,
  detached: boolean,
  waiterPid?: number,
  byPolicy = false,
) {
  return {
    ...rec.state,
    status: "running" as const,
    pid,
    pidStart: procStartTime(pid),
    waiterPid,
    waiterStart: detached && waiterPid ? procStartTime(waiterPid) : undefined,
    startedAt: nowNano(),
    finishedAt: ZERO_TIME,
    exitCode: 0,
    error: undefined,
    detached,
    // podman: the restarts of the restart policy; a start by the user begins again at 0
    restartCount: byPolicy ? (rec.state.restartCount ?? 0) + 1 : 0,
    restartStreak: byPolicy ? (rec.state.restartStreak ?? 0) + 1 : 0,
    stoppedByUser: false,
    restarting: false,
  };
}

/**
 * Starts a container detached. Resolves once its command is really running (or already was).
 * Returns false when it was already running. `byPolicy`: a restart of its restart policy (not when the user
 * stopped it meanwhile; counted in `RestartCount`); `countAsRestart`: counted too (a health check's restart).
 */
export async function startDetached(
  root: string,
  id: string,
  opts: { byPolicy?: boolean; countAsRestart?: boolean } = {},
): Promise<boolean> {
  return await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    if (rec.state.status === "running" || rec.state.status === "paused") return false;
    if (opts.byPolicy && rec.state.stoppedByUser) return false;
    const cp = containerPaths(root, id);
    await resetForStart(root, rec);
    const runc = await runcOf(rec.config);
    if (runc) {
      rec.state = await startRuncDetached(root, rec, runc, opts.byPolicy || opts.countAsRestart);
      return true;
    }
    const plan = await startPlan(root, rec, rec.config.process.terminal);
    let started: Promise<void> | undefined;
    try {
      const io = {
        mode: "detached" as const,
        logPath: cp.log,
        exitPath: cp.exit,
        tty: rec.config.process.terminal,
        stdinFifo: rec.config.process.stdin ? cp.attach : undefined,
        extras: supervisorExtras(root, rec.config),
      };
      await launch(plan.spec, io, {
        onStarted: (pid: number, supervisorPid?: number) => {
          // the supervisor writes the exit record: waited for
          rec.state = startedState(rec, pid, true, supervisorPid, opts.byPolicy || opts.countAsRestart);
          started = writeState(root, id, rec.state);
        },
        resolveProcess: plan.resolveProcess,
      });
    } catch (e) {
      await started?.catch(() => {});
      await plan.settle();
      if (!plan.resolved()) throw e;
      rec.state = {
        ...rec.state,
        status: "exited",
        pid: 0,
        error: e instanceof Error ? e.message : String(e),
      };
      if (e instanceof PodError) rec.state.exitCode = e.exitCode;
      rec.state.finishedAt = nowNano();
      await writeState(root, id, rec.state);
      throw e;
    }
    await started;
    return true;
  });
}

/**
 * The supervisor's extras (runtime2, issue 13): `pod container cleanup` when the container ends (its restart
 * policy), `pod healthcheck run` on the health check's interval.
 */
function supervisorExtras(root: string, c: ContainerRecord["config"]): SupervisorExtras | undefined {
  if (!c.restartPolicy && !c.healthcheck?.interval) return undefined;
  return {
    exitHook: c.restartPolicy ? podCommandLine(root, ["container", "cleanup", c.id]) : undefined,
    health: c.healthcheck?.interval
      ? { seconds: c.healthcheck.interval / 1e9, command: podCommandLine(root, ["healthcheck", "run", c.id]) }
      : undefined,
  };
}

/**
 * A foreground container's health check timer (pod itself waits for it, so pod runs the checks, each
 * `pod healthcheck run` in its own session); returns the function that stops it.
 */
function foregroundHealthTimer(root: string, c: ContainerRecord["config"]): () => void {
  const extras = supervisorExtras(root, c);
  if (!extras?.health) return () => {};
  const cmd = extras.health.command;
  let running: Deno.ChildProcess | undefined;
  const timer = setInterval(() => {
    if (running) return;
    try {
      running = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
      running.status.finally(() => running = undefined);
    } catch { /* retried at the next tick */ }
  }, extras.health.seconds * 1000);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/** After a foreground container ended: its restart policy is applied by `pod container cleanup`, detached. */
function foregroundExitHook(root: string, c: ContainerRecord["config"]): void {
  const hook = supervisorExtras(root, c)?.exitHook;
  if (!hook) return;
  try {
    new Deno.Command(hook[0], {
      args: hook.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    })
      .spawn().unref();
  } catch (e) {
    debug(`starting the restart policy's cleanup: ${e instanceof Error ? e.message : e}`);
  }
}

/** `--runtime runc` (as root): the OCI runtime module and the binary; else `undefined` (pod's own runtime). */
async function runcOf(
  c: ContainerRecord["config"],
): Promise<{ oci: typeof import("./oci_runtime.ts"); path: string } | undefined> {
  if (!c.ociRuntime || !/(^|\/)runc$/.test(c.ociRuntime)) return undefined;
  const oci = await import("./oci_runtime.ts");
  const path = oci.runcFor(c);
  return path ? { oci, path } : undefined;
}

/** Starts a runc container under pod's supervisor (log, exit record, restart hook, health timer). */
async function startRuncDetached(
  root: string,
  rec: ContainerRecord,
  runc: NonNullable<Awaited<ReturnType<typeof runcOf>>>,
  byPolicy?: boolean,
): Promise<ContainerRecord["state"]> {
  const id = rec.config.id, cp = containerPaths(root, id);
  const l = await runc.oci.runcLaunch(root, rec.config, runc.path);
  const stdinFifo = rec.config.process.stdin ? cp.attach : undefined;
  const sup = supervisorCommand(cp.log, cp.exit, l.cmd, false, stdinFifo, supervisorExtras(root, rec.config));
  const child = new Deno.Command(sup[0], {
    args: sup.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  })
    .spawn();
  const out = (await new Response(child.stdout).text()).trim();
  child.unref();
  const m = /^(\d+) (\d+)$/.exec(out);
  if (!m) throw new PodError("cannot start the container supervisor (is perl installed?)");
  const ended = () => {
    try {
      return Deno.statSync(cp.exit).isFile;
    } catch {
      return false;
    }
  };
  const pid = await runc.oci.waitRuncPid(l.pidFile, ended);
  if (!pid) {
    const msg = runc.oci.lastStderrLine(cp.log) ?? "runc ended before the container ran";
    rec.state = { ...rec.state, status: "exited", pid: 0, error: msg, exitCode: 125, finishedAt: nowNano() };
    await writeState(root, id, rec.state);
    throw new PodError(`runc: ${msg}`);
  }
  const state = startedState(rec, pid, true, Number(m[2]), byPolicy);
  await writeState(root, id, state);
  return state;
}

/**
 * A runc container in the foreground: runc's stdio is pod's; its own errors (before the container runs) come
 * back as one line. Returns the container's exit code.
 */
async function runRuncForeground(
  root: string,
  id: string,
  io: ForegroundIO,
  runc: NonNullable<Awaited<ReturnType<typeof runcOf>>>,
): Promise<number> {
  let rec!: ContainerRecord;
  let l!: Awaited<ReturnType<typeof runc.oci.runcLaunch>>;
  await withContainerLock(root, id, async () => {
    rec = await readContainer(root, id);
    if (rec.state.status === "running" || rec.state.status === "paused") {
      throw new PodError(`container ${rec.config.id} is already running: container state improper`);
    }
    await resetForStart(root, rec);
    l = await runc.oci.runcLaunch(root, rec.config, runc.path);
  });
  const child = new Deno.Command(l.cmd[0], {
    args: l.cmd.slice(1),
    stdin: io.stdin ? "inherit" : "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const forward = (sig: Deno.Signal) => () => child.kill(sig);
  const signals: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM", "SIGHUP"] as Deno.Signal[]).map((
    s,
  ) => [s, forward(s)]);
  for (const [s, f] of signals) Deno.addSignalListener(s, f);
  let ended = false, errText = "", started = false;
  const pump = (async () => {
    for await (const chunk of child.stderr) {
      if (!started) errText = (errText + new TextDecoder().decode(chunk)).slice(-4096);
      else await Deno.stderr.write(chunk).catch(() => 0);
    }
  })();
  const status = child.status.then((s) => {
    ended = true;
    return s;
  });
  const pid = await runc.oci.waitRuncPid(l.pidFile, () => ended);
  if (pid) {
    started = true;
    if (errText) await Deno.stderr.write(new TextEncoder().encode(errText)).catch(() => 0);
    errText = "";
    rec.state = startedState(rec, pid, false, Deno.pid);
    await writeState(root, id, rec.state);
  }
  const s = await status;
  await pump.catch(() => {});
  for (const [sig, f] of signals) Deno.removeSignalListener(sig, f);
  const code = s.signal ? 128 + signalNumber(s.signal) : s.code;
  if (!pid) {
    const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(errText)?.[1] ?? errText.trim().split("\n").at(-1) ??
      "runc failed";
    await recordExit(root, id, 125, msg);
    throw new PodError(`runc: ${msg}`);
  }
  await recordExit(root, id, code);
  foregroundExitHook(root, rec.config);
  return code;
}

/** How a foreground container is attached. */
export interface ForegroundIO {
  /** `-t`: a pty, the host terminal raw. */
  tty: boolean;
  /** `-i`: stdin passed on. */
  stdin: boolean;
  /** Without `-t`: also write the output to the container's log (for `pod logs`; not for `run --rm`). */
  log?: boolean;
}

/**
 * Runs a container in the foreground (`run` without `-d`, `start -a`): the state is `running` while its
 * command runs, then `exited` with its code, which is returned. `early`: a stage 2 already started for it
 * (used when its namespaces match, else cancelled).
 */
export async function startForeground(
  root: string,
  id: string,
  io: ForegroundIO,
  early?: Prelaunched,
): Promise<number> {
  try {
    return await runForeground(root, id, io, early);
  } finally {
    early?.cancel();
  }
}

async function runForeground(
  root: string,
  id: string,
  io: ForegroundIO,
  early?: Prelaunched,
): Promise<number> {
  let runc: Awaited<ReturnType<typeof runcOf>>;
  let rec!: ContainerRecord;
  let plan!: StartPlan;
  let started: Promise<void> | undefined;
  let running: Promise<LaunchResult> | undefined;
  const start = (onStarted?: () => void) => {
    const hooks: LaunchHooks = {
      onStarted: (pid: number) => {
        rec.state = startedState(rec, pid, false, Deno.pid);
        started = writeState(root, id, rec.state);
        onStarted?.();
      },
      resolveProcess: plan.resolveProcess,
    };
    const logPath = io.log ? containerPaths(root, id).log : undefined;
    return launch(plan.spec, { mode: "foreground", tty: io.tty, stdin: io.stdin, logPath }, hooks, early);
  };
  await withContainerLock(root, id, async () => {
    rec = await readContainer(root, id);
    runc = await runcOf(rec.config);
    if (runc) return; // started below, by runc
    if (rec.state.status === "running" || rec.state.status === "paused") {
      throw new PodError(`container ${rec.config.id} is already running: container state improper`);
    }
    await resetForStart(root, rec);
    plan = await startPlan(root, rec, io.tty);
    if (!plan.resolveProcess) return;
    // first start: the lock is held until the rootfs is made and the process runs (or the launch failed)
    const gate = Promise.withResolvers<void>();
    running = start(gate.resolve);
    running.then(() => gate.resolve(), () => gate.resolve());
    await gate.promise;
    await started?.catch(() => {});
  });
  if (runc) {
    early?.cancel();
    return await runRuncForeground(root, id, io, runc);
  }
  let code: number;
  const stopTimer = foregroundHealthTimer(root, rec.config);
  try {
    const r = await (running ?? start());
    code = r.exitCode ?? 0;
  } catch (e) {
    stopTimer();
    await started?.catch(() => {});
    await plan.settle();
    if (!plan.resolved()) throw e;
    await recordExit(
      root,
      id,
      e instanceof PodError ? e.exitCode : 125,
      e instanceof Error ? e.message : String(e),
    );
    throw e;
  }
  stopTimer();
  await started?.catch(() => {});
  await recordExit(root, id, code);
  foregroundExitHook(root, rec.config);
  return code;
}

/** Records that a foreground container ended (unless something else, like `rm -f`, got there first). */
async function recordExit(root: string, id: string, code: number, error?: string): Promise<void> {
  try {
    await withContainerLock(root, id, async () => {
      const rec = await readContainer(root, id).catch(() => undefined);
      if (!rec) return;
      if (rec.state.status === "exited" && rec.state.finishedAt !== ZERO_TIME && rec.state.pid === 0) {
        // refreshed by someone else after the process died: keep their time, fix the code
        rec.state.exitCode = code;
      } else {
        rec.state = {
          ...rec.state,
          status: "exited",
          pid: 0,
          pidStart: undefined,
          exitCode: code,
          finishedAt: nowNano(),
        };
      }
      if (error) rec.state.error = error;
      await writeState(root, id, rec.state);
    });
  } catch (e) {
    debug(`recording the exit of ${id}: ${e instanceof Error ? e.message : e}`);
  }
}
