/** `pod save`: write images to a docker-archive or oci-archive (a file, or stdout when it is not a terminal). @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "save",
  usage: "pod save [options] IMAGE [IMAGE...]",
  summary: "Save image(s) to an archive",
  minArgs: 1,
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      help: "Write to a specified file (default: stdout, which must be redirected)",
    },
    {
      name: "format",
      type: "string",
      default: "docker-archive",
      help: "Save image to docker-archive, oci-archive or oci-dir",
    },
    {
      name: "multi-image-archive",
      short: "m",
      type: "bool",
      help:
        "Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)",
    },
    { name: "quiet", short: "q", type: "bool", help: "Suppress the output" },
    {
      name: "compress",
      type: "bool",
      help: "Compress tarball image layers (not supported)",
      hidden: true,
      ignored: true,
    },
    {
      name: "uncompressed",
      type: "bool",
      help: "Accept uncompressed layers when copying OCI images",
      ignored: true,
    },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const format = p.flags.format as string;
  if (!["docker-archive", "oci-archive", "oci-dir"].includes(format)) {
    throw new UsageError(`unsupported format "${format}" (docker-archive, oci-archive, oci-dir)`);
  }
  const multi = p.flags["multi-image-archive"] === true;
  if (multi && format !== "docker-archive") {
    throw new UsageError("--multi-image-archive needs --format docker-archive");
  }
  const output = p.flags.output as string | undefined;
  if (!output && (format === "oci-dir" || Deno.stdout.isTerminal())) {
    throw new UsageError(
      format === "oci-dir" ? "--format oci-dir needs --output DIR" : "refusing to save to a terminal",
      "Use -o FILE or redirect stdout",
    );
  }
  await ensureStore(g.root);
  const save = await import("../../image/save.ts");
  const items = await save.resolveSaveItems(g.root, p.args, multi);
  if (format === "oci-dir") {
    await save.writeOciDir(g.root, output!, items);
    return 0;
  }
  const chunks = save.saveArchive(g.root, items, format as "docker-archive" | "oci-archive");
  if (output) {
    await save.writeFileFromChunks(output, chunks);
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
