/**
 * Starting containers: launch the process detached (a supervisor writes the log and exit.json) or in the
 * foreground (this process waits and records the exit). Overlay containers: stage 2 builds the image tree
 * when it is missing and mounts the overlay; the process is resolved against that root. vfs containers:
 * the rootfs is extracted on first start.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug, traceTime } from "../log.ts";
import { mayHaveNetwork } from "./net_state.ts";
import { launch, type LaunchHooks, type LaunchResult } from "../ns/launch.ts";
import type { Prelaunched } from "../ns/prelaunch.ts";
import type { EarlyConmon } from "../ns/conmon_launch.ts";
import type { HolderSpec, LaunchSpec, ProcessSpec } from "../ns/spec.ts";
import {
  containerPaths,
  type ContainerRecord,
  nowNano,
  readContainer,
  withContainerLock,
  writeState,
} from "../store/containers.ts";
import { supervisorEventParts, writeContainerEvents } from "../store/events.ts";
import { pathExists } from "../store/paths.ts";
import {
  foregroundExitHook,
  foregroundHealthTimer,
  foregroundTimeout,
  supervisorExtras,
  writePidFiles,
} from "./start_extras.ts";
import { type ForegroundIO, recordExit, resetForStart, startedState } from "./start_state.ts";
import { ensureTreesDir, treePath } from "../store/trees.ts";
import { releaseContainerCgroup } from "./cgroup_cleanup.ts";
import { cgroupSpecFor } from "./resources.ts";
import { detachedLogOf, logFileOf } from "./log_options.ts";
import { createCgroup, removeCgroup } from "../ns/cgroup.ts";
import {
  baseSpec,
  overlayRunSpec,
  prepareSpec,
  preparingRunSpec,
  processSpec,
  runSpec,
  securitySpec,
} from "./launch_spec.ts";
import { ociRuntimeName } from "./oci_runtime_name.ts";
import { launchNamespaces } from "./namespaces.ts";

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
  /** net3: the pid of the `unshare` that makes the new netns (root bridge networks start there). */
  onUnshared?: (pid: number) => void;
  /** net5: awaited after `resolveProcess`, before the process runs (the network; stage 2 builds the root). */
  gate?: (pid: number) => Promise<void>;
}

/**
 * The launch of a start: the full spec when the rootfs exists; on a first start, one launch that makes the
 * rootfs and then runs the process (no separate prepare launch). Rootless, stage 2 extracts inside the user
 * namespace; as root without one, this process extracts while stage 2 starts up.
 */
async function startPlan(root: string, rec: ContainerRecord, terminal: boolean): Promise<StartPlan> {
  const c = rec.config;
  const joins = [c.namespaces.net, c.namespaces.ipc, c.namespaces.uts, c.namespaces.pid, c.userns.mode]
    .some((m) => m.includes(":"));
  // scope "pods": a member joins its pod's infra container, which must run first
  const infra = c.pod && !c.isInfra
    ? await (await import("./pod/infra_guard.ts")).infraToStart(root, c.pod)
    : undefined;
  // pods3: the infra starts while this container's own plan is made; its namespaces are joined after
  const infraStarted = infra ? startDetached(root, infra) : undefined;
  infraStarted?.catch(() => {}); // awaited below
  const holder = c.isInfraHolder ? await infraHolder(c) : undefined;
  const [plan, security, join] = await Promise.all([
    holder ? holderPlan(root, c, holder) : launchPlan(root, rec, terminal),
    holder ? {} : securitySpec(root, c),
    infraStarted,
  ]).then(async ([plan, security]) =>
    [
      plan,
      security,
      joins ? await import("./ns_join.ts").then((m) => m.joinPaths(root, c)) : undefined,
    ] as const
  );
  plan.spec = { ...plan.spec, ...security, ...(join ? { join } : {}) };
  const cgroup = cgroupSpecFor(rec.config);
  if (cgroup) {
    // made here, while an early stage 2 is still starting up (it only enters it, or makes it when missing)
    // no limit asked for: a host whose cgroupfs pod cannot write (read-only, not delegated) runs it without one
    const needed = rec.config.resources !== undefined;
    try {
      createCgroup(cgroup);
      plan.spec.cgroup = cgroup;
    } catch (e) {
      await removeCgroup(cgroup, 0);
      if (needed) throw new PodError(`cgroup: ${e instanceof Error ? e.message : e}`);
    }
  }
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
  // net2: a rootless container on a bridge network joins the rootless netns's user namespace
  if (facts.joinUser) plan.spec = { ...plan.spec, join: { ...plan.spec.join, user: facts.joinUser } };
  const { writeNetUserdata } = await import("./userdata.ts");
  writeNetUserdata(containerPaths(root, c.id).dir, c, facts);
  const inner = plan.resolveProcess;
  const process = plan.spec.process;
  let resolved = false;
  let setup: Promise<void> | undefined;
  const start = (pid: number) => {
    setup ??= net.setupNetwork(root, c, pid, facts.bridge); // run6: the configs and addresses as allocated
    setup.catch(() => {}); // awaited (and reported) by resolveProcess
    return setup;
  };
  if (!inner) plan.spec = { ...plan.spec, process: undefined, deferProcess: true };
  // net3: as root, netavark (the slowest part of a start) runs as soon as the netns exists, beside stage 2's
  // start-up; slirp4netns/pasta and rootless bridges keep starting at stage 2's pid
  const early = Deno.uid() === 0 && c.net.network.mode === "bridge";
  // net5: stage 2 builds the root while the network is set up, the process resolved meanwhile (a pod's
  // infra holder waits for its process instead: it knows no gate)
  const gated = !plan.spec.holder && !plan.gate;
  return {
    ...plan,
    onPid: start,
    ...(early ? { onUnshared: start } : {}),
    resolveProcess: async (pid: number) => {
      if (!gated) await start(pid);
      const p = inner ? await inner(pid) : process!;
      if (!gated) resolved = true;
      return p;
    },
    ...(gated
      ? {
        gate: async (pid: number) => {
          await start(pid);
          resolved = true;
        },
      }
      : {}),
    // gated: resolved once the network is up (a failed setup leaves the container as it was)
    resolved: () => resolved && (!inner || plan.resolved()),
    settle: async () => {
      await setup?.catch(() => {});
      await plan.settle();
      if (!plan.resolved() || !resolved) await net.teardownNetwork(root, c.id);
    },
  };
}

/**
 * pods3: the holder a pod's default infra container runs instead of stage 2 (lib/ns/holder.ts), when the
 * host has its binaries and the user is the namespace's root (not `--userns=keep-id`: stage 2 then).
 */
async function infraHolder(c: ContainerRecord["config"]): Promise<HolderSpec | undefined> {
  if (ociRuntimeName(c.ociRuntime)) return undefined;
  const { needsKeepCaps } = await import("../ns/userns.ts");
  if (c.userns.mode !== "host" && needsKeepCaps(launchNamespaces(c).uidMap)) return undefined;
  const { holderBinaries } = await import("../ns/holder.ts");
  return await holderBinaries();
}

/** pods3: the launch of a namespace holder: no root, no image tree; its "process" is catatonit. */
function holderPlan(root: string, c: ContainerRecord["config"], holder: HolderSpec): StartPlan {
  let resolved = false;
  const process: ProcessSpec = {
    args: [holder.catatonit, "-P"],
    env: [],
    cwd: "/",
    uid: 0,
    gid: 0,
    additionalGids: [],
    terminal: false,
  };
  return {
    spec: { ...baseSpec(root, c), holder, deferProcess: true },
    resolveProcess: () => {
      resolved = true;
      return Promise.resolve(process);
    },
    resolved: () => resolved,
    settle: () => Promise.resolve(),
  };
}

/** Tears down a container's network if it has one (net scope). */
async function teardownNet(root: string, rec: ContainerRecord): Promise<void> {
  if (!mayHaveNetwork(root, rec.config)) return; // runperf: no network module load for --network host
  const { teardownNetwork } = await import("../network/setup.ts");
  await teardownNetwork(root, rec.config.id).catch(() => {});
}

/** net3: whether a removed container's network teardown is handed off (a root bridge one). */
function handsOff(rec: ContainerRecord): boolean {
  return rec.config.net?.network.mode === "bridge" && Deno.uid() === 0;
}

/** net3: hands a removed container's network teardown off (true), if it is a root bridge one. */
async function handOffNet(root: string, rec: ContainerRecord): Promise<boolean> {
  if (!handsOff(rec)) return false;
  const [{ handOffTeardown }, { netFiles }] = await Promise.all([
    import("../network/teardown_async.ts"),
    import("../network/setup.ts"),
  ]);
  return await handOffTeardown(root, rec.config.id, netFiles(root, rec.config.id)).catch(() => false);
}

/** build2: a tree to build starts from the finished tree of the longest prefix of its layers, if one exists. */
async function withParentTree(
  root: string,
  c: ContainerRecord["config"],
  spec: LaunchSpec,
): Promise<LaunchSpec> {
  if (!spec.prepare || !c.storage) return spec;
  const { parentTree } = await import("./tree_parent.ts");
  const from = await parentTree(root, c.storage.tree, c.layers.map((l) => l.digest));
  return from ? { ...spec, prepare: { ...spec.prepare, from } } : spec;
}

async function launchPlan(root: string, rec: ContainerRecord, terminal: boolean): Promise<StartPlan> {
  const c = rec.config;
  const cp = containerPaths(root, c.id);
  if (c.storage || c.rootfsDir?.overlay) {
    const t0 = performance.now();
    // runtime3: --rootfs DIR:O has its lower tree already
    const build = !!c.storage && !(await pathExists(treePath(root, c.storage.tree)));
    if (build) await ensureTreesDir(root);
    let resolved = false;
    return {
      spec: build
        ? await withParentTree(root, c, overlayRunSpec(root, c, build))
        : overlayRunSpec(root, c, build),
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

/**
 * Starts a container detached. Resolves once its command is really running (or already was).
 * Returns false when it was already running. `byPolicy`: a restart of its restart policy (not when the user
 * stopped it meanwhile; counted in `RestartCount`); `countAsRestart`: counted too (a health check's restart).
 */
export async function startDetached(
  root: string,
  id: string,
  opts: {
    byPolicy?: boolean;
    countAsRestart?: boolean;
    /**
     * pods2: called once the record says `running` with its pid (before the launch's tail: the execve of the
     * command, pod waiting for its argv), so a pod member can start entering its namespaces meanwhile.
     */
    onRunning?: () => void;
    /** pods9: conmon started early for it (lib/container/start_early.ts): taken by the launch, or cancelled. */
    early?: EarlyConmon;
  } = {},
): Promise<boolean> {
  try {
    return await startDetachedLocked(root, id, opts);
  } finally {
    await opts.early?.cancel();
  }
}

async function startDetachedLocked(
  root: string,
  id: string,
  opts: NonNullable<Parameters<typeof startDetached>[2]>,
): Promise<boolean> {
  return await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    if (rec.state.status === "running" || rec.state.status === "paused") return false;
    if (opts.byPolicy && rec.state.stoppedByUser) return false;
    const cp = containerPaths(root, id);
    await resetForStart(root, rec);
    const runc = await runcOf(rec.config);
    if (runc) {
      await opts.early?.cancel();
      rec.state = await runc.start.startRuncDetached(root, rec, runc, opts.byPolicy || opts.countAsRestart);
      return true;
    }
    const plan = await startPlan(root, rec, rec.config.process.terminal);
    let started: Promise<void> | undefined;
    try {
      const io = {
        mode: "detached" as const,
        logPath: detachedLogOf(root, rec.config),
        exitPath: cp.exit,
        tty: rec.config.process.terminal,
        stdinFifo: rec.config.process.stdin ? cp.attach : undefined,
        events: supervisorEventParts(root, rec),
        extras: supervisorExtras(root, rec.config),
        exitHook: rec.config.net ? `${cp.dir}/network-cleanup.sh` : undefined,
      };
      // conmon2 (issue 13): conmon supervises when it fits
      const conmon = (await import("./start_conmon.ts")).ownConmonLaunch(
        root,
        rec,
        plan.spec.cgroup,
        io.events,
      );
      if (!conmon) await opts.early?.cancel(); // gone before the perl supervisor's start
      await launch(plan.spec, { ...io, conmon, early: conmon ? opts.early : undefined }, {
        onStarted: (pid: number, supervisorPid?: number) => {
          // the supervisor writes the exit record: waited for
          const byPolicy = opts.byPolicy || opts.countAsRestart;
          rec.state = startedState(rec, pid, true, supervisorPid, byPolicy, plan.spec.cgroup);
          writePidFiles(rec.config, pid, supervisorPid);
          started = writeState(root, id, rec.state);
          if (opts.onRunning) started.then(opts.onRunning, () => {});
          writeContainerEvents(root, rec, ["init", "start"]);
        },
        resolveProcess: plan.resolveProcess,
        gate: plan.gate,
        onPid: plan.onPid,
        onUnshared: plan.onUnshared,
      });
    } catch (e) {
      await started?.catch(() => {});
      await plan.settle();
      await releaseContainerCgroup(plan.spec.cgroup);
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

export type { ForegroundIO } from "./start_state.ts";

/** `--runtime runc` as root: the runc start module, the OCI runtime module and the binary; else `undefined`. */
async function runcOf(c: ContainerRecord["config"]) {
  if (!ociRuntimeName(c.ociRuntime)) return undefined;
  const start = await import("./start_runc.ts");
  const found = await start.findRunc(c);
  return found ? { ...found, start } : undefined;
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
        rec.state = startedState(rec, pid, false, Deno.pid, false, plan.spec.cgroup);
        writePidFiles(rec.config, pid, Deno.pid);
        started = writeState(root, id, rec.state);
        writeContainerEvents(root, rec, ["init", "start", "attach"]);
        onStarted?.();
        // net5: the hand-off's module loads while the container runs, not after it
        if (io.removing && handsOff(rec)) import("../network/teardown_async.ts").catch(() => {});
        // run6: and so does the removal's mount check (lifecycle.ts removeById)
        if (io.removing && rec.config.storage && Deno.uid() === 0) import("./mount_guard.ts").catch(() => {});
      },
      resolveProcess: plan.resolveProcess,
      gate: plan.gate,
      onPid: plan.onPid,
      onUnshared: plan.onUnshared,
    };
    const logPath = io.log && !rec.config.logDriver ? logFileOf(root, rec.config) : undefined;
    const logMaxSize = rec.config.logMaxSize;
    return launch(
      plan.spec,
      { mode: "foreground", tty: io.tty, stdin: io.stdin, logPath, logMaxSize },
      hooks,
      early,
    );
  };
  await withContainerLock(root, id, async () => {
    traceTime("start: locked");
    rec = await readContainer(root, id);
    runc = await runcOf(rec.config);
    if (runc) return; // started below, by runc
    if (rec.state.status === "running" || rec.state.status === "paused") {
      throw new PodError(`container ${rec.config.id} is already running: container state improper`);
    }
    await resetForStart(root, rec);
    traceTime("start: reset");
    plan = await startPlan(root, rec, io.tty);
    traceTime("start: plan made");
    if (io.preserveFds) plan.spec.preserveFds = io.preserveFds;
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
    return await runc.start.runRuncForeground(root, id, io, runc);
  }
  let code: number;
  const stopHealth = foregroundHealthTimer(root, rec.config);
  const stopDeadline = foregroundTimeout(rec.config, () => rec.state.pid);
  const stopTimer = () => {
    stopHealth();
    stopDeadline();
  };
  try {
    const r = await (running ?? start());
    code = r.exitCode ?? 0;
  } catch (e) {
    stopTimer();
    await started?.catch(() => {});
    await plan.settle();
    await releaseContainerCgroup(plan.spec.cgroup);
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
  stopTimer();
  traceTime("start: exited");
  await started?.catch(() => {});
  traceTime("start: running state written");
  // net5: the network's teardown (handed off or not) and the cgroup's release at once, both waited for
  const [, cgroup] = await Promise.allSettled([
    (async () => {
      if (!io.removing || !await handOffNet(root, rec)) await teardownNet(root, rec);
      traceTime("start: net torn down");
    })(),
    releaseContainerCgroup(plan.spec.cgroup),
  ]);
  if (cgroup.status === "rejected") throw cgroup.reason;
  const oomKilled = cgroup.value;
  traceTime("start: cgroup released");
  // runperf: `--rm` deletes the record next: no fsync of a state about to go
  await recordExit(root, id, code, undefined, oomKilled, !io.removing);
  traceTime("start: exit recorded");
  foregroundExitHook(root, rec.config);
  return code;
}
