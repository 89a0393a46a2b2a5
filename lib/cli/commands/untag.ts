/** `pod untag`: remove names from an image (all of them when none is given); the image stays. @module */

import { writeEvents } from "../../store/events.ts";
import { defineCommand } from "../flags.ts";
import { NotFoundError, UsageError } from "../../errors.ts";
import { ensureStore, resolveImage, untagImage } from "../../store/images.ts";
import { parseReference } from "../../oci/reference.ts";

export default defineCommand({
  name: "untag",
  usage: "pod untag IMAGE [IMAGE...]",
  summary: "Remove a name from a local image",
  minArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    await ensureStore(g.root);
    const img = await resolveImage(g.root, args[0]);
    const names = args.length > 1
      ? args.slice(1).map((n) => {
        try {
          return parseReference(n).toString();
        } catch (e) {
          throw new UsageError(e instanceof Error ? e.message : String(e));
        }
      })
      : [...img.names];
    for (const n of names) {
      if (!img.names.includes(n)) throw new NotFoundError(`${n}: tag not known`);
      await untagImage(g.root, n, true);
      writeEvents(g.root, { ID: img.id, Name: n, Status: "untag", Type: "image" });
    }
    return 0;
  },
});
