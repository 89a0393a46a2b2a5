/**
 * `pod system prune`: remove stopped containers, dangling (with `-a`: unused) images and, with
 * `--volumes`, unused volumes.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "prune",
  usage: "pod system prune [options]",
  summary: "Remove unused data",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Remove all unused images, not just dangling ones" },
    { name: "force", short: "f", type: "bool", help: "Do not prompt for confirmation" },
    { name: "volumes", type: "bool", help: "Prune volumes" },
    { name: "filter", type: "strings", help: "Provide filter values (label=key[=value], label!=…, until=…)" },
    { name: "build", type: "bool", help: "Remove build containers", ignored: true, hidden: true },
    { name: "external", type: "bool", help: "Remove external containers", ignored: true, hidden: true },
  ],
  maxArgs: 0,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const prune = await import("../../container/prune.ts");
  const { humanSize } = await import("../../format/units.ts");
  const filter = await prune.parsePruneFilters(p.flags.filter as string[]);
  const all = p.flags.all as boolean, volumes = p.flags.volumes as boolean;
  const lines = [
    "WARNING! This command removes:",
    "\t- all stopped containers",
    ...(volumes ? ["\t- all volumes not used by at least one container"] : []),
    all ? "\t- all images without at least one container associated with them" : "\t- all dangling images",
  ];
  if (!p.flags.force && !(await prune.confirm(lines.join("\n") + "\n"))) return 0;
  const out: string[] = [];
  let bytes = 0;
  const c = await prune.pruneContainers(g.root, filter);
  bytes += c.bytes;
  if (c.ids.length) out.push("Deleted Containers", ...c.ids);
  if (volumes) {
    const v = await prune.pruneVolumes(g.root, filter);
    bytes += v.bytes;
    if (v.names.length) out.push("Deleted Volumes", ...v.names);
  }
  const i = await prune.pruneImages(g.root, all, filter);
  bytes += i.bytes;
  if (i.ids.length) out.push("Deleted Images", ...i.ids);
  out.push(`Total reclaimed space: ${humanSize(bytes, 3).replace(" ", "")}`);
  console.log(out.join("\n"));
  return 0;
}
