/**
 * `pod image mount` / `pod image umount` (`unmount`): an image's root file system, read-only, at a path on the
 * host, with podman's counting, listing and output. Rootless, `image mount` with an image or a flag is refused
 * as podman refuses it (it needs `pod unshare`); listing and unmounting are not.
 * @module
 */

import { bool, defineCommand, str } from "../flags.ts";
import { out, println } from "../output.ts";
import { PodError, UsageError } from "../../errors.ts";
import type { ImageMount } from "../../image/mount.ts";

/** podman's JSON shape of a mounted image (its `Names` are the image's digests). */
function mountJson(m: ImageMount & { digest: string }) {
  return { id: m.id, Names: [m.digest], Repositories: m.names, mountpoint: m.path };
}

/** `image mount [-a] [--format json] [IMAGE...]`. */
export const mountCommand = defineCommand({
  name: "mount",
  usage: "pod image mount [options] [IMAGE...]",
  summary: "Mount an image's root filesystem",
  flags: {
    all: bool("a", "Mount all images"),
    format: str("Print the mounted images in specified format (json)"),
  },
  async run(flags, args, g, given) {
    if (Deno.uid() !== 0 && (args.length || given.size)) {
      throw new PodError(
        'cannot run command "pod image mount" in rootless mode, must execute `pod unshare` first',
      );
    }
    if (flags.all && args.length) {
      throw new UsageError("when using the --all switch, you may not pass any image names or IDs");
    }
    const format = flags.format ?? "";
    if (format !== "" && format.trim().toLowerCase() !== "json") {
      throw new PodError(`unknown --format argument: "${format}"`);
    }
    const { mountImage, mountedImages } = await import("../../image/mount.ts");
    const { listImages, findImage } = await import("../../store/images.ts");
    let mounts: ImageMount[];
    if (flags.all) {
      mounts = [];
      for (const img of await listImages(g.root)) mounts.push(await mountImage(g.root, img.id));
    } else if (args.length) {
      mounts = [];
      for (const a of args) mounts.push(await mountImage(g.root, a));
      if (args.length === 1 && format === "") {
        println(mounts[0].path);
        return 0;
      }
    } else {
      mounts = await mountedImages(g.root);
    }
    if (format !== "") {
      const rows = [];
      for (const m of mounts) {
        rows.push(mountJson({ ...m, digest: (await findImage(g.root, m.id))?.digest ?? "" }));
      }
      out(JSON.stringify(rows, null, 1) + "\n");
      return 0;
    }
    for (const m of mounts) println(`${m.names[0] ?? m.id}  ${m.path}`);
    return 0;
  },
});

/** `image umount [-a] [-f] IMAGE...`. */
export const umountCommand = defineCommand({
  name: "umount",
  aliases: ["unmount"],
  usage: "pod image umount [options] IMAGE [IMAGE...]",
  summary: "Unmount an image's root filesystem",
  flags: {
    all: bool("a", "Unmount all of the currently mounted images"),
    force: bool("f", "Force the complete unmount of the specified mounted images"),
  },
  async run(flags, args, g) {
    if (flags.all && args.length) {
      throw new UsageError("when using the --all switch, you may not pass any image names or IDs");
    }
    if (!flags.all && !args.length) throw new UsageError("image name or ID must be specified");
    const { unmountImage, mountedImages } = await import("../../image/mount.ts");
    if (flags.all) {
      // --all takes every mount back at once, as podman
      for (const m of await mountedImages(g.root)) {
        if (await unmountImage(g.root, m.id, true)) println(m.id);
      }
      return 0;
    }
    const { resolveImage } = await import("../../store/images.ts");
    for (const a of args) {
      const img = await resolveImage(g.root, a);
      if (await unmountImage(g.root, img.id, flags.force)) println(img.id);
    }
    return 0;
  },
});
