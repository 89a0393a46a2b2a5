/**
 * `pod kill`: send a signal (default SIGKILL) to running containers.
 * @module
 */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

export default defineCommand({
  name: "kill",
  usage: "pod kill [options] CONTAINER [CONTAINER...]",
  summary: "Kill one or more running containers with a specific signal",
  flags: {
    all: bool("a", "Signal all running containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
    signal: str("s", "Signal to send to the container", { default: "KILL" }),
    cidfile: strings("Read the container ID from the file"),
  },
  async run(flags, args, g) {
    const { killById } = await import("../../container/lifecycle.ts");
    const { parseSignal } = await import("../../oci/signals.ts");
    parseSignal(flags.signal); // reject a bad signal before touching anything
    return await forEachContainer(g.root, { flags, args }, { running: true }, async (id) => {
      await killById(g.root, id, flags.signal);
    });
  },
});
