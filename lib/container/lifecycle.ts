/**
 * Stop, kill, pause/unpause, wait and remove. Loads nothing heavy (the `stop` hot path).
 * @module
 */

import { PodError } from "../errors.ts";
import { debug, traceTime, warn } from "../log.ts";
import { mayHaveNetwork } from "./net_state.ts";
import { pidAlive } from "../proc.ts";
import {
  containerProcesses,
  hasPrivatePidNs,
  sendSignal,
  signalContainer,
  stopContainer,
} from "../ns/signals.ts";
import {
  containerPaths,
  type ContainerRecord,
  orphanContainerDirs,
  readContainer,
  removeContainerRecord,
  withContainerLock,
  writeState,
} from "../store/containers.ts";
import { cleanStaleTemps } from "../store/atomic.ts";
import { containerEvent, writeContainerEvents, writeEvents } from "../store/events.ts";
import { removeVolume } from "../store/volumes.ts";
import { removeTreeUserns } from "./remove_tree.ts";
import { parseSignal } from "../oci/signals.ts";
import { ociRuntimeName } from "./oci_runtime_name.ts";
import { claimExit, recordClaimedExit, stopMayClaim } from "./exit_claim.ts";
import { sleepMs } from "../ns/sleep.ts";

const sleep = sleepMs; // not setTimeout: its first use loads node:timers (lib/ns/sleep.ts)

function isLive(rec: ContainerRecord): boolean {
  const s = rec.state.status;
  return (s === "running" || s === "paused" || s === "stopping") &&
    pidAlive(rec.state.pid, rec.state.pidStart);
}

/**
 * Waits until the container's exit is recorded (its process gone and state `exited`), up to `ms`.
 * Returns the refreshed record.
 */
export async function waitExited(root: string, id: string, ms = Infinity): Promise<ContainerRecord> {
  const start = Date.now();
  const end = start + ms;
  const exitFile = containerPaths(root, id).exit;
  const recorded = () => {
    try {
      return Deno.statSync(exitFile).size > 0;
    } catch {
      return false;
    }
  };
  for (let last = 0;;) {
    const rec = await readContainer(root, id);
    if (rec.state.status !== "running" && rec.state.status !== "paused" && rec.state.status !== "stopping") {
      return rec;
    }
    if (Date.now() >= end) return rec;
    // pods6: the supervisor's exit step (conmon's shim: a sh, a date, an rmdir) takes some 10-40 ms after the
    // process is gone: for 200 ms, a stat of its exit record every 2 ms (one syscall: the CPU goes to the
    // exit step) and the record read once it is there, or every 20 ms; then every 20 ms, 100 after a second
    last = Date.now();
    while (Date.now() - start < 200 && Date.now() - last < 20 && !recorded()) await sleep(2);
    const waited = Date.now() - start;
    if (waited >= 200) await sleep(waited < 1000 ? 20 : 100);
  }
}

function mountNsOf(pid: number | "self"): string | undefined {
  try {
    return Deno.readLinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/**
 * With the host's pid namespace nothing ends a container's other processes when its init dies (a child that
 * ignores SIGTERM or has left the init's session): SIGKILLs every process still in its mount namespace `mnt`
 * until none is left (up to 5 s).
 */
async function killLeftovers(mnt: string | undefined): Promise<void> {
  if (!mnt || mnt === mountNsOf("self")) return;
  const end = Date.now() + 5000;
  for (;;) {
    const left: number[] = [];
    for (const e of Deno.readDirSync("/proc")) {
      if (/^\d+$/.test(e.name) && mountNsOf(Number(e.name)) === mnt) left.push(Number(e.name));
    }
    if (!left.length) return;
    if (Date.now() >= end) {
      warn(`processes ${left.join(", ")} of the container could not be killed`);
      return;
    }
    for (const p of left) sendSignal(p, 9);
    await sleep(20);
  }
}

/**
 * Stops a container: its stop signal (or `signal`), SIGKILL to all its processes after `timeout` seconds.
 * A paused container is resumed first so it can handle the signal. No-op when it is not running.
 */
export async function stopById(root: string, id: string, timeout?: number): Promise<ContainerRecord> {
  let rec = await readContainer(root, id);
  traceTime("stop: record read");
  if (!isLive(rec)) {
    if (!rec.config.restartPolicy) return rec;
    // exited, maybe about to be restarted by its policy (or being restarted: the lock waits for that start)
    await markStoppedByUser(root, id);
    rec = await readContainer(root, id);
    if (!isLive(rec)) return rec;
  }
  const t = timeout ?? rec.config.stopTimeout;
  const pid = rec.state.pid;
  if (rec.state.status === "paused") {
    for (const p of containerProcesses(pid)) sendSignal(p, 18);
  }
  await withContainerLock(root, id, async () => {
    const cur = await readContainer(root, id);
    if (cur.state.status === "running" || cur.state.status === "paused") {
      cur.state.status = "stopping";
      cur.state.stoppedByUser = true; // not a failure: the restart policy leaves it stopped
      // pods6: no fsync for this passing state (10-40 ms each on a busy disk, one per member of a `pod rm -f`):
      // after a crash the init is gone and any reader records the exit from the supervisor's record anyway
      await writeState(root, id, cur.state, false);
    }
  });
  traceTime("stop: stopping state written");
  // the init's mount namespace, to find processes it leaves behind (a private pid namespace ends them all)
  const leftoversNs = hasPrivatePidNs(pid) ? undefined : mountNsOf(pid);
  // pods7 (issue 15): the exit is claimed before the signal and recorded here (exit_claim.ts)
  let claimed = stopMayClaim(rec);
  // tests: the stop waits here until this file exists (the container ends meanwhile: the shim claims first)
  const hold = claimed && Deno.env.get("POD_TEST_STOP_CLAIM_HOLD");
  while (hold && !(await Deno.stat(hold).then(() => true, () => false))) await sleep(10);
  claimed &&= claimExit(rec);
  const { killed } = await stopContainer(pid, { signal: parseSignal(rec.config.stopSignal), timeout: t });
  traceTime("stop: process gone");
  await killLeftovers(leftoversNs);
  if (killed && t > 0) {
    warn(
      `StopSignal ${rec.config.stopSignal} failed to stop container ${rec.config.name} in ${t} seconds, resorting to SIGKILL`,
    );
  }
  const exit = claimed
    ? await recordClaimedExit(root, rec, () => teardownNet(root, rec)).catch((e) => debug(`exit: ${e}`))
    : undefined;
  if (exit) {
    // the state a refresh would make of the record, without its fsync (the record is there)
    const { exitCode, finishedAt, oomKilled } = exit;
    rec.state = { ...rec.state, status: "exited", pid: 0, pidStart: undefined, exitCode, finishedAt };
    rec.state.stoppedByUser = true;
    if (oomKilled) rec.state.oomKilled = true;
    await writeState(root, id, rec.state, false);
  } else rec = await waitExited(root, id, 5000);
  traceTime("stop: exit recorded");
  writeContainerEvents(root, rec, ["stop"]);
  if (!isLive(rec)) await teardownNet(root, rec);
  return rec;
}

/** net scope (issue 12): tears down a dead container's network, if it has one (idempotent). */
async function teardownNet(root: string, rec: ContainerRecord): Promise<void> {
  if (!mayHaveNetwork(root, rec.config)) return; // runperf: no network module load for --network host
  const { teardownNetwork } = await import("../network/setup.ts");
  await teardownNetwork(root, rec.config.id).catch((e) => debug(`network teardown: ${e}`));
}

/** Sends a signal to a running container (`kill`). */
export async function killById(root: string, id: string, signal = "SIGKILL", all = false): Promise<void> {
  const rec = await readContainer(root, id);
  if (!isLive(rec)) {
    throw new PodError(
      `can only kill running containers. ${id} is in state ${rec.state.status}: container state improper`,
      { code: "STATE" },
    );
  }
  const n = parseSignal(signal);
  if (rec.config.restartPolicy) await markStoppedByUser(root, id); // podman: any signal
  if (!signalContainer(rec.state.pid, n, all)) {
    throw new PodError(`sending signal to container ${id}: no such process`);
  }
  writeEvents(root, containerEvent(rec, "kill", { attributes: { signal: String(n) } }));
}

/** Records that the user stopped the container, so its restart policy does not bring it back (podman's). */
async function markStoppedByUser(root: string, id: string): Promise<void> {
  await withContainerLock(root, id, async () => {
    const cur = await readContainer(root, id);
    cur.state.stoppedByUser = true;
    await writeState(root, id, cur.state);
  });
}

/** Freezes (SIGSTOP) or resumes (SIGCONT) every process of a container. */
export async function setPaused(root: string, id: string, pause: boolean): Promise<void> {
  await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    if (pause && rec.state.status !== "running") {
      throw new PodError(`"${rec.state.status}" is not running, can't pause: container state improper`);
    }
    if (!pause && rec.state.status !== "paused") {
      throw new PodError(`"${rec.state.status}" is not paused, can't unpause: container state improper`);
    }
    const procs = containerProcesses(rec.state.pid);
    // stop children before the init, resume the init last so none runs while others are still stopped
    for (const p of pause ? procs.slice().reverse() : procs) sendSignal(p, pause ? 19 : 18);
    rec.state.status = pause ? "paused" : "running";
    await writeState(root, id, rec.state);
    writeContainerEvents(root, rec, [pause ? "pause" : "unpause"]);
  });
}

/**
 * Removes a container: refuses a running one unless `force` (then kills it first, without waiting for the
 * stop timeout like podman's `rm -f` with `-t 0`… podman uses the stop timeout; we honour `timeout`).
 * `volumes`: also remove its anonymous volumes. `podRemoval`: the caller is removing the container's pod
 * (`removePod`), so an infra container is not refused.
 */
export async function removeById(
  root: string,
  id: string,
  opts: { force?: boolean; volumes?: boolean; timeout?: number; podRemoval?: boolean } = {},
): Promise<void> {
  let rec = await readContainer(root, id);
  // scope "pods": the infra goes with its pod (`pod rm`, which says so with `podRemoval`)
  if (rec.config.isInfra && !opts.podRemoval) {
    const refused = await (await import("./pod/infra_guard.ts")).infraRemovalError(root, rec);
    if (refused) throw refused;
  }
  const subids = (rec.config.userns.uidMap?.length ?? 0) > 1;
  // A `start` may be launching it right now (it holds the container lock until the process runs), so the
  // "not running" decision is made again under the lock; if it started meanwhile, stop it and try again.
  for (let attempt = 0;; attempt++) {
    if (isLive(rec)) {
      if (!opts.force) {
        throw new PodError(
          `cannot remove container ${id} as it is ${rec.state.status} - running or paused containers cannot be ` +
            `removed without force: container state improper`,
          { code: "STATE" },
        );
      }
      rec = await stopById(root, id, opts.timeout ?? rec.config.stopTimeout);
      if (isLive(rec)) throw new PodError(`container ${id} could not be stopped`);
    }
    const removed = await withContainerLock(root, id, async () => {
      rec = await readContainer(root, id);
      if (isLive(rec)) return false;
      await teardownNet(root, rec);
      // scope "surface2": a container mounted by `pod mount` is unmounted (every count) before it goes
      if (rec.config.storage && Deno.uid() === 0) {
        const { unmountIfMounted } = await import("./mount_guard.ts");
        await unmountIfMounted(root, id);
      }
      // overlayfs leaves work/work mode 000: owned by the user when rootless (not keep-id), so opened up here
      if (rec.config.storage) {
        // runperf: and so are a volatile mount's (`--rm`) work/incompat/volatile
        for (const d of ["work", "work/incompat", "work/incompat/volatile"]) {
          await Deno.chmod(`${containerPaths(root, id).work}/${d}`, 0o700).catch(() => {});
        }
      }
      if (Deno.uid() === 0 || rec.config.resources) {
        const { releaseCgroupOf } = await import("./cgroup_cleanup.ts");
        await releaseCgroupOf(rec.config);
      }
      traceTime("rm: locked, net/cgroup done");
      await removeContainerRecord(root, id, (dir) => removeTreeUserns(dir, subids));
      traceTime("rm: record removed");
      writeContainerEvents(root, rec, ["remove"]);
      return true;
    });
    if (removed) break;
    if (attempt >= 5) throw new PodError(`container ${id} keeps being restarted: not removed`);
  }
  if (ociRuntimeName(rec.config.ociRuntime)) {
    await (await import("./oci_runtime.ts")).runcDelete(root, rec.config); // runc's state of it, if any
  }
  await Deno.remove(containerPaths(root, id).dir, { recursive: true }).catch(() => {});
  if (rec.config.storage) await pruneTreeOfRemovedImage(root, rec.config.image.id);
  if (opts.volumes && rec.config.mounts.some((m) => m.type === "volume" && m.anonymous)) {
    // an anonymous volume another container still uses (`--volumes-from`) stays, as with podman
    const { volumeUsers } = await import("../volume/volumes.ts");
    const users = await volumeUsers(root);
    for (const m of rec.config.mounts) {
      if (m.type === "volume" && m.anonymous && m.name && !users.get(m.name)?.length) {
        await removeVolume(root, m.name, (dir) => removeTreeUserns(dir, subids)).catch((e) =>
          debug(`removing volume ${m.name}: ${e instanceof Error ? e.message : e}`)
        );
      }
    }
  }
}

/** After the last container of an image that was removed (`rmi -f`): its tree goes too. */
async function pruneTreeOfRemovedImage(root: string, imageId: string): Promise<void> {
  const { findImage } = await import("../store/images.ts");
  if (await findImage(root, imageId).catch(() => true)) return;
  const { pruneTrees } = await import("./trees_gc.ts");
  await pruneTrees(root).catch((e) => debug(`pruning image trees: ${e instanceof Error ? e.message : e}`));
}

/**
 * Removes container directories without a name link (a create or rm that was killed half-way) once they are
 * older than `minAgeMs`. Returns how many were removed.
 */
export async function cleanOrphans(root: string, minAgeMs = 5 * 60_000): Promise<number> {
  let n = await cleanStaleTemps(`${root}/containers`).catch(() => 0);
  for (const id of await orphanContainerDirs(root)) {
    const dir = containerPaths(root, id).dir;
    try {
      const st = await Deno.stat(dir);
      if (Date.now() - (st.mtime?.getTime() ?? 0) < minAgeMs) continue;
      await Deno.remove(dir, { recursive: true }).catch(() => removeTreeUserns(dir, Deno.uid() !== 0));
      n++;
    } catch (e) {
      debug(`cleaning ${dir}: ${e instanceof Error ? e.message : e}`);
    }
  }
  return n;
}

/** Removes a detached `--rm` container that has exited (nobody was waiting to do it). */
export async function autoRemoveIfDone(root: string, id: string): Promise<void> {
  const rec = await readContainer(root, id).catch(() => undefined);
  if (rec?.config.autoRemove && rec.state.status === "exited") {
    await removeById(root, id, { force: true, volumes: true }).catch(() => {});
  }
}
