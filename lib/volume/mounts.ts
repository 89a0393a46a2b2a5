/**
 * What a `-v NAME:/dst` (or anonymous `-v /dst`, or an image VOLUME) mounts: the volume (made when missing),
 * resolved by its `-o` options to a bind of its data (copied up from the image at first use, as podman), a
 * bind of its `device` (`o=bind`), or a fresh tmpfs (`type=tmpfs`).
 * @module
 */

import { PodError } from "../errors.ts";
import { createAnonymousVolume, ensureVolume, readVolume, volumeDataPath } from "../store/volumes.ts";

/** The resolved parts of a volume mount, merged into the container's mount record. */
export interface ResolvedVolume {
  /** Volume name. */
  name: string;
  /** Host path bound at the destination (unused for a tmpfs volume). */
  source: string;
  /** `tmpfs`: the volume is a tmpfs (`-o type=tmpfs`), with `data` as its options. */
  volumeType?: "tmpfs";
  /** tmpfs options (`-o o=size=…`). */
  data?: string;
  /** Copy the image's content at the destination into the volume at its first use. */
  copyUp?: boolean;
}

/** Resolves (creating when missing) volume `name`, or a new anonymous volume without a name. */
export async function resolveVolume(root: string, name?: string): Promise<ResolvedVolume> {
  if (name === undefined) {
    const v = await createAnonymousVolume(root);
    return { name: v.name, source: v.path, copyUp: true };
  }
  const source = await ensureVolume(root, name);
  const rec = await readVolume(root, name);
  const o = rec?.options ?? {};
  const flags = (o.o ?? "").split(",").filter(Boolean);
  if (o.type === "tmpfs") {
    return { name, source, volumeType: "tmpfs", data: flags.join(",") || undefined };
  }
  if (flags.includes("bind") || flags.includes("rbind") || o.type === "bind") {
    if (!o.device) throw new PodError(`volume ${name}: a bind volume needs a device`);
    return { name, source: o.device };
  }
  if (o.type) throw new PodError(`volume ${name}: volume type ${o.type} is not supported by pod`);
  return { name, source: volumeDataPath(root, name), copyUp: rec?.copiedUp !== true };
}
