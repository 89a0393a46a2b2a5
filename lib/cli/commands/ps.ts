/**
 * `pod ps`: list containers with podman's columns, filters, sorting and `--format`.
 * @module
 */

import { bool, defineCommand, int, str, strings } from "../flags.ts";
import { psList } from "../../container/ps.ts";
import * as view from "../views/ps.ts";
import * as output from "../output.ts";

export default defineCommand({
  name: "ps",
  aliases: ["ls", "list"],
  usage: "pod ps [options]",
  summary: "List containers",
  flags: {
    all: bool("a", "Show all the containers, default is only running containers"),
    external: bool("Show containers in storage not controlled by pod", { ignored: true }),
    filter: strings("f", "Filter output based on conditions given"),
    format: str("Pretty-print containers to JSON or using a Go template"),
    last: int("n", "Print the n last created containers (all states)", { default: -1 }),
    latest: bool("l", "Act on the latest container pod is aware of"),
    namespace: bool("Display namespace information", { ignored: true }),
    noheading: bool("Do not print headers"),
    noTrunc: bool("Display the extended information"),
    pod: bool("p", "Print the ID and name of the pod the containers are associated with"),
    quiet: bool("q", "Print the numeric IDs of the containers only"),
    size: bool("s", "Display the total file sizes", { ignored: true }),
    sort: str("Sort output by: command, created, id, image, names, runningfor, size, status", {
      default: "created",
    }),
    sync: bool("Sync container state with OCI runtime", { ignored: true }),
    watch: int("w", "Watch the ps output on an interval in seconds", { ignored: true }),
  },
  maxArgs: 0,
  async run(flags, _args, g) {
    const last = flags.latest ? 1 : flags.last;
    const list = await psList(g.root, {
      all: flags.all,
      filters: flags.filter,
      last: last >= 0 ? last : undefined,
      sort: flags.sort,
    });
    let format = flags.format ?? "";
    if (flags.noheading) format = format.replace(/^table\s*/, "");
    const podNames = flags.pod || format || list.some((r) => r.config.pod)
      ? await (await import("../../container/ps.ts")).podNameMap(g.root)
      : undefined;
    if (flags.quiet && !format) {
      output.println(...list.map((r) => flags.noTrunc ? r.config.id : r.config.id.slice(0, 12)));
    } else if (format === "json" || format === "{{json .}}") {
      output.printJson(list.map((r) => view.psJson(r, podNames)));
    } else if (format) {
      const now = Date.now();
      await output.printFormatted(
        format,
        list.map((r) => view.psRow(r, flags.noTrunc, now, podNames)),
        view.HEADERS,
      );
    } else {
      const t = view.psTable(list, flags.noTrunc, Date.now(), flags.pod ? podNames : undefined);
      output.printTable(flags.noheading ? undefined : t.headers, t.rows);
    }
    return 0;
  },
});
