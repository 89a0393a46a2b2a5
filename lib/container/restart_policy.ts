/**
 * Restart policies (`--restart`), applied when a container ends by `pod container cleanup`, which its
 * supervisor starts once the exit is recorded (podman's conmon runs `podman container cleanup` the same way).
 * `always` and `unless-stopped` restart whatever the exit code, `on-failure[:N]` only after a non-zero one (at
 * most N times, counted in `RestartCount`); never after `stop`/`kill` (`stoppedByUser`). Restarts in a row wait
 * 100 ms, doubling each time up to 1 min, and the wait starts again at 100 ms once a run lasted 10 s; meanwhile
 * the container is `Restarting` in inspect.
 * @module
 */

import { debug } from "../log.ts";
import { type ContainerRecord, readContainer, withContainerLock, writeState } from "../store/containers.ts";

const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 60_000;
const STEADY_RUN_MS = 10_000;

/** Whether the policy of `rec` (exited) asks for a restart. */
export function wantsRestart(rec: ContainerRecord): boolean {
  const p = rec.config.restartPolicy, s = rec.state;
  if (!p || s.status !== "exited" || s.stoppedByUser) return false;
  if (p.name === "on-failure") {
    if (s.exitCode === 0) return false;
    if (p.maxRetries > 0 && (s.restartCount ?? 0) >= p.maxRetries) return false;
  }
  return true;
}

/** The wait before the next restart of `rec`: 100 ms doubling per restart in a row, from 0 after a 10 s run. */
export function restartDelay(rec: ContainerRecord): number {
  const ran = Date.parse(rec.state.finishedAt) - Date.parse(rec.state.startedAt);
  const streak = ran >= STEADY_RUN_MS ? 0 : rec.state.restartStreak ?? 0;
  return Math.min(BACKOFF_START_MS * 2 ** streak, BACKOFF_MAX_MS);
}

/**
 * `pod container cleanup ID`: after the container ended, restarts it when its policy says so (after the
 * backoff). Returns whether it was restarted. A container removed or started meanwhile is left alone.
 */
export async function containerCleanup(root: string, id: string): Promise<boolean> {
  const rec = await readContainer(root, id).catch(() => undefined);
  if (!rec || !wantsRestart(rec)) return false;
  const delay = restartDelay(rec);
  if (
    !await withContainerLock(root, id, async () => {
      const cur = await readContainer(root, id);
      if (!wantsRestart(cur)) return false;
      cur.state.restarting = true;
      await writeState(root, id, cur.state);
      return true;
    }).catch(() => false)
  ) return false;
  debug(`restart policy of ${id.slice(0, 12)}: restarting in ${delay} ms`);
  await new Promise((r) => setTimeout(r, delay));
  const { startDetached } = await import("./start.ts");
  let started = false;
  try {
    started = await startDetached(root, id, { byPolicy: true });
  } catch (e) {
    debug(`restarting ${id.slice(0, 12)}: ${e instanceof Error ? e.message : e}`);
  }
  if (!started) {
    // stopped by the user meanwhile, or the start failed: no longer restarting
    await withContainerLock(root, id, async () => {
      const cur = await readContainer(root, id);
      if (cur.state.status !== "running" && cur.state.restarting) {
        cur.state.restarting = false;
        await writeState(root, id, cur.state);
      }
    }).catch(() => {});
  }
  return started;
}
