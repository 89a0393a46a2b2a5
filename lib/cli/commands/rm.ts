/**
 * `pod rm`: remove containers (`-f`: stop running ones first; `-v`: their anonymous volumes too).
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "rm",
  usage: "pod rm [options] CONTAINER [CONTAINER...]",
  summary: "Remove one or more containers",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Remove all containers" },
    { name: "force", short: "f", type: "bool", help: "Force removal of a running or unusable container" },
    { name: "ignore", short: "i", type: "bool", help: "Ignore errors when a specified container is missing" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    {
      name: "time",
      short: "t",
      type: "int",
      default: -1,
      help: "Seconds to wait for stop before killing the container",
    },
    {
      name: "volumes",
      short: "v",
      type: "bool",
      help: "Remove anonymous volumes associated with the container",
    },
    {
      name: "depend",
      type: "bool",
      help: "Remove container and all containers that depend on it",
      ignored: true,
    },
    { name: "cidfile", type: "strings", help: "Read the container ID from the file", ignored: true },
    { name: "filter", type: "strings", help: "Filter output based on conditions given", ignored: true },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { removeById } = await import("../../container/lifecycle.ts");
  const t = p.flags.time as number;
  return await forEachContainer(g.root, p, {}, async (id) => {
    await removeById(g.root, id, {
      force: p.flags.force as boolean,
      volumes: p.flags.volumes as boolean,
      timeout: t >= 0 ? t : undefined,
    });
  }, { printIds: true });
}
