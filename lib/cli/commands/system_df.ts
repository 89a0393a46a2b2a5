/**
 * `pod system df`: disk usage of images, containers and volumes (podman's TYPE TOTAL ACTIVE SIZE
 * RECLAIMABLE table; `-v` per object; `--format` Go templates over the rows).
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "df",
  usage: "pod system df [options]",
  summary: "Show pod related system information",
  flags: [
    { name: "verbose", short: "v", type: "bool", help: "Show detailed information on disk usage" },
    { name: "format", type: "string", help: "Pretty-print with a Go template (or json)" },
  ],
  maxArgs: 0,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { systemDf } = await import("../../container/prune.ts");
  const { printFormatted, printTable, writeOut } = await import("../output.ts");
  const { humanSize } = await import("../../format/units.ts");
  const { rows, details } = await systemDf(g.root);
  const format = p.flags.format as string | undefined;
  if (format) {
    printFormatted(format, rows, {
      Type: "TYPE",
      Total: "TOTAL",
      Active: "ACTIVE",
      Size: "SIZE",
      Reclaimable: "RECLAIMABLE",
    });
    return 0;
  }
  const h = (n: number) => humanSize(n, 3).replace(" ", "");
  if (!p.flags.verbose) {
    printTable(
      ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
      rows.map((r) => [r.Type, String(r.Total), String(r.Active), r.Size, r.Reclaimable]),
    );
    return 0;
  }
  const { humanDuration } = await import("../../format/units.ts");
  const now = Date.now();
  writeOut("Images space usage:\n\n");
  printTable(
    ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"],
    details.images.map((i) => [
      i.repository,
      i.tag,
      i.id.slice(0, 12),
      `${humanDuration(now - i.created.getTime())} ago`,
      h(i.size),
      h(i.shared),
      h(i.unique),
      String(i.containers),
    ]),
  );
  writeOut("\nContainers space usage:\n\n");
  printTable(
    ["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"],
    details.containers.map((c) => [
      c.id.slice(0, 12),
      c.image,
      JSON.stringify(c.command.length > 20 ? c.command.slice(0, 17) + "..." : c.command),
      String(c.volumes),
      h(c.size),
      c.created,
      c.status,
      c.name,
    ]),
  );
  writeOut("\nLocal Volumes space usage:\n\n");
  printTable(
    ["VOLUME NAME", "LINKS", "SIZE"],
    details.volumes.map((v) => [v.name, String(v.links), h(v.size)]),
  );
  return 0;
}
