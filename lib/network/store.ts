/**
 * The network store: create, list (with the containers using each network), remove, under the store's lock so
 * two concurrent creates never get the same subnet or bridge. Files are written atomically, readable by
 * netavark and podman (`network_config_dir`).
 * @module
 */

import { PodError } from "../errors.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { attachedNetworks } from "../store/container_networks.ts";
import { listContainers } from "../store/containers.ts";
import { withLock } from "../store/lock.ts";
import { storePaths } from "../store/paths.ts";
import {
  DEFAULT_NETWORK_NAME,
  findNetworkIn,
  type NetworkConfig,
  networkFile,
  networkNotFound,
  networksDir,
  readNetworks,
} from "./config.ts";
import { buildNetwork, type NetworkCreateOptions } from "./create.ts";
import { isDangling, type NetworkFilter } from "./filters.ts";
import { hostInterfaces, hostSubnets } from "./host.ts";

/** A network and the containers attached to it. */
export interface NetworkInfo {
  /** The network file's content. */
  config: NetworkConfig;
  /** Ids of the containers whose record names this network. */
  containers: string[];
}

/** A new 64-hex id. */
function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (x) => x.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** Writes a network file the way podman does (five-space indent), atomically. */
export async function writeNetwork(root: string, n: NetworkConfig): Promise<void> {
  await Deno.mkdir(networksDir(root), { recursive: true, mode: 0o755 });
  await writeFileAtomic(networkFile(root, n.name), JSON.stringify(n, null, 5) + "\n", 0o644);
}

/** Creates a network (`network create`); with `ignore` an existing one of that name is returned as is. */
export async function createNetwork(root: string, o: NetworkCreateOptions): Promise<NetworkConfig> {
  await Deno.mkdir(storePaths(root).root, { recursive: true, mode: 0o700 });
  const [subnets, ifaces] = await Promise.all([hostSubnets(), hostInterfaces()]);
  return await withLock(storePaths(root).lock, async () => {
    const existing = await readNetworks(root);
    let id = randomId();
    while (existing.some((n) => n.id === id)) id = randomId();
    const n = buildNetwork(o, {
      existing,
      hostSubnets: subnets,
      hostInterfaces: ifaces,
      id,
      now: new Date(),
    });
    if (!existing.includes(n)) await writeNetwork(root, n);
    return n;
  });
}

/**
 * The networks each container's record names (the runtime's attachments, `create --network NAME` and
 * `network connect`, and the older `networks` field): network name → container ids.
 */
export async function networkUsers(root: string): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const c of await listContainers(root)) {
    for (const name of Object.keys(attachedNetworks(c.config))) {
      users.set(name, [...(users.get(name) ?? []), c.config.id]);
    }
  }
  return users;
}

/**
 * Every network (the default one included) with its containers, sorted by name. `withUsers: false` skips
 * reading the containers (every `containers` list is then empty).
 */
export async function listNetworks(root: string, withUsers = true): Promise<NetworkInfo[]> {
  const [nets, users] = await Promise.all([
    readNetworks(root),
    withUsers ? networkUsers(root) : new Map<string, string[]>(),
  ]);
  return nets.map((config) => ({ config, containers: users.get(config.name) ?? [] }));
}

/** One network by name or id (prefix) with its containers; podman's `network not found` when missing. */
export async function getNetwork(root: string, nameOrId: string): Promise<NetworkInfo> {
  const n = findNetworkIn(await readNetworks(root), nameOrId);
  if (!n) throw networkNotFound(nameOrId);
  return { config: n, containers: (await networkUsers(root)).get(n.name) ?? [] };
}

/** Exit codes of `network rm`, as podman's man page lists them. */
export const NetworkRmExit = { NotFound: 1, InUse: 2 } as const;

/** podman's refusal to remove a network containers use (exit 2). */
export function networkInUse(name: string): PodError {
  return new PodError(
    `"${name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used`,
    { code: "IN_USE", exitCode: NetworkRmExit.InUse },
  );
}

/**
 * Removes a network's file. Missing → `network not found` (exit 1); the default network → refused; in use by
 * a container → {@link networkInUse} (exit 2; the caller removes those containers first for `-f`). Returns
 * the removed network.
 */
export async function removeNetwork(root: string, nameOrId: string): Promise<NetworkConfig> {
  return await withLock(storePaths(root).lock, async () => {
    const n = findNetworkIn(await readNetworks(root), nameOrId);
    if (!n) {
      const e = networkNotFound(nameOrId);
      throw new PodError(e.message, { code: "NOT_FOUND", exitCode: NetworkRmExit.NotFound });
    }
    if (n.name === DEFAULT_NETWORK_NAME) {
      throw new PodError(`default network ${DEFAULT_NETWORK_NAME} cannot be removed`, { code: "USAGE" });
    }
    if ((await networkUsers(root)).get(n.name)?.length) throw networkInUse(n.name);
    await Deno.remove(networkFile(root, n.name)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return n;
  });
}

/**
 * Removes every network no container uses (never the default one) that passes `filter`; returns the names
 * removed. A failure is reported through `onError` and the others are still tried.
 */
export async function pruneNetworks(
  root: string,
  filter?: NetworkFilter,
  onError?: (name: string, e: unknown) => void,
): Promise<string[]> {
  const done: string[] = [];
  for (const n of await listNetworks(root)) {
    const facts = { config: n.config, containers: n.containers.length };
    if (!isDangling(facts) || (filter && !filter(facts))) continue;
    try {
      await removeNetwork(root, n.config.name);
      done.push(n.config.name);
    } catch (e) {
      onError?.(n.config.name, e);
    }
  }
  return done;
}
