/** `pod rmi`: remove images (a name, or the whole image), then unreferenced blobs. @module */

import { writeEvents } from "../../store/events.ts";
import { bool, defineCommand } from "../flags.ts";
import { ensureStore, listImages } from "../../store/images.ts";
import { collectGarbage } from "../../store/gc.ts";
import { PodError, UsageError } from "../../errors.ts";
import { removeImage, RMI_NOT_FOUND } from "../../image/remove.ts";
import { printError, println } from "../output.ts";

export default defineCommand({
  name: "rmi",
  usage: "pod rmi [options] IMAGE [IMAGE...]",
  summary: "Remove one or more images from local storage",
  flags: {
    all: bool("a", "Remove all images"),
    force: bool("f", "Force removal of the image and any containers using it"),
    ignore: bool("i", "Ignore errors if a specified image does not exist"),
  },
  async run(flags, args, g) {
    const { all, force } = flags;
    if (!all && args.length === 0) {
      throw new UsageError("image name or ID must be specified", "See 'pod rmi --help'");
    }
    if (all && args.length) {
      throw new UsageError(
        "when using the --all switch, you may not pass any images names or IDs",
        "See 'pod rmi --help'",
      );
    }
    await ensureStore(g.root);
    const targets = all ? (await listImages(g.root)).map((i) => i.id) : args;
    const removeContainer = async (id: string) => {
      const { removeById } = await import("../../container/lifecycle.ts");
      await removeById(g.root, id, { force: true, timeout: 0 });
    };
    let code = 0;
    for (const arg of targets) {
      try {
        const r = await removeImage(g.root, arg, { force, byId: all, removeContainer });
        writeEvents(
          g.root,
          ...r.untagged.map((n) => ({
            ID: r.deleted ?? arg,
            Name: n,
            Status: "untag",
            Type: "image" as const,
          })),
          ...(r.deleted ? [{ ID: r.deleted, Status: "remove", Type: "image" as const }] : []),
        );
        println(...r.untagged.map((n) => `Untagged: ${n}`), ...(r.deleted ? [`Deleted: ${r.deleted}`] : []));
      } catch (e) {
        if (!(e instanceof PodError)) throw e;
        if (e.exitCode === RMI_NOT_FOUND && flags.ignore) continue;
        printError(e);
        code = code || e.exitCode;
      }
    }
    await collectGarbage(g.root);
    const { pruneTrees } = await import("../../container/trees_gc.ts");
    await pruneTrees(g.root);
    return code;
  },
});
