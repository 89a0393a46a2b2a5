/** `pod commit`: create a new image from a container's changes. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";
import { writeOut } from "../output.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "commit",
  usage: "pod commit [options] CONTAINER [IMAGE]",
  summary: "Create new image based on the changed container",
  minArgs: 1,
  maxArgs: 2,
  flags: [
    { name: "author", short: "a", type: "string", help: "Set the author for the image committed" },
    { name: "message", short: "m", type: "string", help: "Set commit message for imported image" },
    {
      name: "change",
      short: "c",
      type: "strings",
      help: "Apply the following possible instructions to the created image (default []): " +
        "CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR",
    },
    { name: "pause", short: "p", type: "bool", default: true, help: "Pause container during commit" },
    { name: "quiet", short: "q", type: "bool", help: "Suppress output" },
    {
      name: "format",
      short: "f",
      type: "string",
      default: "oci",
      help: "Format of the image manifest and metadata (oci)",
    },
    {
      name: "squash",
      type: "bool",
      help: "Squash newly built layers into a single new layer (not supported)",
      hidden: true,
    },
    {
      name: "include-volumes",
      type: "bool",
      help: "Include container volumes as image volumes",
      ignored: true,
    },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  if (p.flags.squash) throw new UsageError("--squash is not supported");
  if (p.flags.format !== "oci") throw new UsageError(`unsupported format "${p.flags.format}": only oci`);
  await ensureStore(g.root);
  const { commitContainer } = await import("../../container/commit.ts");
  const quiet = p.flags.quiet === true;
  if (!quiet) console.error("Getting image source signatures");
  const r = await commitContainer(g.root, p.args[0], {
    image: p.args[1],
    author: p.flags.author as string | undefined,
    message: p.flags.message as string | undefined,
    changes: p.flags.change as string[],
    pause: p.flags.pause !== false,
  });
  if (!quiet) console.error("Writing manifest to image destination");
  writeOut(`${r.id}\n`);
  return 0;
}
