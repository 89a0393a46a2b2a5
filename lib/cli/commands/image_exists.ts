/** `pod image exists`: exit 0 when the image is in the store, 1 when not; prints nothing. @module */

import { defineCommand } from "../flags.ts";
import { findImage } from "../../store/images.ts";
import { pathExists, storePaths } from "../../store/paths.ts";

export default defineCommand({
  name: "exists",
  usage: "pod image exists IMAGE",
  summary: "Check if an image exists in local storage",
  minArgs: 1,
  maxArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    if (!(await pathExists(storePaths(g.root).index))) return 1;
    return (await findImage(g.root, args[0])) ? 0 : 1;
  },
});
