/**
 * `healthcheck run`: runs a container's health check command in it (like `exec`, with its timeout), records
 * the result in its health state (health_state.ts) with podman's rules, and applies `--health-on-failure` once
 * it turns unhealthy. Started by the supervisor (or a foreground `run`) on the check's interval, or by hand.
 *
 * podman's rules: exit 0 = healthy (the failing streak back to 0); anything else counts as a failure unless the
 * container is still in its start period; `retries` failures in a row make it `unhealthy`. The log keeps the
 * last 5 runs, each output cut to 500 characters.
 * @module
 */

import { PodError } from "../errors.ts";
import { type ContainerRecord, getContainer, nowNano } from "../store/containers.ts";
import { type HealthLogEntry, readHealth, writeHealth } from "./health_state.ts";

/** podman's MaxHealthCheckNumberLogs. */
const MAX_LOGS = 5;
/** podman's MaxHealthCheckLogLength. */
const MAX_OUTPUT = 500;

/** What one run found: podman's `healthy`, `unhealthy`, or `starting` (a failure inside the start period). */
export type HealthResult = "healthy" | "unhealthy" | "starting";

/** The health check's argv: `CMD-SHELL x` → `/bin/sh -c x`, `CMD a b` → `a b`. */
export function healthArgs(test: string[]): string[] {
  if (test[0] === "CMD-SHELL") return ["/bin/sh", "-c", test.slice(1).join(" ")];
  if (test[0] === "CMD") return test.slice(1);
  return test;
}

/** Runs the check once in the container; its exit code and output (a failure to run counts as exit 1). */
async function runCheck(root: string, rec: ContainerRecord, timeoutNs: number): Promise<HealthLogEntry> {
  const { execCaptured } = await import("./exec.ts");
  const start = nowNano();
  const signal = AbortSignal.timeout(Math.max(1, Math.round(timeoutNs / 1e6)));
  let exitCode: number, output: string;
  try {
    const r = await execCaptured(
      root,
      rec,
      { args: healthArgs(rec.config.healthcheck!.test), env: [], tty: false, interactive: false },
      { stdout: "piped", stderr: "piped", signal },
    );
    const dec = new TextDecoder();
    exitCode = r.exitCode;
    output = dec.decode(r.stdout) + dec.decode(r.stderr);
  } catch (e) {
    exitCode = 1;
    output = signal.aborted
      ? `Healthcheck command timed out after ${timeoutNs / 1e9}s`
      : e instanceof Error
      ? e.message
      : String(e);
  }
  if (output.length > MAX_OUTPUT) output = output.slice(0, MAX_OUTPUT);
  return { Start: start, End: nowNano(), ExitCode: exitCode, Output: output };
}

/**
 * Runs the health check of `nameOrId` once and records it; applies the on-failure action when the container
 * turns (or stays) unhealthy. Throws a PodError when it has no health check or is not running.
 */
export async function healthcheckRun(root: string, nameOrId: string): Promise<HealthResult> {
  const rec = await getContainer(root, nameOrId);
  const c = rec.config, hc = c.healthcheck;
  if (!hc) throw new PodError(`container ${c.id} has no defined healthcheck`);
  if (rec.state.status !== "running") {
    throw new PodError(`container ${c.id} is not running`, { code: "STATE" });
  }
  const entry = await runCheck(root, rec, hc.timeout);
  const inStartPeriod = hc.startPeriod > 0 &&
    Date.now() - Date.parse(rec.state.startedAt) < hc.startPeriod / 1e6;
  const h = readHealth(root, c.id);
  if (entry.ExitCode === 0) {
    h.Status = "healthy";
    h.FailingStreak = 0;
  } else if (!inStartPeriod) {
    h.FailingStreak++;
    if (h.FailingStreak >= hc.retries) h.Status = "unhealthy";
  }
  h.Log = [...(h.Log ?? []), entry].slice(-MAX_LOGS);
  await writeHealth(root, c.id, h);
  if (entry.ExitCode !== 0 && h.Status === "unhealthy" && hc.onFailure !== "none") {
    await onFailure(root, rec, hc.onFailure);
  }
  return entry.ExitCode === 0 ? "healthy" : inStartPeriod ? "starting" : "unhealthy";
}

/**
 * `--health-on-failure`: `kill` (SIGKILL; a restart policy may bring it back), `stop` (as `pod stop`),
 * `restart` (stopped and started again).
 */
async function onFailure(
  root: string,
  rec: ContainerRecord,
  action: "kill" | "restart" | "stop",
): Promise<void> {
  const id = rec.config.id;
  if (action === "kill") {
    const { signalContainer } = await import("../ns/signals.ts");
    signalContainer(rec.state.pid, 9, false);
    return;
  }
  const { stopById } = await import("./lifecycle.ts");
  await stopById(root, id);
  if (action === "restart") {
    const { startDetached } = await import("./start.ts");
    await startDetached(root, id, { countAsRestart: true });
  }
}
