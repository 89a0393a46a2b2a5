/**
 * `pod network connect` / `disconnect`: attach a container to a network or detach it, in its record (a
 * running container needs the network runtime's live attach; see lib/container/networks.ts).
 * @module
 */

import { bool, defineCommand, str, strings } from "../flags.ts";

/** `network connect [--alias] [--ip] [--ip6] [--mac-address] NETWORK CONTAINER`. */
export const connectCommand = defineCommand({
  name: "connect",
  usage: "pod network connect [options] NETWORK CONTAINER",
  summary: "Add container to a network",
  minArgs: 2,
  maxArgs: 2,
  flags: {
    alias: strings("network scoped alias for container"),
    ip: str("set a static ipv4 address for this container network"),
    ip6: str("set a static ipv6 address for this container network"),
    macAddress: str("set a static mac address for this container network"),
  },
  async run(flags, args, g) {
    const { UsageError } = await import("../../errors.ts");
    const { parseIp } = await import("../../network/subnets.ts");
    for (const [flag, v, fam] of [["ip", flags.ip, 4], ["ip6", flags.ip6, 6]] as const) {
      if (v !== undefined && parseIp(v)?.family !== fam) {
        throw new UsageError(
          `invalid argument "${v}" for "--${flag}" flag: invalid string being converted to IP address: ${v}`,
        );
      }
    }
    const { connectNetwork } = await import("../../container/networks.ts");
    await connectNetwork(g.root, args[0], args[1], {
      aliases: flags.alias.flatMap((a) => a.split(",")).filter(Boolean),
      ips: [flags.ip, flags.ip6].filter((x) => x !== undefined),
      mac: flags.macAddress,
    });
    return 0;
  },
});

/** `network disconnect [-f] NETWORK CONTAINER`. */
export const disconnectCommand = defineCommand({
  name: "disconnect",
  usage: "pod network disconnect [options] NETWORK CONTAINER",
  summary: "Disconnect a container from a network",
  minArgs: 2,
  maxArgs: 2,
  flags: { force: bool("f", "force removal of container from network") },
  async run(flags, args, g) {
    const { disconnectNetwork } = await import("../../container/networks.ts");
    await disconnectNetwork(g.root, args[0], args[1], flags.force);
    return 0;
  },
});
