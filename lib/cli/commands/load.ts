/** `pod load`: images from a docker-archive, an oci-archive or an OCI layout directory. @module */

import { writeEvents } from "../../store/events.ts";
import { bool, defineCommand, str } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { println } from "../output.ts";

export default defineCommand({
  name: "load",
  usage: "pod load [options]",
  summary: "Load image(s) from a tar archive",
  maxArgs: 0,
  flags: {
    input: str("i", "Read from specified archive file (default: stdin)"),
    quiet: bool("q", "Suppress the output"),
  },
  async run(flags, _args, g) {
    const { input } = flags;
    if (!input && Deno.stdin.isTerminal()) {
      throw new UsageError("cannot read an archive from a terminal", "Use -i FILE or redirect stdin");
    }
    const { loadImages, readerChunks } = await import("../../image/load.ts");
    const loaded = await loadImages(g.root, input ? { path: input } : { stream: readerChunks(Deno.stdin) });
    writeEvents(g.root, { Name: input ?? "", Status: "loadfromarchive", Type: "image" });
    // like podman, the names are printed even with --quiet (it only silences progress)
    for (const img of loaded) {
      println(...(img.names.length ? img.names : [`sha256:${img.id}`]).map((n) => `Loaded image: ${n}`));
    }
    return 0;
  },
});
