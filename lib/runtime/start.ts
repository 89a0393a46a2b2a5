/**
 * Starting containers: prepare the rootfs on first start, then launch the process detached (a supervisor
 * writes the log and exit.json) or in the foreground (this process waits and records the exit).
 * @module
 */

import { PodError } from "../errors.ts";
import { debug } from "../log.ts";
import { launch } from "../ns/launch.ts";
import {
  containerPaths,
  type ContainerRecord,
  nowNano,
  procStartTime,
  readContainer,
  refreshState,
  withContainerLock,
  writeState,
  ZERO_TIME,
} from "../store/containers.ts";
import { prepareSpec, runSpec } from "./launch_spec.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Extracts the image into the rootfs unless that was done before (a start after a stop reuses it). */
export async function ensureRootfs(root: string, rec: ContainerRecord): Promise<void> {
  const cp = containerPaths(root, rec.config.id);
  if (await exists(cp.rootfs)) return;
  await Deno.mkdir(`${cp.dir}/run`, { recursive: true, mode: 0o700 });
  const t0 = performance.now();
  if (rec.config.userns.mode === "host" && Deno.uid() === 0) {
    // no user namespace: the layers' ids are the host's, so extract right here (saves a process start)
    const tmp = `${cp.rootfs}.tmp`;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.mkdir(tmp, { mode: 0o755 });
    const { unpackLayers } = await import("../unpack/mod.ts");
    await unpackLayers(tmp, rec.config.layers);
    await Deno.rename(tmp, cp.rootfs);
  } else {
    const r = await launch(prepareSpec(root, rec.config), { mode: "foreground", tty: false, stdin: false });
    if (r.exitCode !== 0) {
      throw new PodError(`preparing the root file system of ${rec.config.id.slice(0, 12)} failed`);
    }
  }
  debug(`rootfs of ${rec.config.id.slice(0, 12)} prepared in ${Math.round(performance.now() - t0)} ms`);
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
    await ensureRootfs(root, rec);
    await resetForStart(root, rec);
    const spec = runSpec(root, rec.config);
    let started: Promise<void> | undefined;
    try {
      const io = {
        mode: "detached" as const,
        logPath: cp.log,
        exitPath: cp.exit,
        tty: rec.config.process.terminal,
      };
      await launch(spec, io, {
        onStarted: (pid: number) => {
          rec.state = startedState(rec, pid, true);
          started = writeState(root, id, rec.state);
        },
      });
    } catch (e) {
      await started?.catch(() => {});
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
 * Runs a container in the foreground (`run` without `-d`, `start -a`): the state is `running` while its
 * command runs, then `exited` with its code, which is returned.
 */
export async function startForeground(
  root: string,
  id: string,
  io: { tty: boolean; stdin: boolean },
): Promise<number> {
  let rec!: ContainerRecord;
  let spec!: ReturnType<typeof runSpec>;
  await withContainerLock(root, id, async () => {
    rec = await readContainer(root, id);
    if (rec.state.status === "running" || rec.state.status === "paused") {
      throw new PodError(`container ${rec.config.id} is already running: container state improper`);
    }
    await ensureRootfs(root, rec);
    await resetForStart(root, rec);
    spec = runSpec(root, rec.config, io.tty);
  });
  let started: Promise<void> | undefined;
  let code: number;
  try {
    const r = await launch(spec, { mode: "foreground", tty: io.tty, stdin: io.stdin }, {
      onStarted: (pid: number) => {
        rec.state = startedState(rec, pid, false, Deno.pid);
        started = writeState(root, id, rec.state);
      },
    });
    code = r.exitCode ?? 0;
  } catch (e) {
    await started?.catch(() => {});
    await recordExit(
      root,
      id,
      e instanceof PodError ? e.exitCode : 125,
      e instanceof Error ? e.message : String(e),
    );
    throw e;
  }
  await started?.catch(() => {});
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

/** Reads and refreshes a container's state (used by wait loops). */
export async function currentState(root: string, rec: ContainerRecord): Promise<ContainerRecord> {
  const fresh = await readContainer(root, rec.config.id);
  await refreshState(root, fresh);
  return fresh;
}
