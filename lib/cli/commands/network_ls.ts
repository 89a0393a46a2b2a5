/** `pod network ls`: list networks (NETWORK ID, NAME, DRIVER). @module */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { out, printFormatted, println, printTable } from "../output.ts";

export default defineCommand({
  name: "ls",
  aliases: ["list"],
  usage: "pod network ls [options]",
  summary: "List networks",
  maxArgs: 0,
  flags: {
    filter: strings("f", "Provide filter values (name, id, driver, label, label!, until, dangling)"),
    format: str("Pretty-print networks to JSON or using a Go template"),
    noTrunc: bool("Do not truncate the network ID"),
    noheading: bool("Do not print headers"),
    quiet: bool("q", "display only names"),
  },
  async run(flags, _args, g) {
    const { parseNetworkFilters } = await import("../../network/filters.ts");
    const { listNetworks } = await import("../../network/store.ts");
    const filter = parseNetworkFilters(flags.filter, "ls");
    const dangling = flags.filter.some((f) => f.toLowerCase().startsWith("dangling="));
    const nets = (await listNetworks(g.root, dangling))
      .filter((n) => filter({ config: n.config, containers: n.containers.length }))
      .map((n) => n.config);
    if (flags.quiet) {
      println(...nets.map((n) => n.name));
      return 0;
    }
    const { NETWORK_HEADERS, networkRows, networkTemplateView } = await import("../views/network.ts");
    if (flags.format === "json") {
      out(JSON.stringify(nets, null, 2) + "\n");
      return 0;
    }
    if (flags.format) {
      const fmt = flags.noheading ? flags.format.replace(/^table\s*/, "") : flags.format;
      const items = nets.map((n) => networkTemplateView(n, { noTrunc: flags.noTrunc }));
      await printFormatted(fmt, items, NETWORK_HEADERS);
      return 0;
    }
    printTable(
      flags.noheading ? undefined : ["NETWORK ID", "NAME", "DRIVER"],
      networkRows(nets, flags.noTrunc),
    );
    return 0;
  },
});
