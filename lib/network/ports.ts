/**
 * Published ports: `-p/--publish [ip:][hostPort:]containerPort[/tcp|udp|sctp]` (ranges `8000-8002:80-82`,
 * several protocols `80/tcp,udp`), `-P` (the image's EXPOSE to random free host ports), in netavark's
 * port-mapping shape, and their views (`port`, `ps`'s PORTS, inspect's `Ports`/`PortBindings`).
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import type { PortMapping } from "../store/container_net.ts";

export type { PortMapping };

const PROTOCOLS = ["tcp", "udp", "sctp"];

function portRange(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const first = m ? Number(m[1]) : NaN;
  const last = m?.[2] ? Number(m[2]) : first;
  if (!m || first < 1 || last > 65535 || last < first) {
    throw new UsageError(
      `invalid ${what} port "${s}" in "${spec}": must be a port number or range (1-65535)`,
    );
  }
  return [first, last - first + 1];
}

/** Parses one `-p` value; `hostPort` 0 = a random free port (see {@link assignHostPorts}). */
export function parsePublish(spec: string): PortMapping[] {
  let rest = spec;
  let protos = ["tcp"];
  const slash = rest.lastIndexOf("/");
  if (slash >= 0 && !rest.slice(slash).includes("]")) {
    protos = rest.slice(slash + 1).split(",").map((p) => p.toLowerCase());
    rest = rest.slice(0, slash);
    for (const p of protos) {
      if (!PROTOCOLS.includes(p)) {
        throw new UsageError(`invalid protocol "${p}" in "${spec}": use tcp, udp or sctp`);
      }
    }
  }
  let hostIp = "";
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0 || rest[end + 1] !== ":") throw new UsageError(`invalid IPv6 address in "${spec}"`);
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(":");
  if (parts.length > 3 || (hostIp && parts.length > 2)) throw new UsageError(`invalid port format "${spec}"`);
  let hostPart = "";
  if (parts.length === 3) [hostIp, hostPart] = parts;
  else if (parts.length === 2) hostPart = parts[0];
  const ctrPart = parts[parts.length - 1];
  if (hostIp && !isIP(hostIp)) throw new UsageError(`invalid IP address "${hostIp}" in "${spec}"`);
  const [ctr, ctrN] = portRange(ctrPart, "container", spec);
  let host = 0;
  if (hostPart) {
    const [h, hN] = portRange(hostPart, "host", spec);
    if (hN !== ctrN && hN !== 1) {
      throw new UsageError(`host and container port ranges in "${spec}" differ in size`);
    }
    if (hN === 1 && ctrN > 1) {
      throw new UsageError(`a single host port cannot take the container port range in "${spec}"`);
    }
    host = h;
  }
  return protos.map((protocol) => ({
    host_ip: hostIp,
    container_port: ctr,
    host_port: host,
    range: ctrN,
    protocol,
  }));
}

/** True for a dotted IPv4 or an IPv6 address. */
export function isIP(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) {
    return s.split(".").every((o) => Number(o) < 256);
  }
  return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s);
}

/** The image's `ExposedPorts` (`"80/tcp": {}`) as mappings to random host ports (`-P`). */
export function exposedMappings(
  exposed: Record<string, unknown> | undefined,
  taken: PortMapping[],
): PortMapping[] {
  const out: PortMapping[] = [];
  for (const key of Object.keys(exposed ?? {})) {
    const [port, proto = "tcp"] = key.split("/");
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) continue;
    const covered = [...taken, ...out].some((m) =>
      m.protocol === proto && n >= m.container_port && n < m.container_port + m.range
    );
    if (!covered) out.push({ host_ip: "", container_port: n, host_port: 0, range: 1, protocol: proto });
  }
  return out;
}

/** A free host port for `proto` on `ip` (the kernel's choice), avoiding `avoid`. */
export function freePort(proto: string, ip: string, avoid: Set<number>): number {
  for (let i = 0; i < 20; i++) {
    let port: number;
    const hostname = ip || "0.0.0.0";
    if (proto === "udp") {
      const l = Deno.listenDatagram({ port: 0, hostname, transport: "udp" });
      port = (l.addr as Deno.NetAddr).port;
      l.close();
    } else {
      const l = Deno.listen({ port: 0, hostname });
      port = (l.addr as Deno.NetAddr).port;
      l.close();
    }
    if (!avoid.has(port)) return port;
  }
  throw new PodError("no free host port found");
}

/** Gives every mapping without a host port (`-p 80`, `-P`) a random free one. */
export function assignHostPorts(maps: PortMapping[]): PortMapping[] {
  const used = new Set(maps.flatMap((m) => m.host_port ? [m.host_port] : []));
  return maps.map((m) => {
    if (m.host_port) return m;
    if (m.range === 1) {
      const p = freePort(m.protocol, m.host_ip, used);
      used.add(p);
      return { ...m, host_port: p };
    }
    // a range: the first run of free ports from a random start
    for (let tries = 0; tries < 50; tries++) {
      const start = 20000 + Math.floor(Math.random() * 30000);
      const ports = Array.from({ length: m.range }, (_, i) => start + i);
      if (ports.every((p) => !used.has(p) && portFree(m.protocol, m.host_ip, p))) {
        for (const p of ports) used.add(p);
        return { ...m, host_port: start };
      }
    }
    throw new PodError(`no free host port range of ${m.range} ports found`);
  });
}

/** True when `port` can be bound on the host now. */
export function portFree(proto: string, ip: string, port: number): boolean {
  try {
    const hostname = ip || "0.0.0.0";
    if (proto === "udp") Deno.listenDatagram({ port, hostname, transport: "udp" }).close();
    else Deno.listen({ port, hostname }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses mappings that cannot work now: a host port in use (one line naming it), and rootless, ports below
 * `net.ipv4.ip_unprivileged_port_start` (podman's message).
 */
export function checkHostPorts(maps: PortMapping[], rootless: boolean): void {
  let unprivStart = 1024;
  if (rootless) {
    try {
      unprivStart = Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start").trim());
    } catch { /* default */ }
  }
  for (const m of maps) {
    for (let i = 0; i < m.range; i++) {
      const p = m.host_port + i;
      const addr = `${m.host_ip || "0.0.0.0"}:${p}`;
      if (rootless && p < unprivStart) {
        throw new PodError(
          `rootlessport cannot expose privileged port ${p}, you can add 'net.ipv4.ip_unprivileged_port_start=${p}' ` +
            `to /etc/sysctl.conf (currently ${unprivStart}), or choose a larger port number (>= ${unprivStart}): ` +
            `listen ${m.protocol} ${addr}: bind: permission denied`,
        );
      }
      if (m.protocol !== "sctp" && !portFree(m.protocol, m.host_ip, p)) {
        throw new PodError(
          `cannot listen on the ${m.protocol.toUpperCase()} port: listen ${m.protocol} ${addr}: bind: address already in use`,
        );
      }
    }
  }
}

/** Each single port of the mappings: `[hostIp, hostPort, containerPort, protocol]`. */
export function expandPorts(
  maps: PortMapping[],
): { hostIp: string; host: number; ctr: number; proto: string }[] {
  return maps.flatMap((m) =>
    Array.from({ length: m.range }, (_, i) => ({
      hostIp: m.host_ip,
      host: m.host_port + i,
      ctr: m.container_port + i,
      proto: m.protocol,
    }))
  );
}

/** ps's PORTS column: `0.0.0.0:8080->80/tcp, 127.0.0.1:8000-8002->80-82/udp`. */
export function portsColumn(maps: PortMapping[]): string {
  return maps.map((m) => {
    const ip = m.host_ip || "0.0.0.0";
    const r = (p: number) => m.range > 1 ? `${p}-${p + m.range - 1}` : `${p}`;
    return `${ip}:${r(m.host_port)}->${r(m.container_port)}/${m.protocol}`;
  }).join(", ");
}

/** inspect's `NetworkSettings.Ports` / `HostConfig.PortBindings`: `{"80/tcp": [{HostIp, HostPort}]}`. */
export function portBindings(maps: PortMapping[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of expandPorts(maps)) {
    (out[`${p.ctr}/${p.proto}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.host) });
  }
  return out;
}
