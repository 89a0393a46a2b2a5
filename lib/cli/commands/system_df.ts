/**
 * `pod system df`: disk usage of images, containers and volumes (podman's TYPE TOTAL ACTIVE SIZE
 * RECLAIMABLE table; `-v` per object; `--format` Go templates over the rows).
 * @module
 */

import { bool, defineCommand, str } from "../flags.ts";

export default defineCommand({
  name: "df",
  usage: "pod system df [options]",
  summary: "Show pod related system information",
  flags: {
    verbose: bool("v", "Show detailed information on disk usage"),
    format: str("Pretty-print with a Go template (or json)"),
  },
  maxArgs: 0,
  async run(flags, _args, g) {
    const { systemDf } = await import("../../container/prune.ts");
    const { out, printFormatted, printTable } = await import("../output.ts");
    const view = await import("../views/df.ts");
    const df = await systemDf(g.root);
    if (flags.format) {
      await printFormatted(flags.format, df.rows, view.DF_HEADERS);
    } else if (!flags.verbose) {
      const t = view.dfSummary(df);
      printTable(t.headers, t.rows);
    } else {
      view.dfVerbose(df).forEach((t, i) => {
        out(`${i ? "\n" : ""}${t.title}\n\n`);
        printTable(t.headers, t.rows);
      });
    }
    return 0;
  },
});
