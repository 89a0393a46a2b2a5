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
  /** Stage 2's pid is known (its namespaces exist): the network is set up meanwhile (net scope). */
  onPid?: (pid: number) => void;
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
  return await withNetwork(root, rec, plan);
}

/**
 * net scope (issue 12): a container with a network to set up gets its addresses (and /etc/hosts,
 * /etc/resolv.conf) before the launch, and its network once stage 2 made the namespaces, before the process
 * is resolved (so stage 2 always waits for its process then).
 */
async function withNetwork(root: string, rec: ContainerRecord, plan: StartPlan): Promise<StartPlan> {
  const c = rec.config;
  if (
    !c.net || c.namespaces.net !== "private" || c.net.network.mode === "none" ||
    c.net.network.mode === "other"
  ) {
    return plan;
  }
  const net = await import("../network/setup.ts");
  const facts = await net.prepareNetwork(root, c);
  if (!facts) return plan;
  const { writeNetUserdata } = await import("./userdata.ts");
  writeNetUserdata(containerPaths(root, c.id).dir, c, facts);
  const inner = plan.resolveProcess;
  const process = plan.spec.process;
  let resolved = false;
  let setup: Promise<void> | undefined;
  const start = (pid: number) => {
    setup ??= net.setupNetwork(root, c, pid);
    setup.catch(() => {}); // awaited (and reported) by resolveProcess
    return setup;
  };
  if (!inner) plan.spec = { ...plan.spec, process: undefined, deferProcess: true };
  return {
    ...plan,
    onPid: start,
    resolveProcess: async (pid: number) => {
      await start(pid);
      const p = inner ? await inner(pid) : process!;
      resolved = true;
      return p;
    },
    resolved: () => inner ? plan.resolved() : resolved,
    settle: async () => {
      await setup?.catch(() => {});
      await plan.settle();
      if (!plan.resolved() || !resolved) await net.teardownNetwork(root, c.id);
    },
  };
}

/** Tears down a container's network if it has one (net scope). */
async function teardownNet(root: string, rec: ContainerRecord): Promise<void> {
  if (!rec.config.net) return;
  const { teardownNetwork } = await import("../network/setup.ts");
  await teardownNetwork(root, rec.config.id).catch(() => {});
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
  await Deno.mkdir(`${cp.dir}/run`, { recursive: true, mode: 0o700 });
}

function startedState(rec: ContainerRecord, pid: number, detached: boolean, waiterPid?: number) {
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
    restartCount: (rec.state.restartCount ?? 0) + (rec.state.startedAt === ZERO_TIME ? 0 : 1),
  };
}

/**
 * Starts a container detached. Resolves once its command is really running (or already was).
 * Returns false when it was already running.
 */
export async function startDetached(root: string, id: string): Promise<boolean> {
  return await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    if (rec.state.status === "running" || rec.state.status === "paused") return false;
    const cp = containerPaths(root, id);
    await resetForStart(root, rec);
    const plan = await startPlan(root, rec, rec.config.process.terminal);
    let started: Promise<void> | undefined;
    try {
      const io = {
        mode: "detached" as const,
        logPath: cp.log,
        exitPath: cp.exit,
        tty: rec.config.process.terminal,
        stdinFifo: rec.config.process.stdin ? cp.attach : undefined,
        exitHook: rec.config.net ? `${cp.dir}/network-cleanup.sh` : undefined,
      };
      await launch(plan.spec, io, {
        onStarted: (pid: number, supervisorPid?: number) => {
          rec.state = startedState(rec, pid, true, supervisorPid); // it writes the exit record: waited for
          started = writeState(root, id, rec.state);
        },
        resolveProcess: plan.resolveProcess,
        onPid: plan.onPid,
      });
    } catch (e) {
      await started?.catch(() => {});
      await plan.settle();
      await teardownNet(root, rec);
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
      onPid: plan.onPid,
    };
    const logPath = io.log ? containerPaths(root, id).log : undefined;
    return launch(plan.spec, { mode: "foreground", tty: io.tty, stdin: io.stdin, logPath }, hooks, early);
  };
  await withContainerLock(root, id, async () => {
    rec = await readContainer(root, id);
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
  let code: number;
  try {
    const r = await (running ?? start());
    code = r.exitCode ?? 0;
  } catch (e) {
    await started?.catch(() => {});
    await plan.settle();
    await teardownNet(root, rec);
    if (!plan.resolved()) throw e;
    await recordExit(
      root,
      id,
      e instanceof PodError ? e.exitCode : 125,
      e instanceof Error ? e.message : String(e),
    );
    throw e;
  }
  await started?.catch(() => {});
  await teardownNet(root, rec);
  await recordExit(root, id, code);
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
