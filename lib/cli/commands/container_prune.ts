/**
 * `pod container prune`: remove every stopped (exited or created) container.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "prune",
  usage: "pod container prune [options]",
  summary: "Remove all non running containers",
  flags: [
    { name: "force", short: "f", type: "bool", help: "Do not prompt for confirmation" },
    { name: "filter", type: "strings", help: "Provide filter values (label=key[=value], label!=…, until=…)" },
  ],
  maxArgs: 0,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { confirm, parsePruneFilters, pruneContainers } = await import("../../container/prune.ts");
  const filter = await parsePruneFilters(p.flags.filter as string[]);
  if (!p.flags.force && !(await confirm("WARNING! This will remove all non running containers."))) return 0;
  const { ids } = await pruneContainers(g.root, filter);
  for (const id of ids) console.log(id);
  return 0;
}
