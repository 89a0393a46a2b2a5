/**
 * `pod wait`: block until containers stop, print their exit codes.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "wait",
  usage: "pod wait [options] CONTAINER [CONTAINER...]",
  summary: "Block on one or more containers",
  flags: [
    {
      name: "condition",
      type: "strings",
      help: "Condition to wait on (stopped, exited, running)",
      default: [],
    },
    { name: "ignore", type: "bool", help: "Ignore if a container does not exist" },
    {
      name: "interval",
      short: "i",
      type: "string",
      default: "250ms",
      help: "Time Interval to wait before polling for completion",
    },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { waitFor } = await import("../../container/wait.ts");
  const conds = (p.flags.condition as string[]).flatMap((c) => c.split(",")).filter((c) => c);
  return await forEachContainer(g.root, p, {}, async (id) => {
    const code = await waitFor(g.root, id, conds.length ? conds : ["stopped"]);
    console.log(String(code));
    const { autoRemoveIfDone } = await import("../../container/lifecycle.ts");
    await autoRemoveIfDone(g.root, id);
  }, { ignoreFlag: "ignore", printIds: false });
}
