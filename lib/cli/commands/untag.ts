/** `pod untag`: remove names from an image (all of them when none is given); the image stays. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { NotFoundError, UsageError } from "../../errors.ts";
import { ensureStore, resolveImage, untagImage } from "../../store/images.ts";
import { parseReference } from "../../oci/reference.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "untag",
  usage: "pod untag IMAGE [IMAGE...]",
  summary: "Remove a name from a local image",
  minArgs: 1,
  flags: [],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  await ensureStore(g.root);
  const img = await resolveImage(g.root, p.args[0]);
  const names = p.args.length > 1
    ? p.args.slice(1).map((n) => {
      try {
        return parseReference(n).toString();
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    })
    : [...img.names];
  for (const n of names) {
    if (!img.names.includes(n)) throw new NotFoundError(`${n}: tag not known`);
    await untagImage(g.root, n, true);
  }
  return 0;
}
