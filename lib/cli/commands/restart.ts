/**
 * `pod restart`: stop (if running) and start containers again.
 * @module
 */

import { bool, defineCommand, int, strings } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

export default defineCommand({
  name: "restart",
  usage: "pod restart [options] CONTAINER [CONTAINER...]",
  summary: "Restart one or more containers",
  flags: {
    all: bool("a", "Restart all non-running containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
    running: bool("Restart only running containers"),
    time: int("t", "Seconds to wait for stop before killing the container", { default: -1 }),
    cidfile: strings("Read the container ID from the file"),
  },
  async run(flags, args, g) {
    const { stopById } = await import("../../container/lifecycle.ts");
    const { startDetached } = await import("../../container/start.ts");
    const t = flags.time >= 0 ? flags.time : undefined;
    return await forEachContainer(
      g.root,
      { flags, args },
      flags.running ? { running: true } : {},
      async (id) => {
        await stopById(g.root, id, t);
        await startDetached(g.root, id);
        const { getContainer } = await import("../../store/containers.ts");
        const { writeContainerEvents } = await import("../../store/events.ts");
        writeContainerEvents(g.root, await getContainer(g.root, id), ["restart"]);
      },
    );
  },
});
