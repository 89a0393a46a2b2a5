/**
 * Network configurations, stored as netavark's (podman's) network JSON, one file per network:
 * `<store>/networks/<name>.json`. The default network `podman` (10.88.0.0/16, interface `podman0`, no DNS)
 * exists without a file, as with podman. The `network` commands write this same format.
 * @module
 */

import { PodError } from "../errors.ts";

/** One subnet of a network. */
export interface NetworkSubnet {
  /** CIDR, e.g. `10.88.0.0/16`. */
  subnet: string;
  /** Gateway address (the bridge's), e.g. `10.88.0.1`. */
  gateway?: string;
  /** Addresses handed out: `{start_ip, end_ip}`. */
  lease_range?: { start_ip?: string; end_ip?: string };
}

/** A network as netavark reads it (podman's `types.Network`). */
export interface NetworkConfig {
  /** Name. */
  name: string;
  /** 64 hex. */
  id: string;
  /** `bridge` (or `macvlan`/`ipvlan`). */
  driver: string;
  /** The bridge's name on the host (`podman0`, `podman1`…). */
  network_interface?: string;
  /** Creation time (RFC 3339). */
  created?: string;
  /** Subnets. */
  subnets?: NetworkSubnet[];
  /** IPv6 enabled. */
  ipv6_enabled: boolean;
  /** No route out (no NAT). */
  internal: boolean;
  /** aardvark-dns name resolution between the network's containers. */
  dns_enabled: boolean;
  /** Labels. */
  labels?: Record<string, string>;
  /** Driver options (`mtu`, `vlan`…). */
  options?: Record<string, string>;
  /** IPAM options (`driver: host-local`). */
  ipam_options?: Record<string, string>;
}

/** The name of the default network. */
export const DEFAULT_NETWORK = "podman";

/** Where the network files of a store live. */
export function networksDir(root: string): string {
  return `${root}/networks`;
}

/** The default network `podman`, as podman defines it. */
export function defaultNetwork(): NetworkConfig {
  return {
    name: DEFAULT_NETWORK,
    id: "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
    driver: "bridge",
    network_interface: "podman0",
    created: new Date(0).toISOString(),
    subnets: [{ subnet: "10.88.0.0/16", gateway: "10.88.0.1" }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    ipam_options: { driver: "host-local" },
  };
}

/** Reads network `name` of the store (the default network when it has no file); a PodError when unknown. */
export async function loadNetwork(root: string, name: string): Promise<NetworkConfig> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    throw new PodError(`network ${name}: invalid network name`, { code: "USAGE" });
  }
  try {
    return JSON.parse(await Deno.readTextFile(`${networksDir(root)}/${name}.json`)) as NetworkConfig;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new PodError(`network ${name}: ${e instanceof Error ? e.message : e}`);
    }
  }
  if (name === DEFAULT_NETWORK) return defaultNetwork();
  throw new PodError(`unable to find network with name or ID ${name}: network not found`, {
    code: "NOT_FOUND",
  });
}
