/** `pod network reload`: re-create running containers' firewall rules (the runtime's part). @module */

import { bool, defineCommand } from "../flags.ts";
import { println } from "../output.ts";
import { forEachContainer } from "../targets.ts";

export default defineCommand({
  name: "reload",
  usage: "pod network reload [options] [CONTAINER...]",
  summary: "Reload firewall rules for one or more containers",
  flags: {
    all: bool("a", "Reload network configuration of all containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    const { reloadNetwork } = await import("../../container/networks.ts");
    return await forEachContainer(g.root, { flags, args }, { running: true }, async (id) => {
      await reloadNetwork(g.root, id);
      println(id); // podman prints each reloaded container's full ID
    }, { printIds: false });
  },
});
