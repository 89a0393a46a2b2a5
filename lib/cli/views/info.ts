/**
 * `pod info`'s data in podman's shape: Go field names for `--format` templates (`{{.Host.Arch}}`,
 * `{{.Store.ImageStore.Number}}`), podman's JSON tags for the JSON output (`host.arch`, `store.imageStore.number`).
 * @module
 */

import { VERSION } from "../../version.ts";
import { goArch, versionInfo } from "./version_info.ts";
import { listImages } from "../../store/images.ts";
import { listContainers } from "../../store/containers.ts";
import { storePaths } from "../../store/paths.ts";

/** podman's JSON names where they are not the Go name with its first letter lowered. */
const JSON_NAMES: Record<string, string> = {
  OCIRuntime: "ociRuntime",
  IDMappings: "idMappings",
  GIDMap: "gidmap",
  UIDMap: "uidmap",
  SECCOMPEnabled: "seccompEnabled",
  SELinuxEnabled: "selinuxEnabled",
  AppArmorEnabled: "apparmorEnabled",
  SECCOMPProfilePath: "seccompProfilePath",
  CPUs: "cpus",
  OS: "os",
  ContainerID: "container_id",
  HostID: "host_id",
  Size: "size",
};

/** The Go-named info object as podman prints it in JSON (the `Version` part keeps its Go names, as podman). */
export function infoJson(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => infoJson(x));
  if (v === null || typeof v !== "object" || key === "Version" || key === "Registries") return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([k, x]) => [
      JSON_NAMES[k] ?? k[0].toLowerCase() + k.slice(1),
      infoJson(x, k),
    ]),
  );
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** `/etc/os-release` as key → value. */
function osRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of readText("/etc/os-release").split("\n")) {
    const i = l.indexOf("=");
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1).replace(/^"|"$/g, "");
  }
  return out;
}

/** The kernel can filter system calls (podman's `SECCOMPEnabled`). */
function seccompAvailable(): boolean {
  return /^Seccomp:/m.test(readText("/proc/self/status"));
}

/** The rootless id mappings (podman's `IDMappings`), or null for root. */
async function idMappings(): Promise<Record<string, unknown>> {
  if (Deno.uid() === 0) return { GIDMap: null, UIDMap: null };
  try {
    const { rootlessMaps } = await import("../../ns/idmap.ts");
    const m = rootlessMaps();
    const conv = (x: { containerId: number; hostId: number; size: number }[]) =>
      x.map((e) => ({ ContainerID: e.containerId, HostID: e.hostId, Size: e.size }));
    return { GIDMap: conv(m.gidMap), UIDMap: conv(m.uidMap) };
  } catch {
    return { GIDMap: null, UIDMap: null };
  }
}

/** Everything `info` reports, with podman's Go field names. */
export async function hostInfo(root: string): Promise<Record<string, unknown>> {
  const os = osRelease();
  const [images, containers, mappings] = await Promise.all([
    listImages(root).catch(() => []),
    listContainers(root).catch(() => []),
    idMappings(),
  ]);
  const count = (s: string[]) => containers.filter((c) => s.includes(c.state.status)).length;
  const mem = Deno.systemMemoryInfo();
  const driver = Deno.env.get("POD_STORAGE_DRIVER") || "overlay";
  return {
    Host: {
      Arch: goArch(),
      BuildahVersion: "",
      CgroupManager: "cgroupfs",
      CgroupVersion: (await Deno.stat("/sys/fs/cgroup/cgroup.controllers").then(() => true, () => false))
        ? "v2"
        : "v1",
      CPUs: navigator.hardwareConcurrency,
      Distribution: {
        Distribution: os.ID ?? "",
        Version: os.VERSION_ID ?? "",
        Codename: os.VERSION_CODENAME ?? "",
      },
      EventLogger: "none",
      Hostname: Deno.hostname(),
      IDMappings: mappings,
      Kernel: Deno.osRelease(),
      LogDriver: "k8s-file",
      MemFree: mem.available,
      MemTotal: mem.total,
      NetworkBackend: "none",
      OCIRuntime: {
        Name: "pod",
        Package: "",
        Path: Deno.execPath(),
        Version: `pod stage 2 ${VERSION} (deno ${Deno.version.deno})`,
      },
      OS: Deno.build.os,
      Security: {
        AppArmorEnabled: false,
        Rootless: Deno.uid() !== 0,
        SECCOMPEnabled: seccompAvailable(),
        SELinuxEnabled: false,
      },
      SwapFree: mem.swapFree,
      SwapTotal: mem.swapTotal,
      Uptime: `${Math.trunc(Number(readText("/proc/uptime").split(" ")[0]) || 0)}s`,
    },
    Store: {
      ConfigFile: "",
      ContainerStore: {
        Number: containers.length,
        Paused: count(["paused"]),
        Running: count(["running", "stopping"]),
        Stopped: count(["exited", "created"]),
      },
      GraphDriverName: driver,
      GraphRoot: root,
      ImageStore: { Number: images.length },
      RunRoot: storePaths(root).containers,
      VolumePath: storePaths(root).volumes,
    },
    Registries: { search: ["docker.io"] },
    Version: versionInfo(),
  };
}
