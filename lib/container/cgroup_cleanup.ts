/**
 * Removing a container's cgroup once its processes are gone (cgroups, issue 13): after a foreground run, a
 * failed start, and at `rm` (the detached supervisor removes it itself when the container ends, see
 * lib/ns/supervisor.ts). Records nothing itself: callers put `oomKilled` in the state.
 * @module
 */

import { warn } from "../log.ts";
import { type CgroupSpec, releaseCgroup } from "../ns/cgroup.ts";
import type { ContainerConfig } from "../store/container_types.ts";
import { cgroupSpecFor } from "./resources.ts";

/** Releases `spec` (when the container has one); returns whether the memory limit killed a process of it. */
export async function releaseContainerCgroup(spec: CgroupSpec | undefined): Promise<boolean> {
  if (!spec) return false;
  const { oomKilled, left } = await releaseCgroup(spec);
  if (left.length) warn(`cannot remove the cgroup ${left.join(", ")}: it is still in use`);
  return oomKilled;
}

/** Releases the cgroup of the container `c` (at `rm`): see {@link releaseContainerCgroup}. */
export async function releaseCgroupOf(c: ContainerConfig): Promise<boolean> {
  return await releaseContainerCgroup(cgroupSpecFor(c));
}
