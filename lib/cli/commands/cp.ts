/**
 * `pod cp`: copy files and directories between a container and the host, or a tar stream (`-`).
 * @module
 */

import { bool, defineCommand } from "../flags.ts";

export default defineCommand({
  name: "cp",
  usage: "pod cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
  summary: "Copy files/folders between a container and the local filesystem",
  flags: {
    archive: bool(
      "a",
      "Keep the uid/gid of the copied files (default: root inside the container, you on the host)",
    ),
    overwrite: bool("Allow to overwrite directories with non-directories and vice versa"),
    pause: bool("Pause the container while copying", { ignored: true, hidden: true }),
  },
  minArgs: 2,
  maxArgs: 2,
  async run(flags, args, g) {
    const { copyPaths } = await import("../../container/cp/mod.ts");
    return await copyPaths(g.root, args[0], args[1], { archive: flags.archive, overwrite: flags.overwrite });
  },
});
