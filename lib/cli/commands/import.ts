/** `pod import`: create an image from a root file system tarball. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { writeOut } from "../output.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "import",
  usage: "pod import [options] PATH|URL|- [REFERENCE]",
  summary: "Import a tarball to create a filesystem image",
  minArgs: 1,
  maxArgs: 2,
  flags: [
    {
      name: "change",
      short: "c",
      type: "strings",
      help: "Apply the following possible instructions to the created image (default [])",
    },
    { name: "message", short: "m", type: "string", help: "Set commit message for imported image" },
    { name: "os", type: "string", help: "Set the OS of the imported image" },
    { name: "arch", type: "string", help: "Set the architecture of the imported image" },
    { name: "variant", type: "string", help: "Set the variant of the imported image" },
    { name: "quiet", short: "q", type: "bool", help: "Suppress output" },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const what = p.args[0];
  if (what === "-" && Deno.stdin.isTerminal()) throw new UsageError("cannot read a tarball from a terminal");
  const { importImage } = await import("../../image/import.ts");
  const { readerChunks } = await import("../../image/load.ts");
  const src = what === "-"
    ? { stream: readerChunks(Deno.stdin) }
    : /^https?:\/\//.test(what)
    ? { url: what }
    : { path: what };
  const quiet = p.flags.quiet === true;
  if (!quiet) console.error("Getting image source signatures");
  const r = await importImage(g.root, src, {
    name: p.args[1],
    changes: p.flags.change as string[],
    message: p.flags.message as string | undefined,
    os: p.flags.os as string | undefined,
    arch: p.flags.arch as string | undefined,
    variant: p.flags.variant as string | undefined,
  });
  if (!quiet) console.error("Writing manifest to image destination");
  writeOut(`sha256:${r.id}\n`);
  return 0;
}
