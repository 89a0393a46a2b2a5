/** `pod rmi`: remove images (a name, or the whole image), then unreferenced blobs. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { ensureStore, listImages } from "../../store/images.ts";
import { collectGarbage } from "../../store/gc.ts";
import { PodError, UsageError } from "../../errors.ts";
import { removeImage, RMI_NOT_FOUND } from "../../image/remove.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "rmi",
  usage: "pod rmi [options] IMAGE [IMAGE...]",
  summary: "Remove one or more images from local storage",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Remove all images" },
    {
      name: "force",
      short: "f",
      type: "bool",
      help: "Force removal of the image and any containers using it",
    },
    { name: "ignore", short: "i", type: "bool", help: "Ignore errors if a specified image does not exist" },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const all = p.flags.all as boolean;
  const force = p.flags.force as boolean;
  if (!all && p.args.length === 0) throw new UsageError("image name or ID must be specified");
  if (all && p.args.length) {
    throw new UsageError("when using the --all switch, you may not pass any images names or IDs");
  }
  await ensureStore(g.root);
  const targets = all ? (await listImages(g.root)).map((i) => i.id) : p.args;
  const removeContainer = async (id: string) => {
    const { removeById } = await import("../../container/lifecycle.ts");
    await removeById(g.root, id, { force: true, timeout: 0 });
  };
  let code = 0;
  for (const arg of targets) {
    try {
      const r = await removeImage(g.root, arg, { force, byId: all, removeContainer });
      for (const n of r.untagged) console.log(`Untagged: ${n}`);
      if (r.deleted) console.log(`Deleted: ${r.deleted}`);
    } catch (e) {
      if (!(e instanceof PodError)) throw e;
      if (e.exitCode === RMI_NOT_FOUND && p.flags.ignore) continue;
      console.error(`Error: ${e.message.split("\n")[0]}`);
      code = code || e.exitCode;
    }
  }
  await collectGarbage(g.root);
  const { pruneTrees } = await import("../../container/trees_gc.ts");
  await pruneTrees(g.root);
  return code;
}
