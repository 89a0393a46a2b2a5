/** `pod volume export`: a volume's content as a tar archive. @module */

import { defineCommand, str } from "../flags.ts";
import { UsageError } from "../../errors.ts";

export default defineCommand({
  name: "export",
  usage: "pod volume export [options] VOLUME",
  summary: "Export volumes",
  minArgs: 1,
  maxArgs: 1,
  flags: { output: str("o", "Write to a specified file (default: stdout, which must be redirected)") },
  async run(flags, args, g) {
    const { output } = flags;
    if (!output && Deno.stdout.isTerminal()) {
      throw new UsageError("cannot write to terminal, use command-line redirection or the --output flag");
    }
    const { exportVolume } = await import("../../volume/archive.ts");
    const { writeTarStream } = await import("../archive_out.ts");
    const x = await exportVolume(g.root, args[0]);
    await writeTarStream(output, x);
    return 0;
  },
});
