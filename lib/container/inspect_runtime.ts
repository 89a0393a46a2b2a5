/**
 * The inspect fields of issue 13's runtime settings (init, restart policy, health check, devices, groups,
 * sysctls), added to the podman-shaped object lib/container/inspect.ts builds.
 * @module
 */

import type { ContainerRecord } from "../store/containers.ts";
import { healthcheckInspect } from "./healthcheck_config.ts";
import { readHealth } from "./health_state.ts";

type Obj = Record<string, unknown>;

/** Adds the runtime fields to `out` (podman's `inspect` object of `rec`), in place. */
export function addRuntimeInspect(root: string, rec: ContainerRecord, out: Obj): void {
  const c = rec.config, s = rec.state;
  const state = out.State as Obj, config = out.Config as Obj, host = out.HostConfig as Obj;
  state.Restarting = !!s.restarting;
  if (c.healthcheck) {
    const h = readHealth(root, c.id);
    const running = s.status === "running" || s.status === "paused";
    state.Health = running ? h : { ...h, Status: h.Log ? h.Status : "" };
    config.Healthcheck = healthcheckInspect(c.healthcheck);
    config.HealthcheckOnFailureAction = c.healthcheck.onFailure;
  }
  host.RestartPolicy = c.restartPolicy
    ? { Name: c.restartPolicy.name, MaximumRetryCount: c.restartPolicy.maxRetries }
    : { Name: "no", MaximumRetryCount: 0 };
  host.Init = !!c.init;
  host.Devices = (c.devices ?? []).map((d) => ({
    PathOnHost: d.source,
    PathInContainer: d.destination,
    CgroupPermissions: d.permissions,
  }));
  host.GroupAdd = c.groupAdd ?? [];
  host.Sysctls = c.sysctls ?? {};
  if (c.pidFile) out.PidFile = c.pidFile;
  if (c.conmonPidFile) out.ConmonPidFile = c.conmonPidFile;
  if (c.timezone) config.Timezone = c.timezone;
  if (c.timeout) config.Timeout = c.timeout;
}
