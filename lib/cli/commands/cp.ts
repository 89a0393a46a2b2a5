/**
 * `pod cp`: copy files and directories between a container and the host, or a tar stream (`-`).
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "cp",
  usage: "pod cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
  summary: "Copy files/folders between a container and the local filesystem",
  flags: [
    {
      name: "archive",
      short: "a",
      type: "bool",
      help: "Keep the uid/gid of the copied files (default: root inside the container, you on the host)",
    },
    {
      name: "overwrite",
      type: "bool",
      help: "Allow to overwrite directories with non-directories and vice versa",
    },
    { name: "pause", type: "bool", help: "Pause the container while copying", ignored: true, hidden: true },
  ],
  minArgs: 2,
  maxArgs: 2,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { copyPaths } = await import("../../container/cp/mod.ts");
  return await copyPaths(g.root, p.args[0], p.args[1], {
    archive: p.flags.archive as boolean,
    overwrite: p.flags.overwrite as boolean,
  });
}
