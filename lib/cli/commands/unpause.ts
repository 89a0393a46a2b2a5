/**
 * `pod unpause`: resume every process of paused containers (SIGCONT).
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "unpause",
  usage: "pod unpause [options] CONTAINER [CONTAINER...]",
  summary: "Unpause the processes in one or more containers",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Unpause all paused containers" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { setPaused } = await import("../../container/lifecycle.ts");
  return await forEachContainer(g.root, p, { status: "paused" }, (id) => setPaused(g.root, id, false));
}
