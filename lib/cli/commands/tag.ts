/** `pod tag`: add names to an image. @module */

import { writeEvents } from "../../store/events.ts";
import { defineCommand } from "../flags.ts";
import { ensureStore, resolveImage, tagImage } from "../../store/images.ts";
import { PodError } from "../../errors.ts";

export default defineCommand({
  name: "tag",
  usage: "pod tag IMAGE TARGET_NAME [TARGET_NAME...]",
  summary: "Add an additional name to a local image",
  minArgs: 2,
  flags: {},
  async run(_flags, args, g) {
    await ensureStore(g.root);
    const img = await resolveImage(g.root, args[0]);
    for (const name of args.slice(1)) {
      try {
        await tagImage(g.root, img, name);
        writeEvents(g.root, { ID: img.id, Name: name, Status: "tag", Type: "image" });
      } catch (e) {
        if (e instanceof PodError) throw e;
        throw new PodError(e instanceof Error ? e.message : String(e));
      }
    }
    return 0;
  },
});
