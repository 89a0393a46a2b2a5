/** `pod volume ls`: list volumes (DRIVER VOLUME NAME). @module */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { printFormatted, println, printTable } from "../output.ts";

export default defineCommand({
  name: "ls",
  aliases: ["list"],
  usage: "pod volume ls [options]",
  summary: "List volumes",
  maxArgs: 0,
  flags: {
    filter: strings("f", "Filter volume output (name, label, label!, driver, dangling, opt, scope, until)"),
    format: str("Format volume output using JSON or a Go template"),
    noheading: bool("n", "Do not print headers"),
    quiet: bool("q", "Print volume output in quiet mode"),
  },
  async run(flags, _args, g) {
    const { parseVolumeFilters } = await import("../../volume/filters.ts");
    const { inspectVolume, listVolumes } = await import("../../volume/volumes.ts");
    const vols = await listVolumes(g.root, parseVolumeFilters(flags.filter, "ls"));
    if (flags.quiet) {
      println(...vols.map((v) => v.record.name));
      return 0;
    }
    if (flags.format) {
      const items = vols.map(inspectVolume);
      const fmt = flags.noheading ? flags.format.replace(/^table\s*/, "") : flags.format;
      await printFormatted(fmt, items, { Name: "VOLUME NAME", Driver: "DRIVER", Mountpoint: "MOUNTPOINT" });
      return 0;
    }
    const rows = vols.map((v) => [v.record.driver, v.record.name]);
    printTable(flags.noheading ? undefined : ["DRIVER", "VOLUME NAME"], rows);
    return 0;
  },
});
