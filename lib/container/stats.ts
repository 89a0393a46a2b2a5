/**
 * `stats` data (cgroups, issue 13): a container's CPU, memory, block I/O and pids from its cgroup, network I/O
 * from its network namespace, as numbers; podman's derived values (CPU % since the last sample or since its
 * start, memory % of the limit or of the host's memory). Rootless without a cgroup of its own: podman's error.
 * @module
 */

import { PodError } from "../errors.ts";
import { cgroupExists, cgroupUsage } from "../ns/cgroup.ts";
import { type ContainerRecord, getContainer, listContainers } from "../store/containers.ts";
import { cgroupSpecFor, rootlessCgroupBase } from "./resources.ts";

/** One sample of a container. */
export interface ContainerStats {
  id: string;
  name: string;
  /** CPU time used so far, in nanoseconds. */
  cpuNs: number;
  /** CPU % since the previous sample (the first one: since the container started). */
  cpuPercent: number;
  /** CPU % over the samples taken so far (podman's `AVG CPU %`). */
  avgCpuPercent: number;
  memUsage: number;
  memLimit: number;
  memPercent: number;
  /** Network bytes received and sent (undefined: the host's network, not counted). */
  netInput?: number;
  netOutput?: number;
  blockInput: number;
  blockOutput: number;
  pids: number;
  /** When the sample was taken (ms, `performance.now()` clock of this process). */
  at: number;
}

/** What a stats stream remembers between samples, per container. */
export type StatsHistory = Map<string, { cpuNs: number; at: number; sum: number; n: number }>;

/** podman's error for a rootless user without a cgroup v2 subtree of their own. */
export function checkStatsSupported(): void {
  if (Deno.uid() !== 0 && !rootlessCgroupBase()) {
    throw new PodError("stats is not supported in rootless mode without cgroups v2");
  }
}

function hostMemory(): number {
  try {
    const m = /^MemTotal:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/meminfo"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function netDev(pid: number): { rx: number; tx: number } {
  let rx = 0, tx = 0;
  try {
    for (const line of Deno.readTextFileSync(`/proc/${pid}/net/dev`).split("\n").slice(2)) {
      const [name, rest] = line.split(":");
      if (!rest || name.trim() === "lo") continue;
      const f = rest.trim().split(/\s+/).map(Number);
      rx += f[0] ?? 0;
      tx += f[8] ?? 0;
    }
  } catch { /* gone */ }
  return { rx, tx };
}

/** One sample of `rec` (zeros when it is not running or has no cgroup). */
export function sampleContainer(rec: ContainerRecord, history?: StatsHistory): ContainerStats {
  const c = rec.config;
  const running = rec.state.status === "running" || rec.state.status === "paused";
  const at = performance.now();
  const s: ContainerStats = {
    id: c.id,
    name: c.name,
    cpuNs: 0,
    cpuPercent: 0,
    avgCpuPercent: 0,
    memUsage: 0,
    memLimit: 0,
    memPercent: 0,
    netInput: 0,
    netOutput: 0,
    blockInput: 0,
    blockOutput: 0,
    pids: 0,
    at,
  };
  if (!running) return s;
  const spec = cgroupSpecFor(c);
  const u = spec && cgroupExists(spec) ? cgroupUsage(spec) : {};
  s.cpuNs = u.cpuNs ?? 0;
  s.memUsage = u.memory ?? 0;
  s.memLimit = u.memoryLimit ?? hostMemory();
  s.memPercent = s.memLimit ? (s.memUsage / s.memLimit) * 100 : 0;
  s.blockInput = u.blockRead ?? 0;
  s.blockOutput = u.blockWrite ?? 0;
  s.pids = u.pids ?? 0;
  if (c.namespaces.net === "host") {
    s.netInput = s.netOutput = undefined;
  } else {
    const n = netDev(rec.state.pid);
    s.netInput = n.rx;
    s.netOutput = n.tx;
  }
  const prev = history?.get(c.id);
  const since = prev ? prev.at : at - Math.max(1, Date.now() - Date.parse(rec.state.startedAt));
  const cpuBefore = prev ? prev.cpuNs : 0;
  const wallNs = (at - since) * 1e6;
  s.cpuPercent = wallNs > 0 ? Math.max(0, ((s.cpuNs - cpuBefore) / wallNs) * 100) : 0;
  const sum = (prev?.sum ?? 0) + s.cpuPercent, n = (prev?.n ?? 0) + 1;
  s.avgCpuPercent = sum / n;
  history?.set(c.id, { cpuNs: s.cpuNs, at, sum, n });
  return s;
}

/**
 * The containers `stats` shows: the named ones (each must exist), else the running ones (`all`: every one),
 * sorted by id as podman lists them.
 */
export async function statsTargets(root: string, names: string[], all: boolean): Promise<ContainerRecord[]> {
  const recs = names.length
    ? await Promise.all(names.map((n) => getContainer(root, n)))
    : (await listContainers(root)).filter((r) => all || r.state.status === "running");
  return recs.sort((a, b) => a.config.id < b.config.id ? -1 : 1);
}
