/** `pod export`: a container's file system as a tar archive. @module */

import { defineCommand, str } from "../flags.ts";
import { UsageError } from "../../errors.ts";

export default defineCommand({
  name: "export",
  usage: "pod export [options] CONTAINER",
  summary: "Export container's filesystem contents as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: { output: str("o", "Write to a specified file (default: stdout, which must be redirected)") },
  async run(flags, args, g) {
    const { output } = flags;
    if (!output && Deno.stdout.isTerminal()) {
      throw new UsageError("refusing to export to a terminal", "Use -o FILE or redirect stdout");
    }
    const { exportContainer } = await import("../../image/export.ts");
    const { writeTarStream } = await import("../archive_out.ts");
    const x = await exportContainer(g.root, args[0]);
    await writeTarStream(output, x);
    return 0;
  },
});
