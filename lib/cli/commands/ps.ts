/**
 * `pod ps`: list containers with podman's columns, filters, sorting and `--format`.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "ps",
  aliases: ["ls", "list"],
  usage: "pod ps [options]",
  summary: "List containers",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      help: "Show all the containers, default is only running containers",
    },
    {
      name: "external",
      type: "bool",
      help: "Show containers in storage not controlled by pod",
      ignored: true,
    },
    { name: "filter", short: "f", type: "strings", help: "Filter output based on conditions given" },
    { name: "format", type: "string", help: "Pretty-print containers to JSON or using a Go template" },
    {
      name: "last",
      short: "n",
      type: "int",
      default: -1,
      help: "Print the n last created containers (all states)",
    },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    { name: "namespace", type: "bool", help: "Display namespace information", ignored: true },
    { name: "no-trunc", type: "bool", help: "Display the extended information" },
    {
      name: "pod",
      short: "p",
      type: "bool",
      help: "Print the ID and name of the pod the containers are associated with",
      ignored: true,
    },
    { name: "quiet", short: "q", type: "bool", help: "Print the numeric IDs of the containers only" },
    { name: "size", short: "s", type: "bool", help: "Display the total file sizes", ignored: true },
    {
      name: "sort",
      type: "string",
      default: "created",
      help: "Sort output by: command, created, id, image, names, runningfor, size, status",
    },
    { name: "sync", type: "bool", help: "Sync container state with OCI runtime", ignored: true },
    {
      name: "watch",
      short: "w",
      type: "int",
      help: "Watch the ps output on an interval in seconds",
      ignored: true,
    },
  ],
  maxArgs: 0,
};

/** podman's `ps` column headers by template field (also the `table` headers of `--format`). */
export const HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Image: "IMAGE",
  ImageID: "IMAGE ID",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  CreatedHuman: "CREATED",
  RunningFor: "CREATED",
  Status: "STATUS",
  State: "STATE",
  Names: "NAMES",
  Ports: "PORTS",
  Labels: "LABELS",
  Mounts: "MOUNTS",
  Pid: "PID",
  ExitCode: "EXIT CODE",
  Size: "SIZE",
  Networks: "NETWORKS",
  Pod: "POD ID",
  PodName: "PODNAME",
};

function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.join(" ")}]`;
  if (v && typeof v === "object") return `map[${Object.entries(v).map(([k, x]) => `${k}:${x}`).join(" ")}]`;
  return String(v ?? "");
}

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { psList, psRow, psJson, tabulate } = await import("../../container/ps.ts");
  const f = p.flags;
  const last = f.latest ? 1 : (f.last as number);
  const list = await psList(g.root, {
    all: f.all as boolean,
    filters: f.filter as string[],
    last: last >= 0 ? last : undefined,
    sort: f.sort as string,
  });
  const noTrunc = f["no-trunc"] as boolean;
  const format = (f.format as string | undefined) ?? "";
  const out: string[] = [];
  if (f.quiet && !format) {
    for (const r of list) out.push(noTrunc ? r.config.id : r.config.id.slice(0, 12));
    if (out.length) console.log(out.join("\n"));
    return 0;
  }
  if (format === "json" || format === "{{json .}}") {
    console.log(JSON.stringify(list.map(psJson), null, 4));
    return 0;
  }
  const now = Date.now();
  if (format) {
    const { renderTemplateRows } = await import("../../format/template/mod.ts");
    const rows = list.map((r) => psRow(r, noTrunc, now));
    const text = renderTemplateRows(format, rows, { headers: HEADERS });
    Deno.stdout.writeSync(new TextEncoder().encode(text));
    return 0;
  }
  const cols = ["ID", "Image", "Command", "CreatedHuman", "Status", "Ports", "Names"];
  const cells = [cols.map((c) => HEADERS[c])];
  for (const r of list) {
    const row = psRow(r, noTrunc, now);
    cells.push(cols.map((c) => show(row[c])));
  }
  Deno.stdout.writeSync(new TextEncoder().encode(tabulate(cells)));
  return 0;
}
