/** `pod load`: images from a docker-archive, an oci-archive or an OCI layout directory. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { writeOut } from "../output.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "load",
  usage: "pod load [options]",
  summary: "Load image(s) from a tar archive",
  maxArgs: 0,
  flags: [
    { name: "input", short: "i", type: "string", help: "Read from specified archive file (default: stdin)" },
    { name: "quiet", short: "q", type: "bool", help: "Suppress the output" },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const input = p.flags.input as string | undefined;
  if (!input && Deno.stdin.isTerminal()) {
    throw new UsageError("cannot read an archive from a terminal", "Use -i FILE or redirect stdin");
  }
  const { loadImages, readerChunks } = await import("../../image/load.ts");
  const loaded = await loadImages(g.root, input ? { path: input } : { stream: readerChunks(Deno.stdin) });
  // like podman, the names are printed even with --quiet (it only silences progress)
  for (const img of loaded) {
    if (!img.names.length) writeOut(`Loaded image: sha256:${img.id}\n`);
    for (const n of img.names) writeOut(`Loaded image: ${n}\n`);
  }
  return 0;
}
