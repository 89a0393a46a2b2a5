/**
 * A container's cgroup, on cgroup v2 (the unified hierarchy mounted at /sys/fs/cgroup) or on cgroup v1
 * controllers (one hierarchy per controller, also the v1 side of a hybrid host): where it is
 * ({@link cgroupLayout}), making it and writing its limits ({@link createCgroup}, {@link applyCgroupLimits}),
 * entering it ({@link openCgroupProcs} before pivot_root, {@link enterCgroup} right before `execve`), and
 * reading and removing it (usage, OOM kills, {@link removeCgroup}). Plain file operations on cgroupfs; the
 * directory (`CgroupSpec.dirs`) is one per hierarchy and every path is absolute.
 * @module
 */

import { close, O, open, writeAll } from "./libc.ts";

/** sleep.ts's `sleepMs`, loaded by the removal's retries only: stage 2 loads this module, and never waits. */
async function sleepMs(ms: number): Promise<void> {
  await (await import("./sleep.ts")).sleepMs(ms);
}

/** The resource limits pod writes (absent = the kernel's default, i.e. unlimited). */
export interface CgroupLimits {
  /** Bytes (`--memory`). */
  memory?: number;
  /** Memory plus swap in bytes (`--memory-swap`); -1 = unlimited swap. */
  memorySwap?: number;
  /** Soft limit in bytes (`--memory-reservation`). */
  memoryReservation?: number;
  /** 0–100 (v1 only). */
  memorySwappiness?: number;
  /** Relative weight, 2–262144 (`--cpu-shares`). */
  cpuShares?: number;
  /** CFS quota in µs per period (`--cpus`, `--cpu-quota`). */
  cpuQuota?: number;
  /** CFS period in µs (default 100000). */
  cpuPeriod?: number;
  /** `--cpuset-cpus`. */
  cpusetCpus?: string;
  /** `--cpuset-mems`. */
  cpusetMems?: string;
  /** Tasks (`--pids-limit`); 0 or -1 = unlimited. */
  pidsLimit?: number;
  /** 10–1000 (`--blkio-weight`). */
  blkioWeight?: number;
}

/** A container's cgroup: the directory in each hierarchy and the limits written there. */
export interface CgroupSpec {
  version: 1 | 2;
  /** v1: controller → directory (`/sys/fs/cgroup/memory/libpod_parent/libpod-<id>`); v2: `unified` → directory. */
  dirs: Record<string, string>;
  limits: CgroupLimits;
  /** Remove the parent too once it is empty (pod's default parent, which it makes when missing). */
  removeParent?: boolean;
  /**
   * runtime3 (issue 13): v1 `devices` rules (`c 1:3 rwm`): all denied, these allowed (in `dirs.devices`).
   */
  deviceRules?: string[];
}

/** Where the cgroup hierarchies are mounted. */
export type CgroupLayout =
  | { version: 2; root: string; controllers: string[] }
  | { version: 1; mounts: Record<string, string> };

/** The v1 controllers a container's cgroup is made in (podman's runc joins these too). */
export const V1_CONTROLLERS = ["memory", "cpu", "cpuacct", "cpuset", "pids", "blkio"];

/** Controllers pod enables for a v2 container cgroup. */
const V2_CONTROLLERS = ["cpu", "cpuset", "io", "memory", "pids"];

let cachedLayout: CgroupLayout | null | undefined;

/**
 * The host's cgroup layout from /proc/self/mountinfo: v2 when /sys/fs/cgroup itself is cgroup2, else the v1
 * controllers' mount points (a hybrid host's cgroup2 mount at /sys/fs/cgroup/unified has no controllers of
 * its own and is not used). Null without cgroups.
 */
export function cgroupLayout(): CgroupLayout | null {
  if (cachedLayout !== undefined) return cachedLayout;
  let info = "";
  try {
    info = Deno.readTextFileSync("/proc/self/mountinfo");
  } catch { /* no /proc */ }
  const mounts: Record<string, string> = {};
  let v2: string | undefined;
  for (const line of info.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right) continue;
    const point = unescapeMount(left.split(" ")[4]);
    const [fstype, , opts = ""] = right.split(" ");
    if (fstype === "cgroup2" && point === "/sys/fs/cgroup") v2 = point;
    if (fstype !== "cgroup") continue;
    for (const o of opts.split(",")) {
      if ((V1_CONTROLLERS.includes(o) || o === "devices") && !mounts[o]) mounts[o] = point;
    }
  }
  if (v2) {
    let controllers: string[] = [];
    try {
      controllers = Deno.readTextFileSync(`${v2}/cgroup.controllers`).trim().split(/\s+/).filter((c) => c);
    } catch { /* none */ }
    cachedLayout = { version: 2, root: v2, controllers };
  } else cachedLayout = Object.keys(mounts).length ? { version: 1, mounts } : null;
  return cachedLayout;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup v2 path of this process (`0::/…` in /proc/self/cgroup), or undefined. */
export function ownCgroupV2(): string | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/self/cgroup").split("\n").find((l) => l.startsWith("0::"));
    return line?.slice(3) || undefined;
  } catch {
    return undefined;
  }
}

/** The directories of the cgroup at `path` (relative to each hierarchy's root, e.g. `/libpod_parent/libpod-<id>`). */
export function cgroupDirs(layout: CgroupLayout, path: string, devices = false): Record<string, string> {
  const rel = path.replace(/^\/+/, "");
  if (layout.version === 2) return { unified: `${layout.root}/${rel}` };
  // the devices hierarchy only for a container with device rules (runtime3)
  return Object.fromEntries(
    Object.entries(layout.mounts).filter(([c]) => devices || c !== "devices").map((
      [c, m],
    ) => [c, `${m}/${rel}`]),
  );
}

function readFile(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `value` to a cgroup file; a failure names the file and the value. */
function writeFile(path: string, value: string): void {
  try {
    Deno.writeTextFileSync(path, value);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/ \(os error \d+\).*$/, "").replace(/:.*$/, "") : e;
    throw new Error(`cannot write "${value}" to ${path}: ${why}`);
  }
}

/**
 * mkdir -p of a cgroup dir (the leaf first: its parent usually exists); a v1 cpuset dir gets its parent's cpus
 * and mems (and the parent `cgroup.clone_children`, so the kernel copies them for the next ones), a v2 parent
 * hands down the controllers.
 */
function makeDir(dir: string, controller: string, version: 1 | 2, depth = 0): void {
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  if (version === 2) enableControllers(parent);
  try {
    Deno.mkdirSync(dir);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return;
    if (!(e instanceof Deno.errors.NotFound) || depth > 32 || parent.lastIndexOf("/") <= 0) {
      throw new Error(`cannot create the cgroup ${dir}: ${e instanceof Error ? e.message : e}`);
    }
    makeDir(parent, controller, version, depth + 1);
    return makeDir(dir, controller, version, depth + 1);
  }
  if (version === 1 && controller === "cpuset" && !readFile(`${dir}/cpuset.cpus`)) {
    for (const f of ["cpuset.cpus", "cpuset.mems"]) {
      writeFile(`${dir}/${f}`, readFile(`${parent}/${f}`) ?? "");
    }
    try {
      Deno.writeTextFileSync(`${parent}/cgroup.clone_children`, "1");
    } catch { /* the next ones copy them too */ }
  }
}

/** v2: makes the controllers pod uses available to the children of `dir` (those `dir` has). */
function enableControllers(dir: string): void {
  const have = (readFile(`${dir}/cgroup.controllers`) ?? "").split(/\s+/);
  const on = (readFile(`${dir}/cgroup.subtree_control`) ?? "").split(/\s+/);
  const want = V2_CONTROLLERS.filter((c) => have.includes(c) && !on.includes(c));
  if (want.length) {
    try {
      Deno.writeTextFileSync(`${dir}/cgroup.subtree_control`, want.map((c) => `+${c}`).join(" "));
    } catch { /* a controller the parent cannot hand down: its limits fail when written */ }
  }
}

/** Makes the cgroup (idempotent) and writes its limits. Throws an Error naming the file that failed. */
export function createCgroup(spec: CgroupSpec): void {
  for (const [c, dir] of Object.entries(spec.dirs)) makeDir(dir, c, spec.version);
  applyCgroupLimits(spec, spec.limits);
  if (spec.deviceRules && spec.dirs.devices) {
    writeFile(`${spec.dirs.devices}/devices.deny`, "a");
    for (const r of spec.deviceRules) writeFile(`${spec.dirs.devices}/devices.allow`, r);
  }
}

/** v1 memory: limit and memory+swap in the order the kernel accepts (memsw ≥ limit at every step). */
function writeMemoryV1(dir: string, limit: number | undefined, swap: number | undefined): void {
  if (limit === undefined && swap === undefined) return;
  const memsw = `${dir}/memory.memsw.limit_in_bytes`;
  const hasSwap = readFile(memsw) !== undefined;
  const l = limit === undefined ? undefined : limit <= 0 ? "-1" : String(limit);
  const s = !hasSwap || swap === undefined ? undefined : swap < 0 ? "-1" : String(swap);
  const current = Number(readFile(memsw) ?? "0");
  const raising = l !== undefined && (l === "-1" || Number(l) > current);
  if (s !== undefined && raising) writeFile(memsw, s);
  if (l !== undefined) writeFile(`${dir}/memory.limit_in_bytes`, l);
  if (s !== undefined && !raising) writeFile(memsw, s);
}

/** Writes `limits` into the cgroup's files (creation, and `update` of a running container). */
export function applyCgroupLimits(spec: CgroupSpec, limits: CgroupLimits): void {
  const L = limits;
  if (spec.version === 2) {
    const d = spec.dirs.unified;
    if (L.memory !== undefined) writeFile(`${d}/memory.max`, L.memory > 0 ? String(L.memory) : "max");
    if (L.memorySwap !== undefined && readFile(`${d}/memory.swap.max`) !== undefined) {
      const swap = L.memorySwap < 0 || !L.memory ? "max" : String(Math.max(0, L.memorySwap - L.memory));
      writeFile(`${d}/memory.swap.max`, swap);
    }
    if (L.memoryReservation !== undefined) writeFile(`${d}/memory.low`, String(L.memoryReservation));
    if (L.cpuShares !== undefined) {
      writeFile(`${d}/cpu.weight`, String(Math.floor(1 + ((L.cpuShares - 2) * 9999) / 262142)));
    }
    if (L.cpuQuota !== undefined || L.cpuPeriod !== undefined) {
      const q = L.cpuQuota !== undefined && L.cpuQuota > 0 ? String(L.cpuQuota) : "max";
      writeFile(`${d}/cpu.max`, `${q} ${L.cpuPeriod ?? 100000}`);
    }
    if (L.cpusetCpus) writeFile(`${d}/cpuset.cpus`, L.cpusetCpus);
    if (L.cpusetMems) writeFile(`${d}/cpuset.mems`, L.cpusetMems);
    if (L.pidsLimit !== undefined) writeFile(`${d}/pids.max`, L.pidsLimit > 0 ? String(L.pidsLimit) : "max");
    if (L.blkioWeight !== undefined) {
      if (readFile(`${d}/io.bfq.weight`) !== undefined) {
        writeFile(`${d}/io.bfq.weight`, String(L.blkioWeight));
      } else writeFile(`${d}/io.weight`, `default ${Math.floor(1 + ((L.blkioWeight - 10) * 9999) / 990)}`);
    }
    return;
  }
  const D = spec.dirs;
  if (D.memory) {
    writeMemoryV1(D.memory, L.memory, L.memorySwap);
    if (L.memoryReservation !== undefined) {
      writeFile(`${D.memory}/memory.soft_limit_in_bytes`, String(L.memoryReservation));
    }
    if (L.memorySwappiness !== undefined && L.memorySwappiness >= 0) {
      writeFile(`${D.memory}/memory.swappiness`, String(L.memorySwappiness));
    }
  }
  if (D.cpu) {
    if (L.cpuShares !== undefined) writeFile(`${D.cpu}/cpu.shares`, String(L.cpuShares));
    if (L.cpuPeriod !== undefined) writeFile(`${D.cpu}/cpu.cfs_period_us`, String(L.cpuPeriod));
    if (L.cpuQuota !== undefined) {
      writeFile(`${D.cpu}/cpu.cfs_quota_us`, L.cpuQuota > 0 ? String(L.cpuQuota) : "-1");
    }
  }
  if (D.cpuset) {
    if (L.cpusetCpus) writeFile(`${D.cpuset}/cpuset.cpus`, L.cpusetCpus);
    if (L.cpusetMems) writeFile(`${D.cpuset}/cpuset.mems`, L.cpusetMems);
  }
  if (D.pids && L.pidsLimit !== undefined) {
    writeFile(`${D.pids}/pids.max`, L.pidsLimit > 0 ? String(L.pidsLimit) : "max");
  }
  if (D.blkio && L.blkioWeight !== undefined) {
    const f = readFile(`${D.blkio}/blkio.weight`) !== undefined ? "blkio.weight" : "blkio.bfq.weight";
    writeFile(`${D.blkio}/${f}`, String(L.blkioWeight));
  }
}

/**
 * Opens the cgroup.procs file of each of the cgroup's directories for writing (close-on-exec): done before
 * pivot_root, while the host's cgroupfs is still in reach; {@link enterCgroup} writes them later.
 */
export function openCgroupProcs(spec: CgroupSpec): number[] {
  const fds: number[] = [];
  try {
    for (const d of Object.values(spec.dirs)) fds.push(open(`${d}/cgroup.procs`, O.WRONLY | O.CLOEXEC));
  } catch (e) {
    for (const fd of fds) close(fd);
    throw e;
  }
  return fds;
}

/**
 * Moves the calling process (all its threads) into the cgroup: `0` written to each cgroup.procs opened by
 * {@link openCgroupProcs}. Late, right before `execve`: the memory already charged elsewhere stays there.
 */
export function enterCgroup(fds: number[]): void {
  const zero = new TextEncoder().encode("0");
  for (const fd of fds) writeAll(fd, zero);
}

/** The pids in the cgroup (from its first directory; every hierarchy holds the same processes). */
export function cgroupPids(spec: CgroupSpec): number[] {
  const d = spec.dirs.pids ?? spec.dirs.memory ?? Object.values(spec.dirs)[0];
  const text = readFile(`${d}/cgroup.procs`) ?? "";
  return text.split("\n").filter((l) => l).map(Number);
}

/** Whether the cgroup still exists (in any hierarchy). */
export function cgroupExists(spec: CgroupSpec): boolean {
  return Object.values(spec.dirs).some((d) => exists(`${d}/cgroup.procs`));
}

/** How many processes the memory limit killed (v1 `memory.oom_control`, v2 `memory.events`: `oom_kill N`). */
export function oomKills(spec: CgroupSpec): number {
  const d = spec.version === 2 ? spec.dirs.unified : spec.dirs.memory;
  if (!d) return 0;
  const text = readFile(`${d}/${spec.version === 2 ? "memory.events" : "memory.oom_control"}`) ?? "";
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * Removes the cgroup's directories once its processes are gone (`rmdir` fails with EBUSY while a dying
 * process is still being reaped: retried for up to `waitMs`). Returns the directories that are left.
 */
export async function removeCgroup(spec: CgroupSpec, waitMs = 2000): Promise<string[]> {
  const end = Date.now() + waitMs;
  let left = Object.values(spec.dirs);
  for (let delay = 1;; delay = Math.min(delay * 2, 50)) {
    left = left.filter((d) => {
      try {
        Deno.removeSync(d);
        return false;
      } catch (e) {
        return !(e instanceof Deno.errors.NotFound);
      }
    });
    if (!left.length || Date.now() >= end) return left;
    await sleepMs(delay);
  }
}

/** Usage counters of a cgroup (what `stats` shows); absent = not known on this host. */
export interface CgroupUsage {
  /** Total CPU time in nanoseconds. */
  cpuNs?: number;
  /** Memory in use, bytes (v1: usage minus inactive file pages, as podman shows it). */
  memory?: number;
  /** The memory limit, bytes (the host's memory when unlimited). */
  memoryLimit?: number;
  /** Tasks in the cgroup. */
  pids?: number;
  /** Bytes read from and written to block devices. */
  blockRead?: number;
  blockWrite?: number;
}

function statField(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === "" || s === "max") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Reads the usage counters of a cgroup. */
export function cgroupUsage(spec: CgroupSpec): CgroupUsage {
  const u: CgroupUsage = {};
  if (spec.version === 2) {
    const d = spec.dirs.unified;
    const cpu = readFile(`${d}/cpu.stat`) ?? "";
    const usec = statField(cpu, "usage_usec");
    if (usec !== undefined) u.cpuNs = usec * 1000;
    const cur = num(readFile(`${d}/memory.current`));
    const inactive = statField(readFile(`${d}/memory.stat`) ?? "", "inactive_file") ?? 0;
    if (cur !== undefined) u.memory = Math.max(0, cur - inactive);
    u.memoryLimit = num(readFile(`${d}/memory.max`));
    u.pids = num(readFile(`${d}/pids.current`));
    for (const line of (readFile(`${d}/io.stat`) ?? "").split("\n")) {
      const r = /rbytes=(\d+)/.exec(line), w = /wbytes=(\d+)/.exec(line);
      if (r) u.blockRead = (u.blockRead ?? 0) + Number(r[1]);
      if (w) u.blockWrite = (u.blockWrite ?? 0) + Number(w[1]);
    }
    return u;
  }
  const D = spec.dirs;
  if (D.cpuacct) u.cpuNs = num(readFile(`${D.cpuacct}/cpuacct.usage`));
  if (D.memory) {
    const cur = num(readFile(`${D.memory}/memory.usage_in_bytes`));
    const st = readFile(`${D.memory}/memory.stat`) ?? "";
    const inactive = statField(st, "total_inactive_file") ?? statField(st, "inactive_file") ?? 0;
    if (cur !== undefined) u.memory = Math.max(0, cur - inactive);
    const lim = num(readFile(`${D.memory}/memory.limit_in_bytes`));
    if (lim !== undefined && lim < 2 ** 62) u.memoryLimit = lim;
  }
  if (D.pids) u.pids = num(readFile(`${D.pids}/pids.current`));
  if (D.blkio) {
    for (const f of ["blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"]) {
      const text = readFile(`${D.blkio}/${f}`);
      if (!text) continue;
      for (const line of text.split("\n")) {
        const m = /^\d+:\d+ (Read|Write) (\d+)$/.exec(line);
        if (m && m[1] === "Read") u.blockRead = (u.blockRead ?? 0) + Number(m[2]);
        if (m && m[1] === "Write") u.blockWrite = (u.blockWrite ?? 0) + Number(m[2]);
      }
      break;
    }
  }
  return u;
}

/**
 * After the container's init is gone: whether the memory limit killed one of its processes, then the cgroup
 * removed (processes still in it, left by an init that shared the host's pid namespace, are killed first).
 * Returns `oomKilled` and the directories that could not be removed.
 */
export async function releaseCgroup(spec: CgroupSpec): Promise<{ oomKilled: boolean; left: string[] }> {
  if (!cgroupExists(spec)) return { oomKilled: false, left: [] };
  const oomKilled = oomKills(spec) > 0;
  for (let i = 0; i < 50; i++) {
    const pids = cgroupPids(spec);
    if (!pids.length) break;
    for (const p of pids) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
    await sleepMs(10);
  }
  const left = await removeCgroup(spec);
  if (!left.length && spec.removeParent) {
    for (const d of Object.values(spec.dirs)) {
      try {
        Deno.removeSync(d.slice(0, d.lastIndexOf("/"))); // fails while other containers (or podman's) use it
      } catch { /* in use */ }
    }
  }
  return { oomKilled, left };
}
