/**
 * `pod stop`: stop signal, then SIGKILL after the timeout.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "stop",
  usage: "pod stop [options] CONTAINER [CONTAINER...]",
  summary: "Stop one or more containers",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Stop all running containers" },
    { name: "ignore", short: "i", type: "bool", help: "Ignore errors when a specified container is missing" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    {
      name: "time",
      short: "t",
      type: "int",
      help: "Seconds to wait for stop before killing the container",
      default: -1,
    },
    {
      name: "filter",
      short: "f",
      type: "strings",
      help: "Filter output based on conditions given",
      ignored: true,
    },
    { name: "cidfile", type: "strings", help: "Read the container ID from the file", ignored: true },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { stopById } = await import("../../container/lifecycle.ts");
  const t = p.flags.time as number;
  return await forEachContainer(g.root, p, { running: true }, async (id) => {
    await stopById(g.root, id, t >= 0 ? t : undefined);
  });
}
