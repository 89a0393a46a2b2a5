/**
 * Building an image tree (lib/store/trees.ts) in this process: for a pull as root, whose containers use the
 * host's ids (no user namespace), so the tree is the one their overlays need. Each layer is applied as soon as
 * its blob is stored, while later layers still download, and the first `run` of the image extracts nothing.
 * Rootless trees are built by stage 2 inside the user namespace at the first start (file owners need it).
 * @module
 */

import { pathExists } from "../store/paths.ts";
import { ensureTreesDir, treeKey, treePath } from "../store/trees.ts";

/** A layer of the tree, in manifest order. */
export interface TreeLayer {
  digest: string;
  mediaType: string;
  /** The blob file (once stored). */
  path: string;
  diffId?: string;
}

/**
 * Builds the host-id tree of `layers` into `<tree>.tmp-<pid>` and renames it into place, applying layer `i`
 * once `ready(i)` resolves (a rejection stops the build). No-op when the tree exists. A failed or refused
 * layer throws the unpacker's error and leaves no tree behind.
 */
export async function buildHostTree(
  root: string,
  layers: TreeLayer[],
  ready: (layerIndex: number) => Promise<void>,
): Promise<void> {
  const dir = treePath(root, await treeKey(layers.map((l) => l.digest), { mode: "host" }));
  if (await pathExists(dir)) return;
  await ensureTreesDir(root);
  const { unpackInto } = await import("../unpack/mod.ts");
  await unpackInto(dir, `${dir}.tmp-${Deno.pid}`, layers, { waitFor: ready });
}
