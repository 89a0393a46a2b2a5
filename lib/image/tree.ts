/**
 * Building an image tree (lib/store/trees.ts) in this process: for a pull as root, whose containers use the
 * host's ids (no user namespace), so the tree is the one their overlays need. Each layer is applied while its
 * blob downloads (read back from the growing temp file; the diff_id check verifies what was applied), and the
 * first `run` of the image extracts nothing.
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
 * Builds the host-id tree of `layers` into `<tree>.tmp-<pid>` and renames it into place, reading layer `i`
 * from `open(i)` (null: from its stored blob; a rejection stops the build). No-op when the tree exists. A
 * failed or refused layer throws the unpacker's error and leaves no tree behind.
 */
export async function buildHostTree(
  root: string,
  layers: TreeLayer[],
  open: (layerIndex: number, reuse: boolean) => Promise<AsyncIterable<Uint8Array> | null>,
): Promise<void> {
  const dir = treePath(root, await treeKey(layers.map((l) => l.digest), { mode: "host" }));
  if (await pathExists(dir)) return;
  await ensureTreesDir(root);
  const { unpackInto } = await import("../unpack/mod.ts");
  await unpackInto(dir, `${dir}.tmp-${Deno.pid}`, layers, { open });
}
