/** `pod system check`: verify every blob and image in the store; `--repair` removes what is broken. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { ensureStore } from "../../store/images.ts";
import { checkStore } from "../../image/check.ts";
import { collectGarbage } from "../../store/gc.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "check",
  usage: "pod system check [options]",
  summary: "Check the store for consistency (blob digests, image references)",
  maxArgs: 0,
  flags: [
    { name: "repair", short: "r", type: "bool", help: "Remove corrupt blobs and the images that need them" },
    { name: "quick", short: "q", type: "bool", help: "Accepted for podman compatibility", ignored: true },
  ],
};

/** Runs the command: exit 0 when the store is whole (or was repaired), else 125. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  await ensureStore(g.root);
  const repair = p.flags.repair as boolean;
  const r = await checkStore(g.root, repair);
  for (const d of r.corrupt) console.log(`corrupt blob: ${d} (content does not match its digest)`);
  for (const b of r.brokenImages) {
    console.log(`broken image: ${b.image} (${b.id.slice(0, 12)}): blob ${b.blob} is ${b.why}`);
  }
  if (repair) {
    for (const x of r.removed) console.log(`removed ${x}`);
    await collectGarbage(g.root);
    const { pruneTrees } = await import("../../container/trees_gc.ts");
    const n = await pruneTrees(g.root);
    if (n) console.log(`removed ${n} unused image tree${n === 1 ? "" : "s"}`);
  }
  const broken = r.corrupt.length + r.brokenImages.length;
  console.log(
    `${r.blobs} blobs checked, ${broken ? `${broken} problem${broken === 1 ? "" : "s"}` : "no problems"}`,
  );
  if (broken && !repair) {
    console.error("Error: the store has problems: run `pod system check --repair` to remove what is broken");
    return 125;
  }
  return 0;
}
