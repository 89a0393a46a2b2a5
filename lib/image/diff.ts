/**
 * `diff`: what a container changed against its image (its upper dir, read as for `commit`), or what an
 * image's top layer changed against the layers below: `A` added, `C` changed, `D` deleted paths, as podman
 * prints them. The lower paths come from the image's own layers (names only, streamed), so no tree needs to be
 * readable from here (rootless trees are owned by subordinate ids).
 * @module
 */

import { PodError } from "../errors.ts";
import { layerCompression } from "../oci/media_types.ts";
import { blobChunks } from "../store/blobs.ts";
import { containerPaths, getContainer } from "../store/containers.ts";
import { findImage, type ImageRecord, readManifest, resolveImage } from "../store/images.ts";
import { decompress, syncDecompression } from "../unpack/compress.ts";
import { readTar } from "../unpack/tar.ts";
import { layerEntries, spawnUpperTar } from "./commit_layer.ts";

/** One change. */
export interface Change {
  /** `A`, `C` or `D`. */
  kind: "A" | "C" | "D";
  /** Absolute path inside the root file system. */
  path: string;
}

const OPAQUE = ".wh..wh..opq";

function norm(name: string): string {
  const n = name.replace(/^(\.\/)+/, "").replace(/^\/+/, "").replace(/\/+$/, "");
  return n === "." ? "" : n;
}

function dropUnder(paths: Set<string>, dir: string): void {
  const prefix = dir ? `${dir}/` : "";
  for (const p of paths) if (p.startsWith(prefix) && p !== dir) paths.delete(p);
}

/** Applies one layer's names (whiteouts included) to a set of paths. */
function applyName(paths: Set<string>, name: string): void {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
  if (base === OPAQUE) return dropUnder(paths, dir);
  if (base.startsWith(".wh.")) {
    const gone = (dir ? `${dir}/` : "") + base.slice(4);
    paths.delete(gone);
    return dropUnder(paths, gone);
  }
  paths.add(name);
}

function layerNames(
  root: string,
  digest: string,
  mediaType: string,
): AsyncIterable<{ name: string; dir: boolean }> {
  const kind = layerCompression(mediaType);
  const src = decompress(blobChunks(root, digest, kind === "none" || syncDecompression()), kind);
  return (async function* () {
    for await (const e of readTar(src)) {
      const n = norm(e.name);
      if (n) yield { name: n, dir: e.type === "dir" };
    }
  })();
}

/** The paths of an image's first `count` layers applied in order. */
async function lowerPaths(root: string, img: ImageRecord, count: number): Promise<Set<string>> {
  const m = await readManifest(root, img);
  const paths = new Set<string>();
  for (const l of m.layers.slice(0, count)) {
    for await (const n of layerNames(root, l.digest, l.mediaType)) applyName(paths, n.name);
  }
  return paths;
}

/**
 * Turns a layer's names into changes against `lower` (sorted by path). A directory that is in the layer only
 * as the parent of something pod itself manages at start (`/run/.containerenv`…) and has no change below it
 * is left out, as podman shows none there.
 */
async function changes(
  lower: Set<string>,
  top: AsyncIterable<{ name: string; dir: boolean }>,
): Promise<Change[]> {
  const out = new Map<string, Change["kind"]>();
  const dirs = new Set<string>();
  for await (const { name, dir: isDir } of top) {
    if (isDir) dirs.add(name);
    const base = name.slice(name.lastIndexOf("/") + 1);
    const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
    if (base === OPAQUE) {
      const prefix = dir ? `${dir}/` : "";
      for (const p of lower) if (p.startsWith(prefix) && p !== dir && !out.has(p)) out.set(p, "D");
    } else if (base.startsWith(".wh.")) {
      out.set((dir ? `${dir}/` : "") + base.slice(4), "D");
    } else {
      out.set(name, lower.has(name) ? "C" : "A");
    }
  }
  const paths = [...out.keys()];
  for (const d of dirs) {
    if (out.get(d) === "C" && !paths.some((p) => p.startsWith(`${d}/`))) out.delete(d);
  }
  return [...out].map(([p, kind]) => ({ kind, path: `/${p}` })).sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  );
}

/** The changes of a container (by name or ID) or, when none has that name, of an image's top layer. */
export async function diffOf(root: string, nameOrId: string): Promise<Change[]> {
  let rec;
  try {
    rec = await getContainer(root, nameOrId);
  } catch (e) {
    if (!(e instanceof PodError) || e.code !== "NOT_FOUND" || !(await findImage(root, nameOrId))) throw e;
  }
  if (!rec) {
    const img = await resolveImage(root, nameOrId);
    const m = await readManifest(root, img);
    const top = m.layers.at(-1);
    if (!top) return [];
    return await changes(
      await lowerPaths(root, img, m.layers.length - 1),
      layerNames(root, top.digest, top.mediaType),
    );
  }
  if (rec.config.storage?.driver !== "overlay") {
    throw new PodError(`container ${rec.config.name} uses the vfs storage driver: diff needs overlay`);
  }
  const img = await resolveImage(root, rec.config.image.id);
  const lower = await lowerPaths(root, img, Infinity);
  const upper = containerPaths(root, rec.config.id).upper;
  let child: Deno.ChildProcess;
  try {
    await Deno.lstat(upper);
    child = spawnUpperTar(upper, Deno.uid() !== 0);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const stderr = new Response(child.stderr).text();
  const names = (async function* () {
    for await (const e of layerEntries(child.stdout)) {
      const n = norm(e.name);
      if (n) yield { name: n, dir: e.type === "dir" };
    }
  })();
  const out = await changes(lower, names);
  const st = await child.status;
  if (!st.success) {
    throw new PodError(`reading the container's changes: ${(await stderr).trim().split("\n")[0]}`);
  }
  return out;
}
