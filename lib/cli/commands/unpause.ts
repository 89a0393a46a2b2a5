/**
 * `pod unpause`: resume every process of paused containers (SIGCONT).
 * @module
 */

import { bool, defineCommand } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

export default defineCommand({
  name: "unpause",
  usage: "pod unpause [options] CONTAINER [CONTAINER...]",
  summary: "Unpause the processes in one or more containers",
  flags: {
    all: bool("a", "Unpause all paused containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    const { setPaused } = await import("../../container/lifecycle.ts");
    return await forEachContainer(
      g.root,
      { flags, args },
      { status: "paused" },
      (id) => setPaused(g.root, id, false),
    );
  },
});
