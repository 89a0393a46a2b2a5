/** `pod network prune`: remove every network no container uses (podman's `[y/N]` unless `-f`). @module */

import { bool, defineCommand, strings } from "../flags.ts";
import { printError, println } from "../output.ts";

export default defineCommand({
  name: "prune",
  usage: "pod network prune [options]",
  summary: "Prune unused networks",
  maxArgs: 0,
  flags: {
    filter: strings("Provide filter values (label=<key>[=<value>], label!=…, until=…)"),
    force: bool("f", "do not prompt for confirmation"),
  },
  async run(flags, _args, g) {
    const { parseNetworkFilters } = await import("../../network/filters.ts");
    const { pruneNetworks } = await import("../../network/store.ts");
    const filter = parseNetworkFilters(flags.filter, "prune");
    if (!flags.force) {
      const { confirm } = await import("../prompt.ts");
      if (!(await confirm("WARNING! This will remove all networks not used by at least one container."))) {
        return 0;
      }
    }
    let code = 0;
    const done = await pruneNetworks(g.root, filter, (_n, e) => {
      printError(e);
      code = 125;
    });
    println(...done);
    return code;
  },
});
