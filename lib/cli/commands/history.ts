/** `pod history`: the layers and build steps of an image. @module */

import { bool, defineCommand, str } from "../flags.ts";
import { ensureStore, resolveImage } from "../../store/images.ts";
import { summarize } from "../../image/summary.ts";
import { printFormatted, println, printTable } from "../output.ts";
import { HISTORY_COLUMNS, HISTORY_HEADERS, historyRows } from "../views/history.ts";

export default defineCommand({
  name: "history",
  usage: "pod history [options] IMAGE",
  summary: "Show history of a specified image",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    format: str("Change the output to JSON or a Go template"),
    human: bool("H", "Display sizes and dates in human readable format", { default: true }),
    noTrunc: bool("Do not truncate the output"),
    quiet: bool("q", "Display the numeric IDs only"),
  },
  async run(flags, args, g) {
    await ensureStore(g.root);
    const s = await summarize(g.root, await resolveImage(g.root, args[0]));
    const rows = historyRows(s, { noTrunc: flags.noTrunc, human: flags.human });
    if (flags.quiet) println(...rows.map((r) => r.ID));
    else if (flags.format) await printFormatted(flags.format, rows, HISTORY_HEADERS);
    else printTable([...HISTORY_COLUMNS], rows.map((r) => [r.ID, r.Created, r.CreatedBy, r.Size, r.Comment]));
    return 0;
  },
});
