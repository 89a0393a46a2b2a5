/**
 * `pod image prune`: remove dangling images (with `-a`, every image no container uses), then unused blobs.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "prune",
  usage: "pod image prune [options]",
  summary: "Remove unused images",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      help: "Remove all images not in use by containers, not just dangling ones",
    },
    { name: "force", short: "f", type: "bool", help: "Do not prompt for confirmation" },
    { name: "filter", type: "strings", help: "Provide filter values (label=key[=value], label!=…, until=…)" },
    { name: "build-cache", type: "bool", help: "Remove persistent build cache", ignored: true, hidden: true },
    {
      name: "external",
      type: "bool",
      help: "Remove images still used by external containers",
      ignored: true,
      hidden: true,
    },
  ],
  maxArgs: 0,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { confirm, parsePruneFilters, pruneImages } = await import("../../container/prune.ts");
  const filter = await parsePruneFilters(p.flags.filter as string[]);
  const all = p.flags.all as boolean;
  const warning = all
    ? "WARNING! This command removes all images without at least one container associated with them."
    : "WARNING! This command removes all dangling images.";
  if (!p.flags.force && !(await confirm(warning))) return 0;
  const { ids } = await pruneImages(g.root, all, filter);
  for (const id of ids) console.log(id);
  return 0;
}
