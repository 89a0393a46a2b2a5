/** `pod volume prune`: remove every volume no container uses (podman's `[y/N]` unless `-f`). @module */

import { bool, defineCommand, strings } from "../flags.ts";
import { printError, println } from "../output.ts";

export default defineCommand({
  name: "prune",
  usage: "pod volume prune [options]",
  summary: "Remove all unused volumes",
  maxArgs: 0,
  flags: {
    force: bool("f", "Do not prompt for confirmation"),
    filter: strings("Provide filter values (label=key[=value], label!=…, until=…)"),
  },
  async run(flags, _args, g) {
    const { parseVolumeFilters } = await import("../../volume/filters.ts");
    const { pruneVolumeList, pruneVolumes } = await import("../../volume/volumes.ts");
    const list = await pruneVolumeList(g.root, parseVolumeFilters(flags.filter, "prune"));
    if (!flags.force) {
      const { confirm } = await import("../prompt.ts");
      const warning = "WARNING! This will remove all volumes not used by at least one container. " +
        "The following volumes will be removed:\n" + list.map((v) => v.record.name).join("\n");
      if (!(await confirm(warning))) return 0;
    }
    let code = 0;
    const done = await pruneVolumes(g.root, list, (_n, e) => {
      printError(e);
      code = 125;
    });
    println(...done);
    return code;
  },
});
