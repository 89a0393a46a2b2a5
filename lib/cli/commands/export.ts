/** `pod export`: a container's file system as a tar archive. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "export",
  usage: "pod export [options] CONTAINER",
  summary: "Export container's filesystem contents as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: [{
    name: "output",
    short: "o",
    type: "string",
    help: "Write to a specified file (default: stdout, which must be redirected)",
  }],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const output = p.flags.output as string | undefined;
  if (!output && Deno.stdout.isTerminal()) {
    throw new UsageError("refusing to export to a terminal", "Use -o FILE or redirect stdout");
  }
  const { exportContainer } = await import("../../image/export.ts");
  const { writeFileFromChunks } = await import("../../image/save.ts");
  const x = await exportContainer(g.root, p.args[0]);
  // a failure of tar fails the stream before its end, so no half archive is renamed into place
  const chunks = (async function* () {
    yield* x.chunks;
    await x.done;
  })();
  if (output) {
    await writeFileFromChunks(output, chunks);
  } else {
    try {
      for await (const c of chunks) {
        let off = 0;
        while (off < c.length) off += await Deno.stdout.write(c.subarray(off));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    }
  }
  return 0;
}
