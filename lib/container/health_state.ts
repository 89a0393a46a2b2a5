/**
 * A container's health state (`<container>/healthcheck.json`, podman's `State.Health`): status
 * (`starting`, `healthy`, `unhealthy`), the failing streak and the last five results. Written atomically by
 * `healthcheck run`; reset to `starting` at each start.
 * @module
 */

import { writeJsonAtomic } from "../store/atomic.ts";
import { containerPaths } from "../store/containers.ts";

/** One health check run, as podman logs it. */
export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** podman's `State.Health`. */
export interface HealthState {
  Status: "starting" | "healthy" | "unhealthy" | "";
  FailingStreak: number;
  Log: HealthLogEntry[] | null;
}

/** The file of a container's health state. */
export function healthPath(root: string, id: string): string {
  return `${containerPaths(root, id).dir}/healthcheck.json`;
}

/** The recorded health state; `starting` with no log when nothing was recorded yet. */
export function readHealth(root: string, id: string): HealthState {
  return readHealthIn(containerPaths(root, id).dir);
}

/** {@link readHealth} of the container directory `dir`. */
export function readHealthIn(dir: string): HealthState {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}/healthcheck.json`)) as HealthState;
  } catch {
    return { Status: "starting", FailingStreak: 0, Log: null };
  }
}

/** Records the health state. */
export async function writeHealth(root: string, id: string, h: HealthState): Promise<void> {
  await writeJsonAtomic(healthPath(root, id), h);
}

/** Back to `starting` (a start), keeping the log. */
export async function resetHealth(root: string, id: string): Promise<void> {
  const h = readHealth(root, id);
  await writeHealth(root, id, { Status: "starting", FailingStreak: 0, Log: h.Log });
}
