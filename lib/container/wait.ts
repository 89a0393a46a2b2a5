/**
 * Waiting for a container to reach a condition (`wait`, `run` helpers).
 * @module
 */

import { PodError } from "../errors.ts";
import { readContainer } from "../store/containers.ts";
import { sleepMs } from "../ns/sleep.ts";

const sleep = sleepMs; // not setTimeout: its first use loads node:timers (lib/ns/sleep.ts)

/**
 * Waits until the container meets one of `conditions` (`stopped`/`exited`: not running; `running`;
 * `created`; `paused`; `healthy`/`unhealthy`: its health check's status) and returns its exit code (-1 for
 * conditions other than stopped/exited). `intervalMs`: the longest pause between two looks (`--interval`).
 */
export async function waitFor(
  root: string,
  id: string,
  conditions: string[],
  intervalMs = 100,
): Promise<number> {
  const known = [
    "stopped",
    "exited",
    "running",
    "created",
    "paused",
    "configured",
    "stopping",
    "initialized",
    "removing",
    "healthy",
    "unhealthy",
  ];
  for (const c of conditions) {
    if (!known.includes(c)) {
      throw new PodError(`${c} is not a valid container state: invalid argument`, { code: "USAGE" });
    }
  }
  let delay = 10;
  let lastCode: number | undefined;
  for (;;) {
    let rec;
    try {
      rec = await readContainer(root, id);
    } catch (e) {
      // removed while we waited (run --rm): report what we saw last
      if (lastCode !== undefined) return lastCode;
      throw e;
    }
    const s = rec.state.status;
    const live = s === "running" || s === "paused" || s === "stopping";
    if ((conditions.includes("stopped") || conditions.includes("exited")) && !live) return rec.state.exitCode;
    if (conditions.includes(s) || (s === "created" && conditions.includes("configured"))) return -1;
    if (s === "running" && conditions.includes("initialized")) return -1;
    const health = (rec.state as { health?: { status?: string } }).health?.status;
    if (health && conditions.includes(health)) return -1;
    if (s === "exited") lastCode = rec.state.exitCode;
    await sleep(delay);
    delay = Math.min(delay * 2, Math.max(intervalMs, 1));
  }
}
