/**
 * `pod image prune`: remove dangling images (with `-a`, every image no container uses), then unused blobs.
 * @module
 */

import { bool, defineCommand, strings } from "../flags.ts";
import { println } from "../output.ts";

export default defineCommand({
  name: "prune",
  usage: "pod image prune [options]",
  summary: "Remove unused images",
  flags: {
    all: bool("a", "Remove all images not in use by containers, not just dangling ones"),
    force: bool("f", "Do not prompt for confirmation"),
    filter: strings("Provide filter values (label=key[=value], label!=…, until=…)"),
    buildCache: bool("Remove persistent build cache created by --mount=type=cache"),
    external: bool("Remove images still used by external containers", { ignored: true, hidden: true }),
  },
  maxArgs: 0,
  async run(flags, _args, g) {
    const { parsePruneFilters, pruneImages } = await import("../../container/prune.ts");
    const filter = await parsePruneFilters(flags.filter);
    const warning = flags.all
      ? "WARNING! This command removes all images without at least one container associated with them."
      : "WARNING! This command removes all dangling images.";
    if (!flags.force) {
      const { confirm } = await import("../prompt.ts");
      if (!(await confirm(warning))) return 0;
    }
    const { ids } = await pruneImages(g.root, flags.all, filter);
    println(...ids);
    if (flags.buildCache) {
      const { removeCacheMounts } = await import("../../build/run_mounts.ts");
      await removeCacheMounts(g.root);
    }
    return 0;
  },
});
