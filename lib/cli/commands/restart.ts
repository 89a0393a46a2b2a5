/**
 * `pod restart`: stop (if running) and start containers again.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "restart",
  usage: "pod restart [options] CONTAINER [CONTAINER...]",
  summary: "Restart one or more containers",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Restart all non-running containers" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    { name: "running", type: "bool", help: "Restart only running containers" },
    {
      name: "time",
      short: "t",
      type: "int",
      default: -1,
      help: "Seconds to wait for stop before killing the container",
    },
    { name: "cidfile", type: "strings", help: "Read the container ID from the file", ignored: true },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { stopById } = await import("../../container/lifecycle.ts");
  const { startDetached } = await import("../../container/start.ts");
  const t = p.flags.time as number;
  const sel = p.flags.running ? { running: true } : {};
  return await forEachContainer(g.root, p, sel, async (id) => {
    await stopById(g.root, id, t >= 0 ? t : undefined);
    await startDetached(g.root, id);
  });
}
