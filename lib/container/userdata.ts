/**
 * The generated files a container sees at /etc/hosts, /etc/hostname, /etc/resolv.conf and
 * /run/.containerenv (written into `containers/<id>/userdata/` before every start).
 * @module
 */

import type { ContainerConfig } from "../store/containers.ts";

function readHost(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** /etc/hosts: the host's file with host networking, else localhost entries; plus the container's name. */
export function hostsFile(c: ContainerConfig): string {
  const lines: string[] = [];
  if (c.namespaces.net === "host") {
    const host = readHost("/etc/hosts");
    if (host) lines.push(host.replace(/\n?$/, ""));
  } else {
    lines.push("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4");
    lines.push("::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6");
  }
  const names = [c.hostname, c.name].filter((n, i, a) => n && a.indexOf(n) === i);
  lines.push(`127.0.1.1\t${names.join(" ")}`);
  return lines.join("\n") + "\n";
}

/** /etc/resolv.conf: the host's, without loopback name servers when the container has its own network. */
export function resolvConfFile(c: ContainerConfig): string {
  const host = readHost("/etc/resolv.conf");
  if (c.namespaces.net === "host") return host;
  const kept = host.split("\n").filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(l));
  return kept.join("\n").replace(/\n*$/, "\n");
}

/** /run/.containerenv like podman's. */
export function containerEnvFile(c: ContainerConfig, rootless: boolean): string {
  return [
    `engine="pod-0.1.0"`,
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
  Deno.writeTextFileSync(files.hosts, hostsFile(c), { mode: 0o644 });
  Deno.writeTextFileSync(files.hostname, c.hostname + "\n", { mode: 0o644 });
  Deno.writeTextFileSync(files.resolvConf, resolvConfFile(c), { mode: 0o644 });
  Deno.writeTextFileSync(files.containerEnv, containerEnvFile(c, rootless), { mode: 0o644 });
  return files;
}
