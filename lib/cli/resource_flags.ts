/**
 * The resource-limit flags of `create`, `run` and `update` (cgroups, issue 13), podman's names, and their
 * conversion into lib/container/resources.ts's {@link ResourceOptions}.
 * @module
 */

import type { ResourceOptions } from "../container/resources.ts";
import { type FlagValues, str } from "./flags.ts";

/** The limits `update` can change too. */
export const limitFlags = {
  blkioWeight: str("Block IO weight (relative weight) accepts a weight value between 10 and 1000"),
  cpuPeriod: str("Limit the CPU CFS (Completely Fair Scheduler) period"),
  cpuQuota: str("Limit the CPU CFS (Completely Fair Scheduler) quota"),
  cpuShares: str("c", "CPU shares (relative weight)"),
  cpus: str("Number of CPUs. The default is 0.000 which means no limit"),
  cpusetCpus: str("CPUs in which to allow execution (0-3, 0,1)"),
  cpusetMems: str("Memory nodes (MEMs) in which to allow execution (0-3, 0,1)"),
  memory: str("m", "Memory limit (format: <number>[<unit>], where unit = b (bytes), k (kibibytes), m, g)"),
  memoryReservation: str("Memory soft limit (format: <number>[<unit>])"),
  memorySwap: str("Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
  memorySwappiness: str("Tune container memory swappiness (0 to 100, or -1 for system default)"),
  pidsLimit: str("Tune container pids limit (set -1 for unlimited)"),
};

/** `create`/`run`: the limits plus where the cgroup goes. */
export const resourceFlags = {
  ...limitFlags,
  cgroupParent: str("Optional parent cgroup for the container"),
  cgroups: str('control container cgroup configuration ("enabled"|"disabled"|"no-conmon"|"split")'),
};

/** The parsed values of {@link resourceFlags} (or of {@link limitFlags}). */
export type ResourceFlagValues = Partial<FlagValues<typeof resourceFlags>>;

/** The flags as {@link ResourceOptions}. */
export function resourceOptions(f: ResourceFlagValues): ResourceOptions {
  return {
    memory: f.memory,
    memorySwap: f.memorySwap,
    memoryReservation: f.memoryReservation,
    memorySwappiness: f.memorySwappiness,
    cpus: f.cpus,
    cpuShares: f.cpuShares,
    cpuQuota: f.cpuQuota,
    cpuPeriod: f.cpuPeriod,
    cpusetCpus: f.cpusetCpus,
    cpusetMems: f.cpusetMems,
    pidsLimit: f.pidsLimit,
    blkioWeight: f.blkioWeight,
    cgroupParent: f.cgroupParent,
    cgroups: f.cgroups,
  };
}
