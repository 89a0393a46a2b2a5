/**
 * `pod rename`: give a container a new name.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "rename",
  usage: "pod rename CONTAINER NAME",
  summary: "Rename an existing container",
  flags: [],
  minArgs: 2,
  maxArgs: 2,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { lookupContainerId, renameContainer } = await import("../../store/containers.ts");
  const id = await lookupContainerId(g.root, p.args[0]);
  await renameContainer(g.root, id, p.args[1]);
  return 0;
}
