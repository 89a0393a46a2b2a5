/** `pod images`: list images in local storage, with podman's columns. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { ensureStore, splitName } from "../../store/images.ts";
import { type ImageSummary, repoDigests, summarizeAll } from "../../image/summary.ts";
import { printFormatted, printTable } from "../output.ts";
import { humanSize, timeAgo } from "../../format/units.ts";
import { UsageError } from "../../errors.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "images",
  usage: "pod images [options] [IMAGE]",
  summary: "List images in local storage",
  maxArgs: 1,
  flags: [
    { name: "all", short: "a", type: "bool", help: "Show all images (default hides intermediate images)" },
    { name: "digests", type: "bool", help: "Show digests" },
    { name: "filter", short: "f", type: "strings", help: "Filter output based on conditions provided" },
    { name: "format", type: "string", help: "Change the output format to JSON or a Go template" },
    { name: "noheading", short: "n", type: "bool", help: "Do not print column headings" },
    { name: "no-trunc", type: "bool", help: "Do not truncate output" },
    { name: "quiet", short: "q", type: "bool", help: "Display only image IDs" },
    {
      name: "sort",
      type: "string",
      default: "created",
      help: "Sort by created, id, repository, size or tag",
    },
  ],
};

/** One row of the listing: one image name (or `<none>`). */
interface Row {
  s: ImageSummary;
  repository: string;
  tag: string;
}

function filterRows(rows: Row[], filters: string[]): Row[] {
  for (const f of filters) {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    const val = eq < 0 ? "" : f.slice(eq + 1);
    switch (key) {
      case "dangling":
        rows = rows.filter((r) => (r.repository === "<none>") === (val !== "false"));
        break;
      case "reference":
        rows = rows.filter((r) => {
          const name = `${r.repository}:${r.tag}`;
          return globMatch(val, name) || globMatch(val, name.replace(/^[^/]+\//, "")) ||
            globMatch(val, r.repository.replace(/^.*\//, ""));
        });
        break;
      case "label": {
        const [k, v] = val.split("=");
        rows = rows.filter((r) => {
          const labels = r.s.config.config?.Labels ?? {};
          return k in labels && (v === undefined || labels[k] === v);
        });
        break;
      }
      case "id":
        rows = rows.filter((r) => r.s.record.id.startsWith(val));
        break;
      default:
        throw new UsageError(`invalid image filter "${f}"`);
    }
  }
  return rows;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$",
  );
  return re.test(s);
}

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  await ensureStore(g.root);
  const all = await summarizeAll(g.root);
  let rows: Row[] = [];
  for (const s of all) {
    if (s.record.names.length === 0) rows.push({ s, repository: "<none>", tag: "<none>" });
    for (const n of s.record.names) rows.push({ s, ...splitName(n) });
  }
  if (p.args[0]) {
    const want = p.args[0];
    rows = filterRows(rows, [`reference=${want.includes(":") ? want : `${want}:*`}`]);
  }
  rows = filterRows(rows, p.flags.filter as string[]);
  const sort = p.flags.sort as string;
  const cmp: Record<string, (a: Row, b: Row) => number> = {
    created: (a, b) => b.s.created.getTime() - a.s.created.getTime(),
    id: (a, b) => a.s.record.id.localeCompare(b.s.record.id),
    repository: (a, b) => a.repository.localeCompare(b.repository),
    tag: (a, b) => a.tag.localeCompare(b.tag),
    size: (a, b) => a.s.size - b.s.size,
  };
  if (!cmp[sort]) throw new UsageError(`invalid sort "${sort}": use created, id, repository, size or tag`);
  rows.sort(cmp[sort]);
  const noTrunc = p.flags["no-trunc"] as boolean;
  const id = (r: Row) => noTrunc ? `sha256:${r.s.record.id}` : r.s.record.id.slice(0, 12);

  if (p.flags.quiet) {
    const seen = new Set<string>();
    for (const r of rows) {
      if (seen.has(r.s.record.id)) continue;
      seen.add(r.s.record.id);
      console.log(id(r));
    }
    return 0;
  }
  const data = rows.map((r) => ({
    ID: id(r),
    Id: r.s.record.id,
    Repository: r.repository,
    Tag: r.tag,
    Digest: r.s.record.digest,
    Digests: repoDigests(r.s.record),
    Names: r.s.record.names,
    Created: Math.floor(r.s.created.getTime() / 1000),
    CreatedAt: r.s.created.toISOString(),
    CreatedSince: timeAgo(r.s.created),
    Size: humanSize(r.s.size),
    VirtualSize: r.s.size,
    Labels: r.s.config.config?.Labels ?? {},
    Dangling: r.s.record.names.length === 0,
    Containers: 0,
  }));
  const format = p.flags.format as string | undefined;
  if (format) {
    printFormatted(format, data, { ID: "IMAGE ID", CreatedSince: "CREATED", CreatedAt: "CREATED" });
    return 0;
  }
  const headers = [
    "REPOSITORY",
    "TAG",
    ...(p.flags.digests ? ["DIGEST"] : []),
    "IMAGE ID",
    "CREATED",
    "SIZE",
  ];
  printTable(
    p.flags.noheading ? undefined : headers,
    data.map((
      d,
    ) => [d.Repository, d.Tag, ...(p.flags.digests ? [d.Digest] : []), d.ID, d.CreatedSince, d.Size]),
  );
  return 0;
}
