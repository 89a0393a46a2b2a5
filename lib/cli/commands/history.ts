/** `pod history`: the layers and build steps of an image. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { ensureStore, resolveImage } from "../../store/images.ts";
import { summarize } from "../../image/summary.ts";
import { printFormatted, printTable } from "../output.ts";
import { humanSize, timeAgo } from "../../format/units.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "history",
  usage: "pod history [options] IMAGE",
  summary: "Show history of a specified image",
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: "format", type: "string", help: "Change the output to JSON or a Go template" },
    {
      name: "human",
      short: "H",
      type: "bool",
      default: true,
      help: "Display sizes and dates in human readable format",
    },
    { name: "no-trunc", type: "bool", help: "Do not truncate the output" },
    { name: "quiet", short: "q", type: "bool", help: "Display the numeric IDs only" },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  await ensureStore(g.root);
  const s = await summarize(g.root, await resolveImage(g.root, p.args[0]));
  const history = s.config.history?.length ? s.config.history : s.manifest.layers.map(() => ({
    created: s.config.created,
    created_by: "",
    empty_layer: false,
    comment: "",
  }));
  let layer = s.manifest.layers.length;
  const noTrunc = p.flags["no-trunc"] as boolean;
  // newest first, like podman; the top entry carries the image ID, the rest are <missing>
  const rows = [...history].reverse().map((h, i) => {
    const size = h.empty_layer ? 0 : s.manifest.layers[--layer]?.size ?? 0;
    const created = h.created ? new Date(h.created) : s.created;
    const by = h.created_by ?? "";
    return {
      ID: i === 0 ? (noTrunc ? s.record.id : s.record.id.slice(0, 12)) : "<missing>",
      Created: p.flags.human ? timeAgo(created) : created.toISOString(),
      CreatedAt: created.toISOString(),
      CreatedBy: noTrunc || by.length <= 45 ? by : by.slice(0, 42) + "...",
      Size: p.flags.human ? humanSize(size) : String(size),
      Comment: h.comment ?? "",
    };
  });
  if (p.flags.quiet) {
    for (const r of rows) console.log(r.ID);
    return 0;
  }
  if (p.flags.format) {
    printFormatted(p.flags.format as string, rows, { CreatedBy: "CREATED BY" });
    return 0;
  }
  printTable(
    ["ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
    rows.map((r) => [r.ID, r.Created, r.CreatedBy, r.Size, r.Comment]),
  );
  return 0;
}
