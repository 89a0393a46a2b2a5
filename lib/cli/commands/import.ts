/** `pod import`: create an image from a root file system tarball. @module */

import { writeEvents } from "../../store/events.ts";
import { bool, defineCommand, str, strings } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { err, println } from "../output.ts";

export default defineCommand({
  name: "import",
  usage: "pod import [options] PATH|URL|- [REFERENCE]",
  summary: "Import a tarball to create a filesystem image",
  minArgs: 1,
  maxArgs: 2,
  flags: {
    change: strings("c", "Apply the following possible instructions to the created image (default [])"),
    message: str("m", "Set commit message for imported image"),
    os: str("Set the OS of the imported image"),
    arch: str("Set the architecture of the imported image"),
    variant: str("Set the variant of the imported image"),
    quiet: bool("q", "Suppress output"),
  },
  async run(flags, args, g) {
    const what = args[0];
    if (what === "-" && Deno.stdin.isTerminal()) {
      throw new UsageError("cannot read a tarball from a terminal");
    }
    const { importImage } = await import("../../image/import.ts");
    const { readerChunks } = await import("../../image/load.ts");
    const src = what === "-"
      ? { stream: readerChunks(Deno.stdin) }
      : /^https?:\/\//.test(what)
      ? { url: what }
      : { path: what };
    if (!flags.quiet) err("Getting image source signatures\n");
    const r = await importImage(g.root, src, {
      name: args[1],
      changes: flags.change,
      message: flags.message,
      os: flags.os,
      arch: flags.arch,
      variant: flags.variant,
    });
    if (!flags.quiet) err("Writing manifest to image destination\n");
    writeEvents(g.root, { ID: r.id, Name: args[1] ?? "", Status: "import", Type: "image" });
    println(`sha256:${r.id}`);
    return 0;
  },
});
