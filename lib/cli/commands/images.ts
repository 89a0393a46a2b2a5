/** `pod images`: list images in local storage, with podman's columns. @module */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { ensureStore, splitName } from "../../store/images.ts";
import { summarizeAll } from "../../image/summary.ts";
import { parentIds } from "../../image/intermediate.ts";
import { printFormatted, println, printTable } from "../output.ts";
import { UsageError } from "../../errors.ts";
import { type ImageName as Row, imageRow, IMAGES_HEADERS, imagesTable } from "../views/images.ts";

/** The created time of the image `ref` names (name, short name or id prefix) among `rows`. */
function createdOf(rows: Row[], ref: string, key: string): number {
  const want = ref.replace(/^sha256:/, "");
  const hit = rows.find((r) => {
    const name = `${r.repository}:${r.tag}`;
    return name === ref || name === `${ref}:latest` || name.replace(/^[^/]+\//, "") === ref ||
      name.replace(/^[^/]+\//, "") === `${ref}:latest` || name.replace(/^.*\//, "") === ref ||
      name.replace(/^.*\//, "") === `${ref}:latest`;
  }) ?? rows.find((r) => r.s.record.id.startsWith(want));
  if (!hit) throw new UsageError(`${ref}: image not known (${key} filter)`);
  return hit.s.created.getTime();
}

function filterRows(rows: Row[], filters: string[], parents: Set<string>): Row[] {
  const all = rows;
  for (const f of filters) {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    const val = eq < 0 ? "" : f.slice(eq + 1);
    switch (key) {
      case "dangling":
        // dangling: no name and no child image (an intermediate build step is not dangling)
        rows = rows.filter((r) =>
          (r.repository === "<none>" && !parents.has(r.s.record.id)) === (val !== "false")
        );
        break;
      case "intermediate":
        // build2: nameless images with a child image (a build's steps); without -a there are none to show
        if (val !== "true" && val !== "false") {
          throw new UsageError(`invalid filter "${f}": want true or false`);
        }
        rows = rows.filter((r) =>
          (r.repository === "<none>" && parents.has(r.s.record.id)) === (val === "true")
        );
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
      case "label!": {
        const [k, v] = val.split("=");
        rows = rows.filter((r) => {
          const labels = r.s.config.config?.Labels ?? {};
          return !(k in labels && (v === undefined || labels[k] === v));
        });
        break;
      }
      case "id":
        rows = rows.filter((r) => r.s.record.id.startsWith(val));
        break;
      case "before": {
        const t = createdOf(all, val, key);
        rows = rows.filter((r) => r.s.created.getTime() < t);
        break;
      }
      case "since":
      case "after": {
        const t = createdOf(all, val, key);
        rows = rows.filter((r) => r.s.created.getTime() > t);
        break;
      }
      case "readonly":
        // every image of pod's store is writable (no additional read-only image stores)
        if (val !== "true" && val !== "false") {
          throw new UsageError(`invalid filter "${f}": want true or false`);
        }
        rows = val === "true" ? [] : rows;
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

export default defineCommand({
  name: "images",
  usage: "pod images [options] [IMAGE]",
  summary: "List images in local storage",
  maxArgs: 1,
  flags: {
    all: bool("a", "Show all images (default hides intermediate images)"),
    digests: bool("Show digests"),
    filter: strings("f", "Filter output based on conditions provided"),
    format: str("Change the output format to JSON or a Go template"),
    noheading: bool("n", "Do not print column headings"),
    noTrunc: bool("Do not truncate output"),
    quiet: bool("q", "Display only image IDs"),
    sort: str("Sort by created, id, repository, size or tag", { default: "created" }),
  },
  async run(flags, args, g) {
    await ensureStore(g.root);
    const all = await summarizeAll(g.root);
    const parents = parentIds(all.map((s) => ({ id: s.record.id, config: s.config })));
    let rows: Row[] = [];
    for (const s of all) {
      // without -a, nameless images with children (intermediate build steps) are hidden, as podman
      if (s.record.names.length === 0 && (flags.all || !parents.has(s.record.id))) {
        rows.push({ s, repository: "<none>", tag: "<none>" });
      }
      for (const n of s.record.names) rows.push({ s, ...splitName(n) });
    }
    if (args[0]) {
      const want = args[0];
      rows = filterRows(rows, [`reference=${want.includes(":") ? want : `${want}:*`}`], parents);
    }
    rows = filterRows(rows, flags.filter, parents);
    const cmp: Record<string, (a: Row, b: Row) => number> = {
      created: (a, b) => b.s.created.getTime() - a.s.created.getTime(),
      id: (a, b) => a.s.record.id.localeCompare(b.s.record.id),
      repository: (a, b) => a.repository.localeCompare(b.repository),
      tag: (a, b) => a.tag.localeCompare(b.tag),
      size: (a, b) => a.s.size - b.s.size,
    };
    const sort = cmp[flags.sort];
    if (!sort) throw new UsageError(`invalid sort "${flags.sort}": use created, id, repository, size or tag`);
    rows.sort(sort);
    const data = rows.map((r) => imageRow(r, flags.noTrunc));
    if (flags.quiet) {
      println(...new Set(data.map((d) => d.ID)));
      return 0;
    }
    if (flags.format) {
      const fmt = flags.noheading ? flags.format.replace(/^table\s*/, "") : flags.format;
      await printFormatted(fmt, data, IMAGES_HEADERS);
      return 0;
    }
    const t = imagesTable(data, flags.digests);
    printTable(flags.noheading ? undefined : t.headers, t.rows);
    return 0;
  },
});
