/**
 * `pod pause`: freeze every process of running containers (SIGSTOP).
 * @module
 */

import { bool, defineCommand } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

export default defineCommand({
  name: "pause",
  usage: "pod pause [options] CONTAINER [CONTAINER...]",
  summary: "Pause all the processes in one or more containers",
  flags: {
    all: bool("a", "Pause all running containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    const { setPaused } = await import("../../container/lifecycle.ts");
    return await forEachContainer(
      g.root,
      { flags, args },
      { status: "running" },
      (id) => setPaused(g.root, id, true),
    );
  },
});
