/** `pod inspect`: podman-shaped JSON (or a Go template) for containers and images. @module */

import { bool, defineCommand, str } from "../flags.ts";
import { NotFoundError, UsageError } from "../../errors.ts";
import { printError, printFormatted, printJson } from "../output.ts";

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

async function findVolumeData(root: string, name: string): Promise<Record<string, unknown> | undefined> {
  const { getVolume, inspectVolume } = await import("../../volume/volumes.ts");
  const v = await getVolume(root, name).catch(() => undefined);
  return v ? inspectVolume(v) : undefined;
}

export default defineCommand({
  name: "inspect",
  usage: "pod inspect [options] NAME|ID [NAME|ID...]",
  summary: "Display the configuration of object denoted by ID",
  flags: {
    format: str("f", "Format the output to a Go template or json"),
    size: bool("s", "Display total file size"),
    type: str("t", "Specify inspect-object type (container, image, volume, all)", { default: "all" }),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    if (flags.latest) {
      if (args.length) throw new UsageError("--latest and containers cannot be used together");
      const { listContainers } = await import("../../store/containers.ts");
      const newest = (await listContainers(g.root))[0];
      if (!newest) throw new NotFoundError("no containers to inspect: no such container");
      args = [newest.config.id];
    } else if (!args.length) {
      throw new UsageError(`"inspect" requires at least 1 argument`, "See 'pod inspect --help'");
    }
    const type = flags.type;
    if (!["all", "container", "image", "volume"].includes(type)) {
      throw new UsageError(
        `invalid type "${type}": must be one of container, image, volume, all`,
        "See 'pod inspect --help'",
      );
    }
    const found: Record<string, unknown>[] = [];
    const missing: string[] = [];
    for (const name of args) {
      let data: Record<string, unknown> | undefined;
      if (type === "all" || type === "container") data = await findContainer(g.root, name, flags.size);
      if (!data && (type === "all" || type === "image")) data = await findImageData(g.root, name);
      if (!data && (type === "all" || type === "volume")) data = await findVolumeData(g.root, name);
      if (data) found.push(data);
      else missing.push(name);
    }
    if (found.length || !missing.length) {
      if (flags.format && flags.format !== "json") await printFormatted(flags.format, found);
      else printJson(found);
    }
    if (missing.length) {
      for (const m of missing.slice(0, -1)) printError(new NotFoundError(`no such object: "${m}"`));
      throw new NotFoundError(`no such object: "${missing.at(-1)}"`);
    }
    return 0;
  },
});
