/**
 * runperf: whether a container may have network state to tear down, known without loading the network code
 * (lib/network/setup.ts): one with a network namespace of its own may; one on the host's network (or joined
 * to another's) has none unless its files say otherwise (a `pod update --network` of a stopped container).
 * @module
 */

import type { ContainerConfig } from "../store/containers.ts";
import { containerPaths } from "../store/container_paths.ts";

/** The files lib/network/setup.ts `netFiles` keeps in a container's dir (checked, never read, here). */
const NET_FILES = ["network.json", "network-cleanup.sh"];

/** True unless `c` has no network of its own and none of its network files exist. */
export function mayHaveNetwork(root: string, c: ContainerConfig): boolean {
  if (!c.net) return false;
  if (c.namespaces.net === "private") return true;
  const dir = containerPaths(root, c.id).dir;
  return NET_FILES.some((f) => {
    try {
      Deno.lstatSync(`${dir}/${f}`);
      return true;
    } catch {
      return false;
    }
  });
}
