/** `pod diff`: changed files of a container (or of an image's top layer). @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";
import { printJson, writeOut } from "../output.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "diff",
  usage: "pod diff [options] CONTAINER|IMAGE",
  summary: "Display the changes to the object's file system",
  minArgs: 1,
  maxArgs: 1,
  flags: [{ name: "format", type: "string", help: "Change the output format (json)" }],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const format = p.flags.format as string | undefined;
  if (format !== undefined && format !== "json") {
    throw new UsageError(`unsupported format "${format}" (json)`);
  }
  await ensureStore(g.root);
  const { diffOf } = await import("../../image/diff.ts");
  const changes = await diffOf(g.root, p.args[0]);
  if (format === "json") {
    const pick = (k: string) => changes.filter((c) => c.kind === k).map((c) => c.path);
    const out: Record<string, string[]> = {};
    if (pick("C").length) out.changed = pick("C");
    if (pick("A").length) out.added = pick("A");
    if (pick("D").length) out.deleted = pick("D");
    printJson(out);
    return 0;
  }
  writeOut(changes.map((c) => `${c.kind} ${c.path}\n`).join(""));
  return 0;
}
