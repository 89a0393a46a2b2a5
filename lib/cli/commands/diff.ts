/** `pod diff`: changed files of a container (or of an image's top layer). @module */

import { defineCommand, str } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";
import { out, printJson } from "../output.ts";

export default defineCommand({
  name: "diff",
  usage: "pod diff [options] CONTAINER|IMAGE",
  summary: "Display the changes to the object's file system",
  minArgs: 1,
  maxArgs: 1,
  flags: { format: str("Change the output format (json)") },
  async run(flags, args, g) {
    const { format } = flags;
    if (format !== undefined && format !== "json") {
      throw new UsageError(`unsupported format "${format}" (json)`);
    }
    await ensureStore(g.root);
    const { diffOf } = await import("../../image/diff.ts");
    const changes = await diffOf(g.root, args[0]);
    if (format === "json") {
      const pick = (k: string) => changes.filter((c) => c.kind === k).map((c) => c.path);
      const doc: Record<string, string[]> = {};
      if (pick("C").length) doc.changed = pick("C");
      if (pick("A").length) doc.added = pick("A");
      if (pick("D").length) doc.deleted = pick("D");
      printJson(doc);
      return 0;
    }
    out(changes.map((c) => `${c.kind} ${c.path}\n`).join(""));
    return 0;
  },
});
