/**
 * The generated files a container sees at /etc/hosts, /etc/hostname, /etc/resolv.conf and
 * /run/.containerenv (written into `containers/<id>/userdata/` before every start).
 * @module
 */

import type { ContainerConfig } from "../store/containers.ts";
import { VERSION } from "../version.ts";

function readHost(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/**
 * What the container's network tells its /etc files (net scope, issue 12; lib/network/setup.ts NetFacts):
 * its address, name servers, search domains and the address of `host.containers.internal`.
 */
export interface EtcNetFacts {
  /** The container's address. */
  ip?: string;
  /** Name servers (empty: the host's). */
  nameservers: string[];
  /** Search domains to add. */
  search: string[];
  /** `host.containers.internal`. */
  hostGateway?: string;
}

/**
 * /etc/hosts: `--add-host` entries, the host's file with host networking (else localhost entries), the
 * container's address (or 127.0.1.1) with its hostname and name, and `host.containers.internal`.
 */
export function hostsFile(c: ContainerConfig, net?: EtcNetFacts): string {
  const lines: string[] = [];
  for (const h of c.net?.addHosts ?? []) {
    const i = h.indexOf(":");
    const ip = h.slice(i + 1).replace(/^\[|\]$/g, "");
    lines.push(`${ip === "host-gateway" ? net?.hostGateway ?? "127.0.0.1" : ip}\t${h.slice(0, i)}`);
  }
  if (c.namespaces.net === "host") {
    const host = readHost("/etc/hosts");
    if (host) lines.push(host.replace(/\n?$/, ""));
  } else {
    lines.push("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4");
    lines.push("::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6");
  }
  const names = [c.hostname, c.name].filter((n, i, a) => n && a.indexOf(n) === i);
  lines.push(`${net?.ip ?? "127.0.1.1"}\t${names.join(" ")}`);
  if (net?.hostGateway) lines.push(`${net.hostGateway}\thost.containers.internal`);
  return lines.join("\n") + "\n";
}

/**
 * /etc/resolv.conf: the host's (without loopback name servers when the container has its own network), the
 * network's name servers first (slirp4netns's forwarder, aardvark-dns), or `--dns`/`--dns-search`/`--dns-option`
 * in place of the host's lines.
 */
export function resolvConfFile(c: ContainerConfig, net?: EtcNetFacts): string {
  const host = readHost("/etc/resolv.conf");
  const n = c.net;
  if (c.namespaces.net === "host" && !n?.dns && !n?.dnsSearch && !n?.dnsOptions) return host;
  const lines = host.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  let servers = lines.filter((l) => /^nameserver\s/.test(l)).map((l) => l.split(/\s+/)[1]);
  if (c.namespaces.net !== "host") servers = servers.filter((s) => !/^(127\.|::1$)/.test(s));
  let search = lines.filter((l) => /^(search|domain)\s/.test(l)).flatMap((l) => l.split(/\s+/).slice(1));
  let options = lines.filter((l) => /^options\s/.test(l)).flatMap((l) => l.split(/\s+/).slice(1));
  if (net?.nameservers.length) {
    servers = [
      ...net.nameservers,
      ...servers.filter((s) => !net.nameservers.includes(s)),
    ];
  }
  // aardvark-dns answers for the network's names and forwards the rest: it is the only server, as with podman
  if (net?.search.includes("dns.podman")) servers = net.nameservers;
  if (net?.search.length) search = [...net.search, ...search];
  if (n?.dns) servers = n.dns.filter((d) => d !== "none");
  if (n?.dnsSearch) search = n.dnsSearch.filter((d) => d !== ".");
  if (n?.dnsOptions) options = n.dnsOptions;
  const out: string[] = [];
  if (search.length) out.push(`search ${search.join(" ")}`);
  for (const s of servers) out.push(`nameserver ${s}`);
  if (options.length) out.push(`options ${options.join(" ")}`);
  return out.join("\n") + "\n";
}

/** Rewrites /etc/hosts and /etc/resolv.conf of the container's userdata in place once its network is known. */
export function writeNetUserdata(dir: string, c: ContainerConfig, net: EtcNetFacts): void {
  const ud = `${dir}/userdata`;
  Deno.writeTextFileSync(`${ud}/hosts`, hostsFile(c, net), { mode: 0o644 });
  Deno.writeTextFileSync(`${ud}/resolv.conf`, resolvConfFile(c, net), { mode: 0o644 });
}

/**
 * A container in another one's network namespace (`--network container:ID`, a pod's members) sees that
 * container's /etc/hosts and /etc/resolv.conf, as with podman: the same files, with its own name added to the
 * hosts file (at the address of the line naming its hostname). Undefined when it has a network of its own, or
 * the other container has not written its files yet.
 */
function sharedNetFiles(dir: string, c: ContainerConfig): { hosts: string; resolvConf: string } | undefined {
  const mode = String(c.namespaces.net);
  if (!mode.startsWith("container:")) return undefined;
  const other = `${dir.replace(/\/[^/]+\/?$/, "")}/${mode.slice("container:".length)}/userdata`;
  const files = { hosts: `${other}/hosts`, resolvConf: `${other}/resolv.conf` };
  let hosts: string;
  try {
    hosts = Deno.readTextFileSync(files.hosts);
    Deno.statSync(files.resolvConf);
  } catch {
    return undefined;
  }
  const lines = hosts.split("\n").filter((l) => l.trim());
  const names = (l: string) => l.trim().split(/\s+/).slice(1);
  if (!lines.some((l) => names(l).includes(c.name))) {
    const mine = lines.find((l) => names(l).includes(c.hostname));
    const ip = mine?.trim().split(/\s+/)[0] ?? "127.0.1.1";
    Deno.writeTextFileSync(files.hosts, `${ip}\t${c.name}\n`, { append: true });
  }
  return files;
}

/** /run/.containerenv like podman's. */
export function containerEnvFile(c: ContainerConfig, rootless: boolean): string {
  return [
    `engine="pod-${VERSION}"`,
    `name="${c.name}"`,
    `id="${c.id}"`,
    `image="${c.image.ref ?? c.image.name}"`,
    `imageid="${c.image.id}"`,
    `rootless=${rootless ? 1 : 0}`,
    "",
  ].join("\n");
}

/** Writes the userdata files; returns their host paths for the launch spec. */
export function writeUserdata(
  dir: string,
  c: ContainerConfig,
  rootless: boolean,
): { hosts: string; hostname: string; resolvConf: string; containerEnv: string } {
  const ud = `${dir}/userdata`;
  Deno.mkdirSync(ud, { recursive: true, mode: 0o755 });
  const files = {
    hosts: `${ud}/hosts`,
    hostname: `${ud}/hostname`,
    resolvConf: `${ud}/resolv.conf`,
    containerEnv: `${ud}/.containerenv`,
  };
  const shared = sharedNetFiles(dir, c);
  if (shared) {
    files.hosts = shared.hosts;
    files.resolvConf = shared.resolvConf;
  } else {
    Deno.writeTextFileSync(files.hosts, hostsFile(c), { mode: 0o644 });
    Deno.writeTextFileSync(files.resolvConf, resolvConfFile(c), { mode: 0o644 });
  }
  Deno.writeTextFileSync(files.hostname, c.hostname + "\n", { mode: 0o644 });
  Deno.writeTextFileSync(files.containerEnv, containerEnvFile(c, rootless), { mode: 0o644 });
  return files;
}
