/**
 * podman's views of pods: `pod inspect` JSON, `pod ps` rows (template fields), table and JSON.
 * @module
 */

import type { ContainerRecord } from "../../store/containers.ts";
import type { PodRecord } from "../../store/pods.ts";
import { timeAgo } from "../../format/time.ts";

/** A pod with its containers (infra first) and its status. */
export interface PodView {
  pod: PodRecord;
  containers: ContainerRecord[];
  status: string;
}

/** `-p` values as podman's InfraConfig.PortBindings (`80/tcp` → [{HostIp, HostPort}]). */
export function portBindings(ports: string[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const [spec, proto = "tcp"] = p.split("/");
    const parts = spec.split(":");
    const ctr = parts.pop()!;
    const hostPort = parts.pop() ?? "";
    const hostIp = parts.join(":").replace(/^\[|\]$/g, "");
    (out[`${ctr}/${proto}`] ??= []).push({ HostIp: hostIp, HostPort: hostPort });
  }
  return out;
}

/** podman's `pod inspect` object. */
export function podInspect(v: PodView): Record<string, unknown> {
  const p = v.pod;
  const infra = v.containers.find((c) => c.config.isInfra);
  return {
    Id: p.id,
    Name: p.name,
    Created: p.created,
    CreateCommand: p.createCommand,
    ExitPolicy: p.exitPolicy,
    State: v.status,
    Hostname: p.hostname,
    Labels: p.labels,
    CreateCgroup: false,
    CreateInfra: !!p.infraId,
    ...(p.infraId
      ? {
        InfraContainerID: p.infraId,
        InfraConfig: {
          PortBindings: portBindings(p.ports),
          HostNetwork: infra?.config.namespaces.net === "host",
          StaticIP: "",
          StaticMAC: "",
          NoManageResolvConf: false,
          DNSServer: null,
          DNSSearch: null,
          DNSOption: null,
          NoManageHosts: false,
          HostAdd: null,
          Networks: null,
          NetworkOptions: null,
          pid_ns: p.share.includes("pid") ? "container" : "private",
          userns: infra?.config.userns.mode ?? "host",
          uts_ns: "private",
        },
      }
      : {}),
    SharedNamespaces: p.share,
    NumContainers: v.containers.length,
    Containers: v.containers.map((c) => ({ Id: c.config.id, Name: c.config.name, State: c.state.status })),
  };
}

/** The fields of a `pod ps` row, as podman's templates name them. */
export function podRow(v: PodView, noTrunc: boolean, now = Date.now()): Record<string, unknown> {
  const id = (s: string) => (noTrunc ? s : s.slice(0, 12));
  return {
    ID: id(v.pod.id),
    Id: id(v.pod.id),
    Name: v.pod.name,
    Status: v.status,
    Created: timeAgo(v.pod.created, now),
    InfraID: v.pod.infraId ? id(v.pod.infraId) : "",
    NumberOfContainers: v.containers.length,
    ContainerIds: v.containers.map((c) => id(c.config.id)).join(","),
    ContainerNames: v.containers.map((c) => c.config.name).join(","),
    ContainerStatuses: v.containers.map((c) => c.state.status).join(","),
    Labels: v.pod.labels,
    Networks: "",
    Cgroup: "",
  };
}

/** podman's `pod ps --format json` object. */
export function podJson(v: PodView): Record<string, unknown> {
  return {
    Cgroup: "",
    Containers: v.containers.map((c) => ({ Id: c.config.id, Names: c.config.name, Status: c.state.status })),
    Created: v.pod.created,
    Id: v.pod.id,
    InfraId: v.pod.infraId ?? "",
    Name: v.pod.name,
    Namespace: "",
    Networks: [],
    Status: v.status,
    Labels: v.pod.labels,
  };
}

/** podman's `pod ps` column headers by template field. */
export const POD_HEADERS: Readonly<Record<string, string>> = {
  ID: "POD ID",
  Id: "POD ID",
  Name: "NAME",
  Status: "STATUS",
  Created: "CREATED",
  InfraID: "INFRA ID",
  NumberOfContainers: "# OF CONTAINERS",
  ContainerIds: "IDS",
  ContainerNames: "NAMES",
  ContainerStatuses: "STATUS",
  Labels: "LABELS",
  Networks: "NETWORKS",
  Cgroup: "CGROUP",
};
