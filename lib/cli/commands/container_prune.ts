/**
 * `pod container prune`: remove every stopped (exited or created) container.
 * @module
 */

import { bool, defineCommand, strings } from "../flags.ts";
import { println } from "../output.ts";

export default defineCommand({
  name: "prune",
  usage: "pod container prune [options]",
  summary: "Remove all non running containers",
  flags: {
    force: bool("f", "Do not prompt for confirmation"),
    filter: strings("Provide filter values (label=key[=value], label!=…, until=…)"),
  },
  maxArgs: 0,
  async run(flags, _args, g) {
    const { parsePruneFilters, pruneContainers } = await import("../../container/prune.ts");
    const filter = await parsePruneFilters(flags.filter);
    if (!flags.force) {
      const { confirm } = await import("../prompt.ts");
      if (!(await confirm("WARNING! This will remove all non running containers."))) return 0;
    }
    const { ids } = await pruneContainers(g.root, filter);
    println(...ids);
    return 0;
  },
});
