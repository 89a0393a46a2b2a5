/**
 * A container's health check from `--health-cmd`, `--health-interval`, `--health-retries`, `--health-timeout`,
 * `--health-start-period`, `--health-on-failure`, `--no-healthcheck` and the image's `HEALTHCHECK`, with
 * podman's defaults (30 s interval and timeout, 3 retries, no start period) and messages.
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseGoDuration } from "../format/time.ts";
import type { HealthcheckConfig } from "../store/container_types.ts";

/** The health flags as written. */
export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthRetries?: number;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthOnFailure?: string;
  noHealthcheck?: boolean;
}

/** The image's `config.Healthcheck` (Docker's shape; durations in nanoseconds). */
export interface ImageHealthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

const SECOND = 1e9;
const ACTIONS = ["none", "kill", "restart", "stop"] as const;

/** `--health-cmd`: a JSON array (`["CMD", …]`, `["CMD-SHELL", …]`, `["NONE"]`) or a shell command line. */
function parseTest(cmd: string): string[] {
  const t = cmd.trim();
  if (t.toLowerCase() === "none") return ["NONE"];
  if (t.startsWith("[")) {
    let arr: unknown;
    try {
      arr = JSON.parse(t);
    } catch {
      arr = undefined;
    }
    if (Array.isArray(arr) && arr.length && arr.every((x) => typeof x === "string")) {
      const a = arr as string[];
      if (a[0] === "CMD" || a[0] === "CMD-SHELL" || a[0] === "NONE") return a;
      return ["CMD", ...a];
    }
  }
  return ["CMD-SHELL", cmd];
}

function duration(flag: string, v: string): number {
  try {
    return Math.round(parseGoDuration(v) * 1e6);
  } catch (e) {
    throw new UsageError(`invalid ${flag}: ${(e as Error).message}`);
  }
}

/** The container's health check, or `undefined` (none, `--no-healthcheck`, or `NONE`). */
export function healthcheckConfig(f: HealthFlags, image?: ImageHealthcheck): HealthcheckConfig | undefined {
  const action = (f.healthOnFailure ?? "none").toLowerCase();
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(
      `invalid on-failure action "${f.healthOnFailure}" for health check: supported actions are ${
        ACTIONS.join(",")
      }`,
    );
  }
  if (f.noHealthcheck) {
    if (f.healthCmd) throw new UsageError("cannot specify both --no-healthcheck and --health-cmd");
    return undefined;
  }
  const test = f.healthCmd !== undefined ? parseTest(f.healthCmd) : image?.Test;
  if (!test?.length || test[0] === "NONE") return undefined;
  const cfg: HealthcheckConfig = {
    test,
    interval: image?.Interval || 30 * SECOND,
    timeout: image?.Timeout || 30 * SECOND,
    startPeriod: image?.StartPeriod || 0,
    retries: image?.Retries || 3,
    onFailure: action as HealthcheckConfig["onFailure"],
  };
  if (f.healthInterval !== undefined) {
    if (f.healthInterval === "disable") cfg.interval = 0;
    else {
      cfg.interval = duration("healthcheck-interval", f.healthInterval);
      if (cfg.interval < SECOND) throw new UsageError("healthcheck-interval must be at least 1 second");
    }
  }
  if (f.healthTimeout !== undefined) {
    cfg.timeout = duration("healthcheck-timeout", f.healthTimeout);
    if (cfg.timeout < SECOND) throw new UsageError("healthcheck-timeout must be at least 1 second");
  }
  if (f.healthStartPeriod !== undefined) {
    cfg.startPeriod = duration("healthcheck-start-period", f.healthStartPeriod);
    if (cfg.startPeriod < 0) throw new UsageError("healthcheck-start-period must be 0 seconds or greater");
  }
  if (f.healthRetries !== undefined) {
    if (!Number.isInteger(f.healthRetries) || f.healthRetries < 1) {
      throw new UsageError("healthcheck-retries must be greater than 0");
    }
    cfg.retries = f.healthRetries;
  }
  return cfg;
}

/** podman's `Config.Healthcheck` in inspect (zero durations left out, as Go's omitempty does). */
export function healthcheckInspect(h: HealthcheckConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { Test: h.test };
  if (h.startPeriod) out.StartPeriod = h.startPeriod;
  if (h.interval) out.Interval = h.interval;
  if (h.timeout) out.Timeout = h.timeout;
  if (h.retries) out.Retries = h.retries;
  return out;
}
