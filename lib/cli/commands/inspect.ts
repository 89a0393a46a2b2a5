/** `pod inspect`: podman-shaped JSON (or a Go template) for containers and images. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";
import { printFormatted, printJson } from "../output.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "inspect",
  usage: "pod inspect [options] NAME|ID [NAME|ID...]",
  summary: "Display the configuration of object denoted by ID",
  minArgs: 1,
  flags: [
    { name: "format", short: "f", type: "string", help: "Format the output to a Go template or json" },
    { name: "size", short: "s", type: "bool", help: "Display total file size" },
    {
      name: "type",
      short: "t",
      type: "string",
      default: "all",
      help: "Specify inspect-object type (container, image, all)",
    },
    {
      name: "latest",
      short: "l",
      type: "bool",
      help: "Act on the latest container pod is aware of",
      hidden: true,
    },
  ],
};

async function findContainer(
  root: string,
  name: string,
  size: boolean,
): Promise<Record<string, unknown> | undefined> {
  const { containerInspectData } = await import("../../container/inspect.ts");
  return await containerInspectData(root, name, { size });
}

async function findImageData(root: string, name: string): Promise<Record<string, unknown> | undefined> {
  const { findImage } = await import("../../store/images.ts");
  const img = await findImage(root, name).catch(() => undefined);
  if (!img) return undefined;
  const { summarize } = await import("../../image/summary.ts");
  const { imageInspectData } = await import("../../image/inspect.ts");
  return imageInspectData(await summarize(root, img));
}

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const type = p.flags.type as string;
  if (!["all", "container", "image"].includes(type)) {
    throw new UsageError(`invalid type "${type}": must be one of container, image, all`);
  }
  const found: Record<string, unknown>[] = [];
  const missing: string[] = [];
  for (const name of p.args) {
    let data: Record<string, unknown> | undefined;
    if (type !== "image") data = await findContainer(g.root, name, p.flags.size as boolean);
    if (!data && type !== "container") data = await findImageData(g.root, name);
    if (data) found.push(data);
    else missing.push(name);
  }
  const format = p.flags.format as string | undefined;
  if (found.length || !missing.length) {
    if (format && format !== "json") printFormatted(format, found);
    else printJson(found);
  }
  if (missing.length) {
    for (const m of missing.slice(0, -1)) console.error(`Error: no such object: "${m}"`);
    throw new PodError(`no such object: "${missing.at(-1)}"`);
  }
  return 0;
}
