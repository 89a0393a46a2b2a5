/**
 * The state transitions of a start, shared by pod's own runtime (start.ts) and runc (start_runc.ts): the reset
 * before a start, the `running` state once the init's pid is known, the `exited` state of a foreground run.
 * @module
 */

import { debug } from "../log.ts";
import type { LaunchSpec } from "../ns/spec.ts";
import { writeContainerEvents } from "../store/events.ts";
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

/** How a foreground container is attached. */
export interface ForegroundIO {
  /** `-t`: a pty, the host terminal raw. */
  tty: boolean;
  /** `-i`: stdin passed on. */
  stdin: boolean;
  /** Without `-t`: also write the output to the container's log (for `pod logs`; not for `run --rm`). */
  log?: boolean;
  /** runtime3 (issue 13): `run --preserve-fds N`: the caller's fds 3..3+N-1 go to the process. */
  preserveFds?: number;
  /**
   * net3 (issue 12): the container is removed right after (`run --rm`): a root bridge network's teardown is
   * handed off to a detached shell (lib/network/teardown_async.ts) instead of being waited for.
   */
  removing?: boolean;
}

/** Before a start: the last exit record goes, the health status is `starting` again, the state dir exists. */
export async function resetForStart(root: string, rec: ContainerRecord): Promise<void> {
  const cp = containerPaths(root, rec.config.id);
  await Deno.remove(cp.exit).catch(() => {});
  await Deno.remove(cp.conmonExit).catch(() => {}); // conmon's (issue 13)
  if (rec.config.healthcheck) {
    const { resetHealth } = await import("./health_state.ts");
    await resetHealth(root, rec.config.id);
  }
  await Deno.mkdir(`${cp.dir}/run`, { recursive: true, mode: 0o700 });
}

/**
 * The `running` state of `rec` once its init is `pid` (`waiterPid`: who records its exit); `byPolicy`: a
 * restart of its restart policy, counted (a start by the user begins again at 0, as podman's).
 */
export function startedState(
  rec: ContainerRecord,
  pid: number,
  detached: boolean,
  waiterPid?: number,
  byPolicy = false,
  cgroup?: LaunchSpec["cgroup"],
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
    // cgroups (issue 13)
    oomKilled: undefined,
    cgroupDirs: cgroup ? Object.values(cgroup.dirs) : undefined,
  };
}

/**
 * Records that a foreground container ended (unless something else, like `rm -f`, got there first).
 * `durable: false`: without fsync (the record is removed next).
 */
export async function recordExit(
  root: string,
  id: string,
  code: number,
  error?: string,
  oomKilled = false,
  durable = true,
): Promise<void> {
  try {
    await withContainerLock(root, id, async () => {
      // run6: as it is (this process is the waiter: a refresh would first record a guess, durably)
      const rec = await readContainer(root, id, false).catch(() => undefined);
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
      if (oomKilled) rec.state.oomKilled = true;
      await writeState(root, id, rec.state, durable);
      writeContainerEvents(root, rec, ["died", "cleanup"], { exitCode: code });
    });
  } catch (e) {
    debug(`recording the exit of ${id}: ${e instanceof Error ? e.message : e}`);
  }
}
