/** `pod image exists`: exit 0 when the image is in the store, 1 when not; prints nothing. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { findImage } from "../../store/images.ts";
import { pathExists, storePaths } from "../../store/paths.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "exists",
  usage: "pod image exists IMAGE",
  summary: "Check if an image exists in local storage",
  minArgs: 1,
  maxArgs: 1,
  flags: [],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  if (!(await pathExists(storePaths(g.root).index))) return 1;
  return (await findImage(g.root, p.args[0])) ? 0 : 1;
}
