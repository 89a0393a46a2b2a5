/** `pod tag`: add names to an image. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { ensureStore, resolveImage, tagImage } from "../../store/images.ts";
import { PodError } from "../../errors.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "tag",
  usage: "pod tag IMAGE TARGET_NAME [TARGET_NAME...]",
  summary: "Add an additional name to a local image",
  minArgs: 2,
  flags: [],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  await ensureStore(g.root);
  const img = await resolveImage(g.root, p.args[0]);
  for (const name of p.args.slice(1)) {
    try {
      await tagImage(g.root, img, name);
    } catch (e) {
      if (e instanceof PodError) throw e;
      throw new PodError((e as Error).message);
    }
  }
  return 0;
}
