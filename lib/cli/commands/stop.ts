/**
 * `pod stop`: stop signal, then SIGKILL after the timeout.
 * @module
 */

import { bool, defineCommand, int, strings } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

export default defineCommand({
  name: "stop",
  usage: "pod stop [options] CONTAINER [CONTAINER...]",
  summary: "Stop one or more containers",
  flags: {
    all: bool("a", "Stop all running containers"),
    ignore: bool("i", "Ignore errors when a specified container is missing"),
    latest: bool("l", "Act on the latest container pod is aware of"),
    time: int("t", "Seconds to wait for stop before killing the container", { default: -1 }),
    filter: strings("f", "Filter output based on conditions given"),
    cidfile: strings("Read the container ID from the file"),
  },
  async run(flags, args, g) {
    const { stopById } = await import("../../container/lifecycle.ts");
    const t = flags.time >= 0 ? flags.time : undefined;
    return await forEachContainer(g.root, { flags, args }, { running: true }, async (id) => {
      await stopById(g.root, id, t);
    });
  },
});
