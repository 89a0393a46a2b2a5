/**
 * The tree a new image tree can start from: the finished tree (same id mapping) of the longest proper prefix
 * of the image's layers. An image made on top of another (each step of a build) then gets its tree by a
 * hard-link clone of its parent's plus its own layers, in stage 2 (see `prepare.from` in lib/ns/spec.ts).
 * Only asked when a tree must be built: a start that has its tree does not come here.
 * @module
 */

import { layersKey, treePath } from "../store/trees.ts";

/** `{ tree, count }` of the longest existing prefix tree of `layerDigests` for tree `key`, if any. */
export async function parentTree(
  root: string,
  key: string,
  layerDigests: string[],
): Promise<{ tree: string; count: number } | undefined> {
  const map = key.slice(key.indexOf("-") + 1);
  for (let n = layerDigests.length - 1; n >= 1; n--) {
    const tree = treePath(root, `${await layersKey(layerDigests.slice(0, n))}-${map}`);
    try {
      if ((await Deno.lstat(tree)).isDirectory) return { tree, count: n };
    } catch { /* not built */ }
  }
  return undefined;
}
