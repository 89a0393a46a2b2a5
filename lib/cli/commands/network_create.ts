/** `pod network create`: a bridge (or macvlan) network, stored as netavark's JSON. @module */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { println } from "../output.ts";
import { keyValues } from "./volume_create.ts";

export default defineCommand({
  name: "create",
  usage: "pod network create [options] [NAME]",
  summary: "Create networks for containers and pods",
  maxArgs: 1,
  flags: {
    disableDns: bool("disable dns plugin"),
    driver: str("d", "driver to manage the network (bridge, macvlan)", { default: "bridge" }),
    gateway: strings("IPv4 or IPv6 gateway for the subnet"),
    internal: bool("restrict external access from this network"),
    ipRange: strings("allocate container IP from range (CIDR or START-END)"),
    ipamDriver: str("IP Address Management Driver (host-local, none)"),
    ipv6: bool("enable IPv6 networking"),
    label: strings("set metadata on a network"),
    opt: strings("o", "Set driver specific options (bridge: mtu, vlan, isolate; macvlan: parent, mode, mtu)"),
    subnet: strings("subnets in CIDR format"),
    interfaceName: str("interface name which is used by the driver (bridge name, macvlan parent)"),
    ignore: bool("Don't fail if network already exists"),
  },
  async run(flags, args, g) {
    const { createNetwork } = await import("../../network/store.ts");
    const n = await createNetwork(g.root, {
      name: args[0],
      driver: flags.driver,
      subnets: flags.subnet,
      gateways: flags.gateway.flatMap((x) => x.split(",")),
      ipRanges: flags.ipRange,
      internal: flags.internal,
      disableDns: flags.disableDns,
      ipv6: flags.ipv6,
      labels: keyValues(flags.label, "label", false),
      options: keyValues(flags.opt, "option", false),
      interfaceName: flags.interfaceName,
      ipamDriver: flags.ipamDriver,
      ignore: flags.ignore,
    });
    println(n.name);
    return 0;
  },
});
