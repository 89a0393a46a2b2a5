/** `pod volume exists`: exit 0 when the volume exists, 1 when not; prints nothing. @module */

import { defineCommand } from "../flags.ts";

export default defineCommand({
  name: "exists",
  usage: "pod volume exists VOLUME",
  summary: "Check if volume exists",
  minArgs: 1,
  maxArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    const { volumeExists } = await import("../../volume/volumes.ts");
    return (await volumeExists(g.root, args[0])) ? 0 : 1;
  },
});
