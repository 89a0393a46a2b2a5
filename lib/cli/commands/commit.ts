/** `pod commit`: create a new image from a container's changes. @module */

import { writeContainerEvents } from "../../store/events.ts";
import { bool, defineCommand, str, strings } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";
import { err, println } from "../output.ts";

export default defineCommand({
  name: "commit",
  usage: "pod commit [options] CONTAINER [IMAGE]",
  summary: "Create new image based on the changed container",
  minArgs: 1,
  maxArgs: 2,
  flags: {
    author: str("a", "Set the author for the image committed"),
    message: str("m", "Set commit message for imported image"),
    change: strings(
      "c",
      "Apply the following possible instructions to the created image (default []): " +
        "CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR",
    ),
    pause: bool("p", "Pause container during commit", { default: true }),
    quiet: bool("q", "Suppress output"),
    format: str("f", "Format of the image manifest and metadata (oci, docker)", { default: "oci" }),
    iidfile: str("Write the image ID to the file"),
    squash: bool("s", "Squash newly built layers into a single new layer"),
    includeVolumes: bool("Include container volumes as image volumes"),
  },
  async run(flags, args, g) {
    const format = flags.format;
    if (format !== "oci" && format !== "docker") {
      throw new UsageError(`unrecognized image format "${format}" (oci, docker)`);
    }
    await ensureStore(g.root);
    const { commitContainer } = await import("../../container/commit.ts");
    if (!flags.quiet) err("Getting image source signatures\n");
    const r = await commitContainer(g.root, args[0], {
      image: args[1],
      author: flags.author,
      message: flags.message,
      changes: flags.change,
      pause: flags.pause,
      format,
      includeVolumes: flags.includeVolumes,
      squash: flags.squash,
    });
    if (!flags.quiet) err("Writing manifest to image destination\n");
    const { getContainer } = await import("../../store/containers.ts");
    const rec = await getContainer(g.root, args[0]).catch(() => undefined);
    if (rec) writeContainerEvents(g.root, rec, ["commit"]);
    if (flags.iidfile) await Deno.writeTextFile(flags.iidfile, r.id);
    println(r.id);
    return 0;
  },
});
