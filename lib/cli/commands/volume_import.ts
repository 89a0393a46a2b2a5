/** `pod volume import`: extract a tarball (file or `-`) into an existing volume, through the unpacker. @module */

import { defineCommand } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";

export default defineCommand({
  name: "import",
  usage: "pod volume import VOLUME [SOURCE]",
  summary: "Import a tarball contents into a volume",
  minArgs: 2,
  maxArgs: 2,
  flags: {},
  async run(_flags, args, g) {
    const [name, src] = args;
    const { importVolume } = await import("../../volume/archive.ts");
    let stream: ReadableStream<Uint8Array>;
    if (src === "-") {
      if (Deno.stdin.isTerminal()) throw new UsageError("cannot read a tarball from a terminal");
      stream = Deno.stdin.readable;
    } else {
      try {
        stream = (await Deno.open(src, { read: true })).readable;
      } catch (e) {
        throw new PodError(
          `open ${src}: ${e instanceof Deno.errors.NotFound ? "no such file or directory" : e}`,
          {
            code: "NOT_FOUND",
          },
        );
      }
    }
    await importVolume(g.root, name, stream);
    return 0;
  },
});
