/**
 * Resource limits (issue 13, cgroups): `--memory`, `--memory-swap`, `--memory-reservation`,
 * `--memory-swappiness`, `--cpus`, `--cpu-shares`, `--cpu-quota`/`--cpu-period`, `--cpuset-cpus`/`--cpuset-mems`,
 * `--pids-limit`, `--blkio-weight`, `--cgroup-parent`, `--cgroups`: parsed and checked as podman does
 * (its messages), recorded in the container's config, and turned into the container's cgroup
 * ({@link cgroupSpecFor}: `/libpod_parent/libpod-<id>` as podman's cgroupfs manager names it), which stage 2
 * makes and enters right before `execve`. Root uses cgroup v2 when the unified hierarchy is mounted at
 * /sys/fs/cgroup, else the v1 controllers; rootless uses a delegated cgroup v2 subtree when there is one, and
 * otherwise records the limits, ignores them and says so with podman's warning.
 * @module
 */

import { deviceRules } from "./device_cgroup.ts";
import { UsageError } from "../errors.ts";
import { ramInBytes } from "../format/size_parse.ts";
import {
  cgroupDirs,
  type CgroupLayout,
  cgroupLayout,
  type CgroupLimits,
  type CgroupSpec,
  ownCgroupV2,
} from "../ns/cgroup.ts";
import type { ContainerConfig, ResourceConfig } from "../store/container_types.ts";

/** The resource flags as written on the command line. */
export interface ResourceOptions {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  cpus?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  cgroupParent?: string;
  cgroups?: string;
}

/** podman's warning when limits cannot be enforced for a rootless user. */
export const ROOTLESS_V1_WARNING =
  "Resource limits are not supported and ignored on cgroups V1 rootless systems";

/** podman's default `pids_limit` (containers.conf) for containers that have a cgroup. */
export const DEFAULT_PIDS_LIMIT = 2048;

const DEFAULT_PARENT = "/libpod_parent";

/** Where a rootless user may make cgroups: the delegated v2 subtree holding this process, if any. */
export function rootlessCgroupBase(layout: CgroupLayout | null = cgroupLayout()): string | undefined {
  if (!layout || layout.version !== 2) return undefined;
  const own = ownCgroupV2();
  if (!own) return undefined;
  // the topmost ancestor owned by this user (systemd's user@UID.service): migrations stay inside it
  let base: string | undefined;
  const parts = own.split("/").filter((p) => p);
  for (let i = parts.length; i >= 1; i--) {
    const rel = "/" + parts.slice(0, i).join("/");
    try {
      const st = Deno.statSync(`${layout.root}${rel}`);
      if (st.uid !== Deno.uid()) break;
      Deno.statSync(`${layout.root}${rel}/cgroup.subtree_control`);
      base = rel;
    } catch {
      break;
    }
  }
  if (!base) return undefined;
  const have = Deno.readTextFileSync(`${layout.root}${base}/cgroup.controllers`).trim();
  return have.includes("memory") || have.includes("pids") ? base : undefined;
}

/** Whether containers of this user get a cgroup of their own here (root: any cgroup layout). */
export function cgroupsUsable(): boolean {
  const layout = cgroupLayout();
  if (!layout) return false;
  return Deno.uid() === 0 || rootlessCgroupBase(layout) !== undefined;
}

function badArg(value: string, flag: string, parser: string, hint?: string): UsageError {
  return new UsageError(
    `invalid argument "${value}" for "${flag}" flag: strconv.${parser}: parsing "${value}": invalid syntax`,
    hint,
  );
}

function parseInteger(v: string, flag: string, parser: string, hint?: string, unsigned = false): number {
  if (!(unsigned ? /^\+?\d+$/ : /^[+-]?\d+$/).test(v.trim())) throw badArg(v, flag, parser, hint);
  return Number(v);
}

function parseMemory(v: string, what: string): number {
  if (v === "-1") return -1;
  try {
    return ramInBytes(v);
  } catch (e) {
    throw new UsageError(`invalid value for ${what}: ${e instanceof Error ? e.message : e}`);
  }
}

/** `0-3,5` → [0,1,2,3,5]; undefined when malformed. */
export function parseCpuList(s: string): number[] | undefined {
  const out: number[] = [];
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function rootFile(layout: CgroupLayout, controller: string, file: string): string | undefined {
  const dir = layout.version === 2 ? layout.root : layout.mounts[controller];
  if (!dir) return undefined;
  try {
    return Deno.readTextFileSync(`${dir}/${file}`).trim();
  } catch {
    return undefined;
  }
}

function checkCpuset(layout: CgroupLayout, value: string, kind: "cpus" | "mems"): void {
  const want = parseCpuList(value);
  if (!want) throw new UsageError(`invalid value ${value} for cpuset ${kind}`);
  const avail = rootFile(layout, "cpuset", `cpuset.${kind}${layout.version === 2 ? ".effective" : ""}`) ??
    rootFile(layout, "cpuset", `cpuset.${kind}`);
  if (avail === undefined) return;
  const have = new Set(parseCpuList(avail) ?? []);
  if (want.some((n) => !have.has(n))) {
    throw new UsageError(
      kind === "cpus"
        ? `requested CPUs are not available - requested ${value}, available: ${avail}`
        : `requested memory nodes are not available - requested ${value}, available: ${avail}`,
    );
  }
}

/**
 * Parses and checks the resource flags (podman's messages; a malformed number is a usage error naming the flag,
 * with `hint`). Returns the config to record (undefined when no flag was given and cgroups are disabled or
 * unusable) and the warnings to print (podman prints them as plain lines on stderr).
 */
export function parseResources(
  o: ResourceOptions,
  hint?: string,
  base?: ResourceConfig,
): { resources?: ResourceConfig; warnings: string[] } {
  const warnings: string[] = [];
  const L: CgroupLimits = {};
  let nanoCpus: number | undefined;
  if (o.memory !== undefined) L.memory = parseMemory(o.memory, "memory");
  if (o.memorySwap !== undefined) L.memorySwap = parseMemory(o.memorySwap, "memory-swap");
  if (o.memoryReservation !== undefined) {
    L.memoryReservation = parseMemory(o.memoryReservation, "memory-reservation");
  }
  if (o.memorySwappiness !== undefined) {
    L.memorySwappiness = parseInteger(o.memorySwappiness, "--memory-swappiness", "ParseInt", hint);
  }
  if (o.cpus !== undefined) {
    const n = Number(o.cpus);
    if (o.cpus.trim() === "" || !Number.isFinite(n)) throw badArg(o.cpus, "--cpus", "ParseFloat", hint);
    if (n < 0) throw new UsageError(`invalid value for cpus: ${o.cpus}: must not be negative`);
    if (n > 0) nanoCpus = Math.round(n * 1e9);
  }
  if (o.cpuShares !== undefined) {
    L.cpuShares = parseInteger(o.cpuShares, "-c, --cpu-shares", "ParseUint", hint, true);
  }
  if (o.cpuQuota !== undefined) L.cpuQuota = parseInteger(o.cpuQuota, "--cpu-quota", "ParseInt", hint);
  if (o.cpuPeriod !== undefined) {
    L.cpuPeriod = parseInteger(o.cpuPeriod, "--cpu-period", "ParseUint", hint, true);
  }
  if (o.cpusetCpus) L.cpusetCpus = o.cpusetCpus;
  if (o.cpusetMems) L.cpusetMems = o.cpusetMems;
  if (o.pidsLimit !== undefined) L.pidsLimit = parseInteger(o.pidsLimit, "--pids-limit", "ParseInt", hint);
  if (o.blkioWeight !== undefined) {
    L.blkioWeight = parseInteger(o.blkioWeight, "--blkio-weight", "ParseUint", hint, true);
  }
  if (o.cgroups !== undefined && !["enabled", "disabled", "no-conmon", "split"].includes(o.cgroups)) {
    throw new UsageError(`invalid cgroup mode "${o.cgroups}"`);
  }
  if (o.cgroupParent !== undefined && !o.cgroupParent.startsWith("/")) {
    throw new UsageError(`invalid cgroup parent "${o.cgroupParent}": use an absolute cgroup path`);
  }
  if (nanoCpus !== undefined) {
    if (L.cpuQuota !== undefined) throw new UsageError("--cpu-quota and --cpus cannot be set together");
    if (L.cpuPeriod !== undefined) throw new UsageError("--cpu-period and --cpus cannot be set together");
    L.cpuPeriod = 100000;
    L.cpuQuota = Math.round(nanoCpus / 1e9 * 100000);
  }
  const given = Object.keys(L).length > 0;
  if (base) return mergeUpdate(base, L, nanoCpus, warnings);
  const disabled = o.cgroups === "disabled";
  if (disabled && given) throw new UsageError("cannot set resource limits when cgroups are disabled");
  const cfg: ResourceConfig = { limits: L };
  if (nanoCpus !== undefined) cfg.nanoCpus = nanoCpus;
  if (o.cgroupParent) cfg.cgroupParent = o.cgroupParent;
  if (disabled) cfg.cgroups = "disabled";
  if (disabled) return { resources: cfg, warnings };
  const layout = cgroupLayout();
  if (Deno.uid() !== 0 && (!layout || !rootlessCgroupBase(layout))) {
    if (given) {
      warnings.push(ROOTLESS_V1_WARNING);
      cfg.ignored = true;
    }
    return { resources: given || o.cgroupParent ? cfg : undefined, warnings };
  }
  if (!layout) {
    if (given) {
      warnings.push("no cgroup file system is mounted: resource limits are ignored");
      cfg.ignored = true;
    }
    return { resources: given ? cfg : undefined, warnings };
  }
  checkLimits(layout, L, warnings);
  if (L.pidsLimit === undefined) L.pidsLimit = DEFAULT_PIDS_LIMIT;
  return { resources: cfg, warnings };
}

/** `update`: the new limits over the recorded ones, checked again. */
function mergeUpdate(
  base: ResourceConfig,
  L: CgroupLimits,
  nanoCpus: number | undefined,
  warnings: string[],
): { resources: ResourceConfig; warnings: string[] } {
  const merged: CgroupLimits = { ...base.limits };
  if (L.memory !== undefined && L.memorySwap === undefined) delete merged.memorySwap;
  const out: ResourceConfig = { ...base, limits: Object.assign(merged, L) };
  if (nanoCpus !== undefined) out.nanoCpus = nanoCpus;
  else if (L.cpuQuota !== undefined || L.cpuPeriod !== undefined) delete out.nanoCpus;
  if (base.ignored || base.cgroups === "disabled") {
    if (Object.keys(L).length && base.ignored) warnings.push(ROOTLESS_V1_WARNING);
    if (Object.keys(L).length && base.cgroups === "disabled") {
      throw new UsageError("cannot set resource limits when cgroups are disabled");
    }
    return { resources: out, warnings };
  }
  const layout = cgroupLayout();
  if (layout) checkLimits(layout, out.limits, warnings);
  return { resources: out, warnings };
}

/** podman's checks of the limits against each other and against what this host supports. */
function checkLimits(layout: CgroupLayout, L: CgroupLimits, warnings: string[]): void {
  const v1 = layout.version === 1;
  const swapAccounting = v1 ? rootFile(layout, "memory", "memory.memsw.limit_in_bytes") !== undefined : true;
  if (L.memory !== undefined && L.memory > 0 && L.memorySwap === undefined && swapAccounting) {
    L.memorySwap = 2 * L.memory; // podman's default: as much swap as memory
  }
  if (L.memorySwap !== undefined && L.memorySwap > 0 && !swapAccounting) {
    warnings.push(
      "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.",
    );
    delete L.memorySwap;
  }
  if (L.memorySwap !== undefined && L.memorySwap > 0) {
    if (!L.memory) {
      throw new UsageError("you should always set a memory limit when using a memoryswap limit, see usage");
    }
    if (L.memorySwap < L.memory) {
      throw new UsageError("minimum memoryswap limit should be larger than memory limit, see usage");
    }
  }
  if (L.memorySwappiness !== undefined) {
    if (!v1) {
      warnings.push(
        "Your kernel does not support memory swappiness capabilities, or the cgroup is not mounted. Memory swappiness discarded.",
      );
      delete L.memorySwappiness;
    } else if (L.memorySwappiness > 100 || L.memorySwappiness < -1) {
      throw new UsageError(
        `invalid value: ${L.memorySwappiness}, valid memory swappiness range is 0-100`,
      );
    }
  }
  if (L.memory && L.memoryReservation && L.memory < L.memoryReservation) {
    throw new UsageError("minimum memory limit cannot be less than memory reservation limit, see usage");
  }
  if (L.cpuPeriod !== undefined && (L.cpuPeriod < 1000 || L.cpuPeriod > 1000000)) {
    throw new UsageError(
      "CPU cfs period cannot be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  }
  if (L.cpuQuota !== undefined && L.cpuQuota > 0 && L.cpuQuota < 1000) {
    throw new UsageError("CPU cfs quota cannot be less than 1ms (i.e. 1000)");
  }
  if (L.cpuShares !== undefined && L.cpuShares !== 0 && (L.cpuShares < 2 || L.cpuShares > 262144)) {
    throw new UsageError(`invalid value ${L.cpuShares} for cpu shares: the range is 2-262144`);
  }
  if (L.cpuShares === 0) delete L.cpuShares;
  if (L.cpusetCpus) checkCpuset(layout, L.cpusetCpus, "cpus");
  if (L.cpusetMems) checkCpuset(layout, L.cpusetMems, "mems");
  if (L.blkioWeight !== undefined) {
    const supported = v1
      ? ["blkio.weight", "blkio.bfq.weight"].some((f) => rootFile(layout, "blkio", f) !== undefined)
      : layout.controllers.includes("io");
    if (!supported) {
      warnings.push(
        "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
      );
      delete L.blkioWeight;
    } else if (L.blkioWeight > 1000 || L.blkioWeight < 10) {
      throw new UsageError("range of blkio weight is from 10 to 1000");
    }
  }
}

/** The cgroup path of a container (relative to the hierarchies' roots). */
export function cgroupPath(c: ContainerConfig, layout: CgroupLayout): string | undefined {
  const parent = c.resources?.cgroupParent ?? DEFAULT_PARENT;
  if (Deno.uid() === 0) return `${parent}/libpod-${c.id}`;
  const base = rootlessCgroupBase(layout);
  return base ? `${base}${parent}/libpod-${c.id}` : undefined;
}

/**
 * The cgroup of a container (made and entered by stage 2 at its start); undefined when it has none: cgroups
 * disabled, limits ignored (rootless without a delegated cgroup v2 subtree), no cgroupfs, or a container
 * created before pod had resource limits (rootless). Root containers always get one, as with podman.
 */
export function cgroupSpecFor(c: ContainerConfig): CgroupSpec | undefined {
  const r = c.resources;
  if (r?.cgroups === "disabled" || r?.ignored) return undefined;
  const layout = cgroupLayout();
  if (!layout) return undefined;
  const path = cgroupPath(c, layout);
  if (!path) return undefined;
  // runtime3 (issue 13): --device permissions through the v1 devices cgroup (root, not --privileged)
  const devices = layout.version === 1 && !!layout.mounts.devices && Deno.uid() === 0 && !c.privileged &&
    !!c.devices?.length;
  const spec: CgroupSpec = {
    version: layout.version,
    dirs: cgroupDirs(layout, path, devices),
    limits: r?.limits ?? {},
  };
  if (devices) spec.deviceRules = deviceRules(c.devices);
  if (!r?.cgroupParent) spec.removeParent = true;
  return spec;
}

/** A running container's limits for inspect's `HostConfig` (podman's field names and zero values). */
export function hostConfigResources(c: ContainerConfig): Record<string, unknown> {
  const r = c.resources;
  const L = r?.limits ?? {};
  return {
    CgroupManager: "cgroupfs",
    CgroupParent: r?.cgroupParent ?? "",
    Cgroups: r?.cgroups === "disabled" ? "disabled" : "default",
    Memory: L.memory && L.memory > 0 ? L.memory : 0,
    MemorySwap: L.memorySwap && L.memorySwap > 0 ? L.memorySwap : 0,
    MemoryReservation: L.memoryReservation ?? 0,
    MemorySwappiness: L.memorySwappiness ?? -1,
    NanoCpus: r?.nanoCpus ?? 0,
    CpuShares: L.cpuShares ?? 0,
    CpuPeriod: L.cpuPeriod ?? 0,
    CpuQuota: L.cpuQuota ?? 0,
    CpusetCpus: L.cpusetCpus ?? "",
    CpusetMems: L.cpusetMems ?? "",
    PidsLimit: L.pidsLimit !== undefined && L.pidsLimit > 0 ? L.pidsLimit : 0,
    BlkioWeight: L.blkioWeight ?? 0,
  };
}
