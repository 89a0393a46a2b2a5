/** `pod port`: published ports (pod has no port publishing yet, so the list is empty). @module */

import { bool, defineCommand } from "../flags.ts";
import { UsageError } from "../../errors.ts";

export default defineCommand({
  name: "port",
  usage: "pod port [options] CONTAINER [PRIVATE_PORT[/PROTO]]",
  summary: "List port mappings or a specific mapping for the container",
  maxArgs: 2,
  flags: {
    all: bool("a", "Display port information for all containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  /** Checks the container exists, then prints nothing (no published ports). */
  async run(flags, args, g) {
    if (!flags.all && !flags.latest && args.length === 0) {
      throw new UsageError("you must supply a running container name or ID", "See 'pod port --help'");
    }
    if (args[0]) {
      const { lookupContainerId } = await import("../../store/containers.ts");
      await lookupContainerId(g.root, args[0]);
    }
    return 0;
  },
});
