/**
 * `pod pause`: freeze every process of running containers (SIGSTOP).
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "pause",
  usage: "pod pause [options] CONTAINER [CONTAINER...]",
  summary: "Pause all the processes in one or more containers",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Pause all running containers" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { setPaused } = await import("../../container/lifecycle.ts");
  return await forEachContainer(g.root, p, { status: "running" }, (id) => setPaused(g.root, id, true));
}
