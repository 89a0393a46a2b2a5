/**
 * `network connect` / `network disconnect` / `network reload`, the record side: a container's networks live
 * in its config, where the runtime reads them (`net.network.networks`, netavark's per-network options; the
 * older `networks` field is still read and folded in on the next change). A container that is not running
 * just gets its record changed (its next start attaches it); a running one (root, bridge) is attached or
 * detached live first (lib/network/live.ts), then its record changed.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { loadNetwork, type NetworkConfig } from "../network/config.ts";
import { cidrContains, formatIp, parseIp, tryParseCidr } from "../network/subnets.ts";
import { readJsonIfExists, writeJsonAtomic } from "../store/atomic.ts";
import {
  type ContainerConfig,
  containerPaths,
  listContainers,
  lookupContainerId,
  type PerNetworkOptions,
  readContainer,
} from "../store/containers.ts";
import type { NetworkAttachment } from "../store/container_net.ts";
import { attachedNetworks, interfaceNames } from "../store/container_networks.ts";
import { withLock } from "../store/lock.ts";
import { storePaths } from "../store/paths.ts";

/** `network connect` options. */
export interface ConnectOptions {
  /** `--alias`: DNS names on this network besides the container's name. */
  aliases?: string[];
  /** `--ip` / `--ip6`: static addresses inside the network's subnets. */
  ips?: string[];
  /** `--mac-address`. */
  mac?: string;
}

/** The live side of connect/disconnect/reload on a running container (absent until the runtime has it). */
export interface LiveNetworkHooks {
  /** Attaches a running container to a network (the record is written after it succeeds). */
  connect?(root: string, id: string, network: NetworkConfig, opts: PerNetworkOptions): Promise<void>;
  /** Detaches a running container from a network. */
  disconnect?(root: string, id: string, network: NetworkConfig, force: boolean): Promise<void>;
  /** Re-creates a running container's firewall rules and port forwarding. */
  reload?(root: string, id: string): Promise<void>;
}

/**
 * The live side (see {@link LiveNetworkHooks}): connect/disconnect run netavark for the one network in a
 * running bridge container's namespace (lib/network/live.ts, loaded when used), and update its /etc/hosts;
 * reload tears its networks down and sets them up again (its firewall rules re-made, same addresses).
 */
export const liveNetworkHooks: LiveNetworkHooks = {
  async connect(root, id, network, opts) {
    const { liveConnect } = await import("../network/live.ts");
    const c = (await readContainer(root, id)).config;
    const got = await liveConnect(root, id, c.name, network, opts);
    // net2: the new address and name servers reach its /etc/hosts and /etc/resolv.conf
    const hl = await import("./hosts_live.ts");
    hl.addHostsEntry(root, c, got.ip);
    hl.addNameservers(root, id, got.dns);
  },
  async disconnect(root, id, network) {
    const { liveDisconnect } = await import("../network/live.ts");
    const had = await liveDisconnect(root, id, (await readContainer(root, id)).config.name, network);
    const hl = await import("./hosts_live.ts");
    if (had.ip) hl.removeHostsEntry(root, id, had.ip);
    hl.removeNameservers(root, id, had.dns);
  },
  async reload(root, id) {
    const { liveReload } = await import("../network/live.ts");
    await liveReload(root, id, (await readContainer(root, id)).config.name);
  },
};

function running(status: string): boolean {
  return status === "running" || status === "paused";
}

function noLiveHook(what: string, name: string): PodError {
  return new PodError(
    `container ${name} is running: pod cannot ${what} a running container's network yet; stop it first ` +
      `(the change applies at its next start)`,
    { code: "STATE" },
  );
}

/**
 * Refuses a container whose network mode has no named networks to change: only containers on bridge networks
 * can be connected (rootless: in the store's rootless netns; slirp4netns/pasta containers cannot).
 */
function checkConnectable(c: ContainerConfig): void {
  if (c.namespaces.net === "host" || c.net?.network.mode === "host") {
    throw new UsageError(`network mode "host" is not supported: invalid network mode`);
  }
  const mode = c.net ? c.net.network.mode : "bridge";
  if (mode === "bridge" && c.namespaces.net === "private") return;
  const shown = mode === "other" ? c.net?.network.args[0] ?? String(c.namespaces.net) : mode;
  throw new PodError(
    `container ${c.name} uses network mode "${shown}": only containers on bridge networks can be connected`,
    { code: "USAGE" },
  );
}

/** Writes a container's attachments where the runtime reads them (and drops the older `networks` field). */
function setAttached(c: ContainerConfig, nets: Record<string, NetworkAttachment>): void {
  c.net ??= { network: { mode: "bridge", args: [] }, ports: [] };
  c.net.network.networks = nets;
  delete c.networks;
}

/** Checks `--ip` values against the network's subnets and the other containers' static addresses. */
async function checkStaticIps(
  root: string,
  id: string,
  net: NetworkConfig,
  ips: string[],
): Promise<string[]> {
  const out: string[] = [];
  const others = (await listContainers(root)).filter((c) => c.config.id !== id);
  for (const text of ips) {
    const ip = parseIp(text);
    if (!ip) throw new UsageError(`${text} is not an IP address`);
    const subnets = (net.subnets ?? []).map((s) => tryParseCidr(s.subnet)).filter((c) => c !== undefined);
    if (!subnets.some((c) => cidrContains(c, ip))) {
      throw new UsageError(`requested static ip ${formatIp(ip)} not in any subnet on network ${net.name}`);
    }
    const gw = (net.subnets ?? []).some((s) => s.gateway && parseIp(s.gateway)?.value === ip.value);
    if (gw) throw new UsageError(`requested static ip ${formatIp(ip)} is the gateway of network ${net.name}`);
    const holder = others.find((c) =>
      (attachedNetworks(c.config)[net.name]?.static_ips ?? []).some((s) => parseIp(s)?.value === ip.value)
    );
    if (holder) {
      throw new PodError(
        `requested ip address ${formatIp(ip)} is already allocated to container ID ${holder.config.id}`,
        { code: "IN_USE" },
      );
    }
    out.push(formatIp(ip));
  }
  return out;
}

/** Rewrites a container's config under the store lock. */
async function updateConfig(root: string, id: string, fn: (c: ContainerConfig) => void): Promise<void> {
  await withLock(storePaths(root).lock, async () => {
    const path = containerPaths(root, id).config;
    const config = await readJsonIfExists<ContainerConfig>(path);
    if (!config) throw new PodError(`no container with name or ID "${id}" found: no such container`);
    fn(config);
    await writeJsonAtomic(path, config);
  });
}

/** Attaches a container to a network (`network connect NET CTR`). */
export async function connectNetwork(
  root: string,
  network: string,
  container: string,
  o: ConnectOptions = {},
): Promise<void> {
  const net = await loadNetwork(root, network);
  const id = await lookupContainerId(root, container);
  const rec = await readContainer(root, id);
  const nets = attachedNetworks(rec.config);
  if (nets[net.name]) {
    throw new PodError(
      `container ${id} is already connected to network "${net.name}": network is already connected`,
      { code: "EXISTS" },
    );
  }
  const aliases = o.aliases ?? [];
  if (aliases.length && !net.dns_enabled) {
    throw new UsageError(`cannot set network aliases for network "${net.name}" because dns is disabled`);
  }
  if (o.mac !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(o.mac)) {
    throw new UsageError(`invalid MAC address ${o.mac}`);
  }
  checkConnectable(rec.config);
  const opts: PerNetworkOptions = { interface_name: interfaceNames({ ...nets, [net.name]: {} })[net.name] };
  const ips = await checkStaticIps(root, id, net, o.ips ?? []);
  if (ips.length) opts.static_ips = ips;
  if (aliases.length) opts.aliases = aliases;
  if (o.mac) opts.static_mac = o.mac.toLowerCase();
  if (running(rec.state.status)) {
    if (!liveNetworkHooks.connect) throw noLiveHook("attach", rec.config.name);
    await liveNetworkHooks.connect(root, id, net, opts);
  }
  await updateConfig(root, id, (c) => {
    const now = attachedNetworks(c);
    const fixed = interfaceNames(now);
    // the existing attachments keep the interfaces they had: name them before adding one
    for (const [name, a] of Object.entries(now)) now[name] = { ...a, interface_name: fixed[name] };
    setAttached(c, { ...now, [net.name]: opts });
  });
}

/** Detaches a container from a network (`network disconnect NET CTR`). */
export async function disconnectNetwork(
  root: string,
  network: string,
  container: string,
  force = false,
): Promise<void> {
  const net = await loadNetwork(root, network);
  const id = await lookupContainerId(root, container);
  const rec = await readContainer(root, id);
  if (!attachedNetworks(rec.config)[net.name]) {
    throw new PodError(`container ${container} is not connected to network ${net.name}: network not found`, {
      code: "NOT_FOUND",
    });
  }
  if (running(rec.state.status)) {
    if (!liveNetworkHooks.disconnect) throw noLiveHook("detach", rec.config.name);
    await liveNetworkHooks.disconnect(root, id, net, force);
  }
  await updateConfig(root, id, (c) => {
    const rest = attachedNetworks(c);
    const fixed = interfaceNames(rest);
    // the others keep their interfaces (eth1 stays eth1 when eth0 goes)
    for (const [name, a] of Object.entries(rest)) rest[name] = { ...a, interface_name: fixed[name] };
    delete rest[net.name];
    setAttached(c, rest);
  });
}

/** `network reload CTR`: re-creates a running container's firewall rules (the runtime's hook). */
export async function reloadNetwork(root: string, id: string): Promise<void> {
  const rec = await readContainer(root, id);
  if (!running(rec.state.status)) {
    throw new PodError(`cannot reload network unless container network is running: container is stopped`, {
      code: "STATE",
    });
  }
  if (rec.config.namespaces.net === "host") return; // nothing of its own to reload
  if (!liveNetworkHooks.reload) {
    throw new PodError(
      `container ${rec.config.name}: pod's network runtime provides no firewall reload in this build`,
      { code: "STATE" },
    );
  }
  await liveNetworkHooks.reload(root, id);
}
