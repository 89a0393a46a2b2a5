/** `pod system check`: verify every blob and image in the store; `--repair` removes what is broken. @module */

import { bool, defineCommand } from "../flags.ts";
import { PodError } from "../../errors.ts";
import { println } from "../output.ts";
import { ensureStore } from "../../store/images.ts";
import { checkStore } from "../../image/check.ts";
import { collectGarbage } from "../../store/gc.ts";

export default defineCommand({
  name: "check",
  usage: "pod system check [options]",
  summary: "Check the store for consistency (blob digests, image references)",
  maxArgs: 0,
  flags: {
    repair: bool("r", "Remove corrupt blobs and the images that need them"),
    quick: bool("q", "Accepted for podman compatibility", { ignored: true }),
  },
  /** Exit 0 when the store is whole (or was repaired), else 125. */
  async run(flags, _args, g) {
    await ensureStore(g.root);
    const r = await checkStore(g.root, flags.repair);
    println(...r.corrupt.map((d) => `corrupt blob: ${d} (content does not match its digest)`));
    println(
      ...r.brokenImages.map((b) =>
        `broken image: ${b.image} (${b.id.slice(0, 12)}): blob ${b.blob} is ${b.why}`
      ),
    );
    if (flags.repair) {
      println(...r.removed.map((x) => `removed ${x}`));
      await collectGarbage(g.root);
      const { pruneTrees } = await import("../../container/trees_gc.ts");
      const n = await pruneTrees(g.root);
      if (n) println(`removed ${n} unused image tree${n === 1 ? "" : "s"}`);
    }
    const broken = r.corrupt.length + r.brokenImages.length;
    println(
      `${r.blobs} blobs checked, ${broken ? `${broken} problem${broken === 1 ? "" : "s"}` : "no problems"}`,
    );
    if (broken && !flags.repair) {
      throw new PodError("the store has problems: run `pod system check --repair` to remove what is broken");
    }
    return 0;
  },
});
