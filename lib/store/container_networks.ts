/**
 * The named networks a container is attached to, as one list: the runtime's record
 * (`net.network.networks`, what `create --network NAME` and `network connect` write and what a start attaches)
 * first, then the older `networks` field (netcmd's records before the two met) for what it names besides.
 * @module
 */

import type { NetworkAttachment } from "./container_net.ts";
import type { ContainerConfig } from "./container_types.ts";

/** Network name → the container's attachment to it, in attach order (interface eth0, eth1… by position). */
export function attachedNetworks(
  config: Pick<ContainerConfig, "net" | "networks">,
): Record<string, NetworkAttachment> {
  const out: Record<string, NetworkAttachment> = { ...(config.net?.network.networks ?? {}) };
  for (const [name, opts] of Object.entries(config.networks ?? {})) out[name] ??= opts;
  return out;
}

/**
 * The interface each network gets inside the container: its own `interface_name`, else the first `ethN` no
 * other attachment names, in attach order (network name → interface).
 */
export function interfaceNames(nets: Record<string, NetworkAttachment>): Record<string, string> {
  const used = new Set(Object.values(nets).map((a) => a.interface_name).filter((n) => n !== undefined));
  const out: Record<string, string> = {};
  let i = 0;
  for (const [name, a] of Object.entries(nets)) {
    if (a.interface_name) out[name] = a.interface_name;
    else {
      while (used.has(`eth${i}`)) i++;
      out[name] = `eth${i++}`;
    }
  }
  return out;
}
