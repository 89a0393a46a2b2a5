/**
 * Removing image trees nobody needs: a tree stays while an image with its layers exists (so the next
 * container of that image starts without extracting) or a container names it; a temp tree stays while its
 * builder is alive. Rootless trees hold subordinate-id files: removed from inside a user namespace.
 * @module
 */

import { debug } from "../log.ts";
import { pidAlive } from "../proc.ts";
import { withLock } from "../store/lock.ts";
import { listContainers } from "../store/containers.ts";
import { listImages, readManifest } from "../store/images.ts";
import { storePaths } from "../store/paths.ts";
import { layersKey, listTrees, treesDir } from "../store/trees.ts";
import { removeTreeUserns } from "./remove_tree.ts";

/** Removes one tree directory (subordinate-id files: from inside a user namespace). */
export async function removeTreeDir(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (Deno.uid() === 0) throw e;
    await removeTreeUserns(path, true);
  }
}

/** Removes trees that no image and no container uses, and temp trees of dead builders. Returns how many. */
export async function pruneTrees(root: string): Promise<number> {
  const trees = await listTrees(root);
  if (trees.length === 0) return 0;
  return await withLock(storePaths(root).lock, async () => {
    const used = new Set<string>();
    for (const c of await listContainers(root)) if (c.config.storage) used.add(c.config.storage.tree);
    const imageLayers = new Set<string>();
    for (const img of await listImages(root)) {
      try {
        imageLayers.add(await layersKey((await readManifest(root, img)).layers.map((l) => l.digest)));
      } catch (e) {
        debug(`trees: reading the manifest of ${img.id.slice(0, 12)}: ${e instanceof Error ? e.message : e}`);
      }
    }
    let n = 0;
    for (const t of trees) {
      const keep = t.builder !== undefined
        ? pidAlive(t.builder)
        : used.has(t.key) || imageLayers.has(t.key.split("-")[0]);
      if (keep) continue;
      try {
        await removeTreeDir(`${treesDir(root)}/${t.name}`);
        n++;
      } catch (e) {
        debug(`trees: removing ${t.name}: ${e instanceof Error ? e.message : e}`);
      }
    }
    return n;
  });
}
