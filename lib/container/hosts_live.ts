/**
 * net2: a running container's /etc/hosts follows `network connect` / `disconnect`, as podman's: a connect adds
 * a line with the new address and the container's names, a disconnect removes the lines of the address it
 * had on that network; the network's name servers (aardvark-dns) are added to /etc/resolv.conf first, and
 * removed again. The files (`userdata/hosts`, `userdata/resolv.conf`, bind-mounted into the container) are
 * rewritten in place, so the container sees the change at once.
 * @module
 */

import type { ContainerConfig } from "../store/containers.ts";
import { containerPaths } from "../store/container_paths.ts";

function hostsPath(root: string, id: string, file = "hosts"): string {
  return `${containerPaths(root, id).dir}/userdata/${file}`;
}

/** Rewrites `path` in place (same inode: the bind mount in the container keeps showing it). */
function rewrite(path: string, edit: (lines: string[]) => string[]): void {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return; // no file of its own (another container's network, --no-hosts)
  }
  const lines = text.split("\n").filter((l, i, a) => l !== "" || i < a.length - 1);
  Deno.writeTextFileSync(path, edit(lines).join("\n") + "\n");
}

/** Adds `ip` with the container's hostname and name to its /etc/hosts (nothing when already there). */
export function addHostsEntry(
  root: string,
  c: Pick<ContainerConfig, "id" | "name" | "hostname">,
  ip: string,
) {
  const names = [c.hostname, c.name].filter((n, i, a) => n && a.indexOf(n) === i).join(" ");
  rewrite(
    hostsPath(root, c.id),
    (lines) => lines.some((l) => l.split(/\s+/)[0] === ip) ? lines : [...lines, `${ip}\t${names}`],
  );
}

/** Removes the lines of `ip` from the container's /etc/hosts. */
export function removeHostsEntry(root: string, id: string, ip: string): void {
  rewrite(hostsPath(root, id), (lines) => lines.filter((l) => l.split(/\s+/)[0] !== ip));
}

const isNs = (l: string, ip: string) => l.trim().split(/\s+/).join(" ") === `nameserver ${ip}`;

/** Puts `servers` first among the name servers of the container's /etc/resolv.conf (with `dns.podman`). */
export function addNameservers(root: string, id: string, servers: string[]): void {
  if (!servers.length) return;
  rewrite(hostsPath(root, id, "resolv.conf"), (lines) => {
    const rest = lines.filter((l) => !servers.some((s) => isNs(l, s)));
    const search = rest.findIndex((l) => /^search\s/.test(l));
    if (search < 0) rest.unshift("search dns.podman");
    else if (!rest[search].split(/\s+/).includes("dns.podman")) rest[search] += " dns.podman";
    const at = rest.findIndex((l) => /^nameserver\s/.test(l));
    const add = servers.map((s) => `nameserver ${s}`);
    return at < 0 ? [...rest, ...add] : [...rest.slice(0, at), ...add, ...rest.slice(at)];
  });
}

/** Removes the name servers `servers` from the container's /etc/resolv.conf. */
export function removeNameservers(root: string, id: string, servers: string[]): void {
  if (!servers.length) return;
  rewrite(
    hostsPath(root, id, "resolv.conf"),
    (lines) => lines.filter((l) => !servers.some((s) => isNs(l, s))),
  );
}
