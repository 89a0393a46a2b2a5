/**
 * `pod system prune`: remove stopped pods and containers, unused networks, dangling (with `-a`: unused) images and,
 * with `--volumes`, unused volumes.
 * @module
 */

import { bool, defineCommand, strings } from "../flags.ts";
import { println } from "../output.ts";

export default defineCommand({
  name: "prune",
  usage: "pod system prune [options]",
  summary: "Remove unused data",
  flags: {
    all: bool("a", "Remove all unused images, not just dangling ones"),
    force: bool("f", "Do not prompt for confirmation"),
    volumes: bool("Prune volumes"),
    filter: strings("Provide filter values (label=key[=value], label!=…, until=…)"),
    build: bool("Remove build containers", { ignored: true, hidden: true }),
    external: bool("Remove external containers", { ignored: true, hidden: true }),
  },
  maxArgs: 0,
  async run(flags, _args, g) {
    const prune = await import("../../container/prune.ts");
    const { humanSize } = await import("../../format/units.ts");
    const filter = await prune.parsePruneFilters(flags.filter);
    const { all, volumes } = flags;
    const lines = [
      "WARNING! This command removes:",
      "\t- all stopped containers",
      "\t- all networks not used by at least one container",
      ...(volumes ? ["\t- all volumes not used by at least one container"] : []),
      all ? "\t- all images without at least one container associated with them" : "\t- all dangling images",
    ];
    if (!flags.force) {
      const { confirm } = await import("../prompt.ts");
      if (!(await confirm(lines.join("\n") + "\n"))) return 0;
    }
    const out: string[] = [];
    let bytes = 0;
    // pods2: pods with no running container first (podman's "Deleted Pods"), with their containers
    const { prunePods } = await import("../../container/pod/prune.ts");
    const pods = await prunePods(g.root, filter);
    bytes += pods.bytes;
    if (pods.ids.length) out.push("Deleted Pods", ...pods.ids);
    const c = await prune.pruneContainers(g.root, filter);
    bytes += c.bytes;
    if (c.ids.length) out.push("Deleted Containers", ...c.ids);
    const { pruneNetworks } = await import("../../network/store.ts"); // netcmd (issue 12)
    const { parseNetworkFilters } = await import("../../network/filters.ts");
    const nets = await pruneNetworks(g.root, parseNetworkFilters(flags.filter, "prune"));
    if (nets.length) out.push("Deleted Networks", ...nets);
    if (volumes) {
      const v = await prune.pruneVolumes(g.root, filter);
      bytes += v.bytes;
      if (v.names.length) out.push("Deleted Volumes", ...v.names);
    }
    const i = await prune.pruneImages(g.root, all, filter);
    bytes += i.bytes;
    if (i.ids.length) out.push("Deleted Images", ...i.ids);
    out.push(`Total reclaimed space: ${humanSize(bytes, 3).replace(" ", "")}`);
    println(...out);
    return 0;
  },
});
