/** `pod save`: write images to a docker-archive or oci-archive (a file, or stdout when it is not a terminal). @module */

import { writeEvents } from "../../store/events.ts";
import { bool, defineCommand, str } from "../flags.ts";
import { chunksToStdout } from "../archive_out.ts";
import { err } from "../output.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";

export default defineCommand({
  name: "save",
  usage: "pod save [options] IMAGE [IMAGE...]",
  summary: "Save image(s) to an archive",
  minArgs: 1,
  flags: {
    output: str("o", "Write to a specified file (default: stdout, which must be redirected)"),
    format: str("Save image to docker-archive, oci-archive, oci-dir or docker-dir", {
      default: "docker-archive",
    }),
    multiImageArchive: bool(
      "m",
      "Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)",
    ),
    quiet: bool("q", "Suppress the output"),
    compress: bool("Compress tarball image layers (not supported)", { hidden: true, ignored: true }),
    uncompressed: bool("Accept uncompressed layers when copying OCI images (docker-dir)"),
  },
  async run(flags, args, g) {
    const { format, output } = flags;
    const dirFormat = format === "oci-dir" || format === "docker-dir";
    if (format !== "docker-archive" && format !== "oci-archive" && !dirFormat) {
      throw new UsageError(
        `unsupported format "${format}" (docker-archive, oci-archive, oci-dir, docker-dir)`,
      );
    }
    const multi = flags.multiImageArchive;
    if (multi && format !== "docker-archive") {
      throw new UsageError("--multi-image-archive needs --format docker-archive");
    }
    if (!output && (dirFormat || Deno.stdout.isTerminal())) {
      throw new UsageError(
        dirFormat ? `--format ${format} needs --output DIR` : "refusing to save to a terminal",
        "Use -o FILE or redirect stdout",
      );
    }
    await ensureStore(g.root);
    const save = await import("../../image/save.ts");
    const items = await save.resolveSaveItems(g.root, args, multi);
    const saved = () =>
      writeEvents(
        g.root,
        ...items.map((i) => ({ ID: i.image.id, Name: output ?? "", Status: "save", Type: "image" as const })),
      );
    // archives: podman ignores it too (docker-archive layers are plain tars anyway); oci-dir: not yet
    if (flags.uncompressed && format === "oci-dir") {
      throw new UsageError("--uncompressed is supported with --format docker-dir only");
    }
    if (format === "oci-dir") {
      await save.writeOciDir(g.root, output!, items);
      saved();
      return 0;
    }
    if (format === "docker-dir") {
      if (items.length > 1) throw new UsageError("--format docker-dir holds one image");
      const { writeDirLayout } = await import("../../image/dir_layout.ts");
      await writeDirLayout(g.root, output!, items[0].image, "v2s2", { uncompressed: flags.uncompressed });
      saved();
      return 0;
    }
    if (output) {
      // on a terminal, podman's progress lines: each blob's "done" is written once the next one starts
      const progress = !flags.quiet && Deno.stderr.isTerminal();
      let open = false;
      const onEvent = (e: { digest: string }) => {
        err(`${open ? " done\n" : "Getting image source signatures\n"}Copying blob ${e.digest.slice(7, 19)}`);
        open = true;
      };
      await save.saveArchiveToFile(g.root, items, format, output, progress ? onEvent : undefined);
      if (progress) err(`${open ? " done\n" : ""}Writing manifest to image destination\n`);
    } else await chunksToStdout(save.saveArchive(g.root, items, format));
    saved();
    return 0;
  },
});
