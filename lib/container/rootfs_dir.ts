/**
 * `--rootfs DIR[:O]` (runtime3, issue 13): the container's root is a host directory instead of an image.
 * Without `:O` the directory itself is the root (writes land in it; the container's `rootfs` is a symlink
 * to it, so every rootfs reader works unchanged, and `rm` removes only the link). With `:O` an overlay is
 * mounted on top: the directory is the lower layer, the container's own upper dir takes the writes.
 * @module
 */

import { UsageError } from "../errors.ts";
import type { ContainerConfig } from "../store/containers.ts";
import type { ImageConfig } from "../oci/manifest.ts";

/** Parses the `--rootfs` argument `DIR[:O]`: an existing directory, made absolute. */
export function parseRootfsArg(arg: string): NonNullable<ContainerConfig["rootfsDir"]> {
  const overlay = arg.endsWith(":O");
  const dir = overlay ? arg.slice(0, -2) : arg;
  let path: string;
  try {
    path = Deno.realPathSync(dir);
  } catch {
    throw new UsageError(`--rootfs ${dir}: no such file or directory`);
  }
  if (!Deno.statSync(path).isDirectory) throw new UsageError(`--rootfs ${dir}: not a directory`);
  return { path, overlay };
}

/** The image part of a `--rootfs` container: none (podman shows an empty image). */
export function rootfsImage(dir: string): {
  img: { names: string[]; id: string; digest: string };
  config: ImageConfig;
  layers: never[];
} {
  return { img: { names: [dir], id: "", digest: "" }, config: {} as ImageConfig, layers: [] };
}
