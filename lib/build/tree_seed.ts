/**
 * A RUN's image tree from its parent's, as root: the image of a RUN is the stage's previous image plus the
 * layers the steps since made, so instead of letting the container's start unpack every layer again (a new
 * tree per RUN), the longest existing tree of a prefix of its layers is cloned with hard links (`cp -al`:
 * directories are new, files shared) and only the missing layers are applied on the clone through the
 * unpacker. Sharing files is safe because the unpacker never writes into an existing file: a file entry
 * replaces the name with a new file, a whiteout unlinks the clone's name, metadata of a file is set on the
 * new file only; directories are the clone's own. The tree is built under `<tree>.tmp-<pid>` and renamed
 * into place (a dead builder's temp tree is removed by the trees' garbage collection).
 *
 * Rootless trees hold the user's subordinate ids and are built by stage 2 in the user namespace: left to it.
 * @module
 */

import { debug } from "../log.ts";
import { layersKey, treePath } from "../store/trees.ts";

/** A layer of the image whose tree is wanted. */
export interface SeedLayer {
  /** Blob digest. */
  digest: string;
  /** Blob media type. */
  mediaType: string;
  /** Uncompressed digest (checked while applied), when known. */
  diffId?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes the tree `key` (a host-id tree of `layers`) from the tree of the longest prefix of `layers` that
 * exists. Returns whether it made it; false (nothing done) when it exists, when it is not a host-id tree, when
 * not root, or when no prefix has a tree (the container's start builds it as usual). Errors are reported
 * through the debug log only and leave nothing behind: the start builds the tree then.
 */
export async function seedTree(root: string, key: string, layers: SeedLayer[]): Promise<boolean> {
  if (Deno.uid() !== 0 || !key.endsWith("-host") || layers.length < 2) return false;
  const target = treePath(root, key);
  if (await exists(target)) return false;
  let from = -1;
  for (let n = layers.length - 1; n >= 1; n--) {
    if (await exists(treePath(root, `${await layersKey(layers.slice(0, n).map((l) => l.digest))}-host`))) {
      from = n;
      break;
    }
  }
  if (from < 0) return false;
  const t0 = performance.now();
  const base = treePath(root, `${await layersKey(layers.slice(0, from).map((l) => l.digest))}-host`);
  const tmp = `${target}.tmp-${Deno.pid}`;
  try {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    const cp = await new Deno.Command("cp", { args: ["-al", "--", base, tmp], stderr: "piped" }).output();
    if (!cp.success) throw new Error(`cp -al: ${new TextDecoder().decode(cp.stderr).trim()}`);
    const [{ unpackLayers }, { blobPath }] = await Promise.all([
      import("../unpack/mod.ts"),
      import("../store/paths.ts"),
    ]);
    await unpackLayers(
      tmp,
      layers.slice(from).map((l) => ({ ...l, path: blobPath(root, l.digest) })),
    );
    try {
      await Deno.rename(tmp, target);
    } catch (e) {
      if (!(await exists(target))) throw e; // another builder finished first: its tree is as good
      await Deno.remove(tmp, { recursive: true });
    }
    debug(
      `build: tree of ${layers.length} layers cloned from ${from} and ${layers.length - from} applied in ${
        Math.round(performance.now() - t0)
      } ms`,
    );
    return true;
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    debug(`build: no tree from a parent's (${e instanceof Error ? e.message : e}); the start builds it`);
    return false;
  }
}
