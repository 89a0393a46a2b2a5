/**
 * Image removal (`rmi`): a name when the image has others, else the whole image — refused while containers
 * use it or, by ID, while it has several names, unless forced. Unreferenced blobs go afterwards
 * (`collectGarbage` of lib/store/gc.ts). Prints nothing: the caller reports what {@link removeImage} returns.
 * @module
 */

import { PodError } from "../errors.ts";
import { parseReference } from "../oci/reference.ts";
import { containersUsingImage } from "../store/containers.ts";
import { deleteImageEntries, findImage, untagImage } from "../store/images.ts";

/** podman's exit codes for `rmi`: 1 = an image was not found, 2 = an image is in use. */
export const RMI_NOT_FOUND = 1;
/** See {@link RMI_NOT_FOUND}. */
export const RMI_IN_USE = 2;

/** Options of {@link removeImage}. */
export interface RemoveImageOptions {
  /** Also remove the containers using it, and an image with several names given by ID. */
  force?: boolean;
  /** `arg` is an ID (`rmi --all`): the whole image goes, never just a name. */
  byId?: boolean;
  /**
   * Removes a container that uses the image (with `force`); a container use case, passed in by the caller
   * (lib/image does not depend on lib/container).
   */
  removeContainer: (id: string) => Promise<void>;
}

/** What one removal did. */
export interface ImageRemoval {
  /** The names removed. */
  untagged: string[];
  /** The image ID, when the whole image was removed. */
  deleted?: string;
}

/**
 * Removes the image `arg` (name, ID or ID prefix) from the store's index: just that name while the image has
 * others, else the whole image. Throws a {@link PodError}: `NOT_FOUND` (exit code 1), `IN_USE` (exit code 2).
 */
export async function removeImage(root: string, arg: string, o: RemoveImageOptions): Promise<ImageRemoval> {
  const img = await findImage(root, arg);
  if (!img) throw new PodError(`${arg}: image not known`, { code: "NOT_FOUND", exitCode: RMI_NOT_FOUND });
  // a name (not an ID) removes just that name while others remain
  const name = o.byId ? undefined : nameGiven(arg, img.names);
  if (name && img.names.length > 1) {
    await untagImage(root, name);
    return { untagged: [name] };
  }
  if (!name && img.names.length > 1 && !o.force) {
    throw new PodError(
      `unable to delete image "${img.id}" by ID with more than one tag (${
        img.names.join(", ")
      }): please force removal`,
      { code: "IN_USE", exitCode: RMI_IN_USE },
    );
  }
  const users = await containersUsingImage(root, img.id);
  if (users.length && !o.force) {
    throw new PodError(
      `image used by ${
        users[0].id
      }: image is in use by a container: consider listing external containers and force-removing image`,
      { code: "IN_USE", exitCode: RMI_IN_USE },
    );
  }
  for (const u of users) await o.removeContainer(u.id);
  // a mounted image (`image mount`) keeps its layers, as podman: its names go, the image stays (dangling)
  const { isImageMounted } = await import("./mount.ts");
  if (await isImageMounted(root, img.id)) {
    for (const n of img.names) await untagImage(root, n, true);
    return { untagged: [...img.names] };
  }
  // checked again under the store lock: a `create` racing this rmi either is seen here or sees the image gone
  await deleteImageEntries(root, img, async () => {
    const late = await containersUsingImage(root, img.id);
    if (late.length) {
      throw new PodError(`image used by ${late[0].id}: image is in use by a container`, {
        code: "IN_USE",
        exitCode: RMI_IN_USE,
      });
    }
  });
  return { untagged: [...img.names], deleted: img.id };
}

/** The name `arg` stands for among the image's names; undefined when it is an ID. */
function nameGiven(arg: string, names: string[]): string | undefined {
  if (/^(sha256:)?[a-f0-9]{3,64}$/.test(arg) && !names.some((n) => n.includes(arg))) return undefined;
  try {
    const full = parseReference(arg).toString();
    if (names.includes(full)) return full;
  } catch { /* not a name */ }
  // a short name that matched one of several registries' images
  return names.find((n) =>
    n.endsWith(`/${arg}`) || n.endsWith(`/${arg}:latest`) || n.endsWith(`/library/${arg}:latest`)
  );
}
