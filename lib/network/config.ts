/**
 * Network configurations as netavark reads them and podman 4 writes them: one JSON file per network,
 * `<store>/networks/<name>.json`, with the same field names as `podman network inspect`. The default network
 * `podman` (10.88.0.0/16 on `podman0`, DNS off) is synthesized when no `podman.json` exists, as podman does.
 * @module
 */

import { NotFoundError, PodError } from "../errors.ts";
import { warn } from "../log.ts";
import { storePaths } from "../store/paths.ts";

/** An address range inside a subnet that containers get their addresses from (`--ip-range`). */
export interface LeaseRange {
  /** First address handed out. */
  start_ip?: string;
  /** Last address handed out. */
  end_ip?: string;
}

/** One subnet of a network. */
export interface NetworkSubnet {
  /** `10.89.0.0/24`, `fd00::/64`. */
  subnet: string;
  /** The gateway (the bridge's address); absent on an internal network without DNS. */
  gateway?: string;
  /** `--ip-range`. */
  lease_range?: LeaseRange;
}

/** A network: the netavark/podman 4 JSON object (`networks/<name>.json`, `podman network inspect`). */
export interface NetworkConfig {
  /** Name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`). */
  name: string;
  /** 64 hex characters. */
  id: string;
  /** `bridge` or `macvlan`. */
  driver: string;
  /** The bridge's name (`podman1`), or a macvlan's parent interface; absent: the default route's. */
  network_interface?: string;
  /** Creation time, RFC 3339. */
  created: string;
  /** Subnets (none with the `none` IPAM driver). */
  subnets?: NetworkSubnet[];
  /** Has an IPv6 subnet. */
  ipv6_enabled: boolean;
  /** No route out (`--internal`). */
  internal: boolean;
  /** aardvark-dns resolves the containers' names on it. */
  dns_enabled: boolean;
  /** `--label`. */
  labels?: Record<string, string>;
  /** `-o`: driver options (`mtu`, `vlan`, `isolate`, `mode`). */
  options?: Record<string, string>;
  /** `{"driver": "host-local"}` (or `none`). */
  ipam_options?: Record<string, string>;
}

/** The default network's name. */
export const DEFAULT_NETWORK_NAME = "podman";

/** The default network's id: sha256 of its name, as podman's. */
export const DEFAULT_NETWORK_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9";

/** podman's rule for network names (and bridge interface names). */
export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * A time as Go's `time.Time` marshals to JSON (RFC 3339, trailing zeros of the fraction dropped), so a file
 * podman re-reads and prints back stays byte-identical.
 */
export function goTimeJson(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, (m) => (m.startsWith(".") ? "Z" : m.replace(/0+Z$/, "Z")));
}

/** The default `podman` network (created now, as podman reports it). */
export function defaultNetwork(now: Date = new Date()): NetworkConfig {
  return {
    name: DEFAULT_NETWORK_NAME,
    id: DEFAULT_NETWORK_ID,
    driver: "bridge",
    network_interface: "podman0",
    created: goTimeJson(now),
    subnets: [{ subnet: "10.88.0.0/16", gateway: "10.88.0.1" }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    ipam_options: { driver: "host-local" },
  };
}

/** The directory of a store's network files. */
export function networksDir(root: string): string {
  return `${storePaths(root).root}/networks`;
}

/** The file of one network. */
export function networkFile(root: string, name: string): string {
  return `${networksDir(root)}/${name}.json`;
}

/** Checks a parsed file is a network config pod can use; the reason when it is not. */
function invalidReason(n: unknown, file: string): string | undefined {
  if (!n || typeof n !== "object") return "not a JSON object";
  const c = n as Partial<NetworkConfig>;
  if (typeof c.name !== "string" || !NETWORK_NAME_RE.test(c.name)) return "invalid or missing name";
  if (`${c.name}.json` !== file) return `the name ${c.name} does not match the file name`;
  if (typeof c.id !== "string" || !/^[0-9a-f]{64}$/.test(c.id)) return "invalid or missing id";
  if (typeof c.driver !== "string" || !c.driver) return "missing driver";
  if (c.subnets !== undefined && c.subnets !== null && !Array.isArray(c.subnets)) {
    return "subnets is not a list";
  }
  return undefined;
}

/**
 * Every network of the store (the default one included), sorted by name. A file that is not a valid network
 * is skipped with a warning, as podman does.
 */
export async function readNetworks(root: string): Promise<NetworkConfig[]> {
  const dir = networksDir(root);
  const out: NetworkConfig[] = [];
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Promise.all(entries.map(async (e) => {
    if (e.name.startsWith(".") || !e.name.endsWith(".json") || e.isDirectory) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return; // removed meanwhile
      warn(`Error reading network config file ${dir}/${e.name}: ${err instanceof Error ? err.message : err}`);
      return;
    }
    const why = invalidReason(parsed, e.name);
    if (why) {
      warn(`Error reading network config file ${dir}/${e.name}: ${why}`);
      return;
    }
    out.push(normalize(parsed as NetworkConfig));
  }));
  if (!out.some((n) => n.name === DEFAULT_NETWORK_NAME)) out.push(defaultNetwork());
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Fills the fields podman's Go types always have (booleans false, ipam host-local). */
function normalize(n: NetworkConfig): NetworkConfig {
  return {
    ...n,
    ipv6_enabled: !!n.ipv6_enabled,
    internal: !!n.internal,
    dns_enabled: !!n.dns_enabled,
    ...(n.subnets ? { subnets: n.subnets } : {}),
  };
}

/**
 * Finds a network by name, full id or unique id prefix (podman's order); undefined when none matches.
 * Throws when an id prefix matches several.
 */
export function findNetworkIn(list: NetworkConfig[], nameOrId: string): NetworkConfig | undefined {
  const byName = list.find((n) => n.name === nameOrId);
  if (byName) return byName;
  if (!/^[0-9a-f]+$/.test(nameOrId)) return undefined;
  const hits = list.filter((n) => n.id.startsWith(nameOrId));
  if (hits.length > 1) {
    throw new PodError(`more than one result for network ID ${nameOrId}`, { code: "USAGE" });
  }
  return hits[0];
}

/** One network by name or id (prefix); undefined when there is none. */
export async function findNetwork(root: string, nameOrId: string): Promise<NetworkConfig | undefined> {
  return findNetworkIn(await readNetworks(root), nameOrId);
}

/** podman's error for a missing network (`NOT_FOUND`, exit 125). */
export function networkNotFound(nameOrId: string): NotFoundError {
  return new NotFoundError(`unable to find network with name or ID ${nameOrId}: network not found`);
}

/**
 * run10: the network named `name` read straight from its file (sync; the default one when it has none),
 * what {@link findNetworkIn} would find first; undefined when that takes the whole list (an id, an invalid
 * file). `create` and the start's address allocation look a network up by name: one read instead of the
 * directory's listing and every file in it.
 */
function networkByName(root: string, name: string): NetworkConfig | undefined {
  if (!NETWORK_NAME_RE.test(name)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Deno.readTextFileSync(networkFile(root, name)));
  } catch (e) {
    return e instanceof Deno.errors.NotFound && name === DEFAULT_NETWORK_NAME ? defaultNetwork() : undefined;
  }
  return invalidReason(parsed, `${name}.json`) ? undefined : normalize(parsed as NetworkConfig);
}

/** One network by name or id (prefix); throws podman's `network not found` when there is none. */
export async function loadNetwork(root: string, nameOrId: string): Promise<NetworkConfig> {
  const named = networkByName(root, nameOrId);
  if (named) return named;
  const n = await findNetwork(root, nameOrId);
  if (!n) throw networkNotFound(nameOrId);
  return n;
}
