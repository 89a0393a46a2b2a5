/**
 * `image mount` / `image umount`: an image's root file system, read-only, at a path on the host. The image's
 * tree (lib/store/trees.ts, built from the stored blobs when missing) is bind-mounted read-only at
 * `$ROOT/image-mounts/<id>`. Mounts are counted as podman counts them: each mount adds one, each unmount takes
 * one, the bind mount goes when the count reaches 0 (or at once with `force`). The counts live in
 * `$ROOT/image-mounts/mounts.json`, changed under the store lock; a count whose mount vanished (a reboot)
 * is forgotten when read.
 * Rootless, mounting needs a user and mount namespace of the user's own (podman: `podman unshare`); the
 * command layer refuses it, as podman does.
 * @module
 */

import { PodError } from "../errors.ts";
import { withLock } from "../store/lock.ts";
import { storePaths } from "../store/paths.ts";
import { type ImageRecord, listImages, readManifest, resolveImage } from "../store/images.ts";
import { treeKey, treePath } from "../store/trees.ts";
import { blobPath } from "../store/blobs.ts";
import { mountPoints } from "../ns/mountinfo.ts";

/** A mounted image, as `image mount` lists it. */
export interface ImageMount {
  /** Image ID. */
  id: string;
  /** The image's names (`localhost/b:latest`). */
  names: string[];
  /** Where it is mounted. */
  path: string;
  /** How many mounts are outstanding. */
  count: number;
}

type Counts = Record<string, number>;

function mountsDir(root: string): string {
  return `${storePaths(root).root}/image-mounts`;
}

/** The mount point of image `id`. */
export function imageMountPath(root: string, id: string): string {
  if (!/^[a-f0-9]{64}$/.test(id)) throw new Error(`invalid image id "${id}"`);
  return `${mountsDir(root)}/${id}`;
}

async function readCounts(root: string): Promise<Counts> {
  try {
    const c = JSON.parse(await Deno.readTextFile(`${mountsDir(root)}/mounts.json`));
    return c && typeof c === "object" ? c as Counts : {};
  } catch {
    return {};
  }
}

async function writeCounts(root: string, c: Counts): Promise<void> {
  const file = `${mountsDir(root)}/mounts.json`;
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(c));
  await Deno.rename(`${file}.tmp`, file);
}

/** The counts whose mount still exists (stale ones dropped). */
async function liveCounts(root: string): Promise<Counts> {
  const [c, mps] = await Promise.all([readCounts(root), mountPoints()]);
  const out: Counts = {};
  for (const [id, n] of Object.entries(c)) {
    if (n > 0 && /^[a-f0-9]{64}$/.test(id) && mps.has(imageMountPath(root, id))) out[id] = n;
  }
  return out;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const o = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped", stdin: "null" }).output();
  if (!o.success) {
    const line = new TextDecoder().decode(o.stderr).trim().split("\n")[0];
    throw new PodError(`${cmd}: ${line || `exited ${o.code}`}`);
  }
}

/** The image's tree with the host's ids, built from its stored blobs when missing. */
async function hostTree(root: string, img: ImageRecord): Promise<string> {
  const m = await readManifest(root, img);
  const dir = treePath(root, await treeKey(m.layers.map((l) => l.digest), { mode: "host" }));
  const { buildHostTree } = await import("./tree.ts");
  await buildHostTree(
    root,
    m.layers.map((l) => ({ ...l, path: blobPath(root, l.digest) })),
    () => Promise.resolve(null),
  );
  return dir;
}

/** Mounts image `nameOrId` (read-only) and returns its mount point; a mounted image's count goes up by one. */
export async function mountImage(root: string, nameOrId: string): Promise<ImageMount> {
  const img = await resolveImage(root, nameOrId);
  const tree = await hostTree(root, img);
  const path = imageMountPath(root, img.id);
  return await withLock(storePaths(root).lock, async () => {
    await Deno.mkdir(mountsDir(root), { recursive: true, mode: 0o700 });
    const counts = await liveCounts(root);
    if (!counts[img.id]) {
      await Deno.mkdir(path, { recursive: true, mode: 0o755 });
      await run("mount", ["--bind", "-o", "ro", tree, path]);
    }
    counts[img.id] = (counts[img.id] ?? 0) + 1;
    await writeCounts(root, counts);
    return { id: img.id, names: img.names, path, count: counts[img.id] };
  });
}

/**
 * Takes one mount of image `nameOrId` back (all of them with `force`); unmounts when none is left. Resolves
 * to true when the image was mounted (podman prints its ID then), false when it was not.
 */
export async function unmountImage(root: string, nameOrId: string, force = false): Promise<boolean> {
  const img = await resolveImage(root, nameOrId);
  return await withLock(storePaths(root).lock, async () => {
    const counts = await liveCounts(root);
    const n = counts[img.id];
    if (!n) return false;
    if (n > 1 && !force) counts[img.id] = n - 1;
    else {
      const path = imageMountPath(root, img.id);
      await run("umount", [path]);
      await Deno.remove(path).catch(() => {});
      delete counts[img.id];
    }
    await writeCounts(root, counts);
    return true;
  });
}

/** The mounted images of the store at `root`, in the order of the store's image list. */
export async function mountedImages(root: string): Promise<ImageMount[]> {
  const counts = await liveCounts(root);
  if (!Object.keys(counts).length) return [];
  return (await listImages(root)).filter((i) => counts[i.id]).map((i) => ({
    id: i.id,
    names: i.names,
    path: imageMountPath(root, i.id),
    count: counts[i.id],
  }));
}

/** True when image `id` is mounted (rmi refuses to remove it then). */
export async function isImageMounted(root: string, id: string): Promise<boolean> {
  return (await liveCounts(root))[id] !== undefined;
}
