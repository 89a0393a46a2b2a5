/**
 * The `dir:` transport of containers/image (what `podman save --format docker-dir` and `push IMAGE dir:DIR`
 * write): a directory holding `manifest.json`, a `version` file and every blob (config and layers, as stored:
 * compressed) named by its hex digest.
 * @module
 */

import { PodError } from "../errors.ts";
import { blobChunks } from "../store/blobs.ts";
import { type ImageRecord, readManifest } from "../store/images.ts";
import { blobPath } from "../store/paths.ts";
import { convertManifest, type ManifestFormat } from "./manifest_convert.ts";
import { writeFileFromChunks } from "./save.ts";

/** What the `version` file of a `dir:` layout holds. */
export const DIR_VERSION = "Directory Transport Version: 1.1\n";

/**
 * Writes `img` as a `dir:` layout in `dir` (created when missing; an existing directory must be empty or an
 * earlier `dir:` layout, whose files are replaced). `format` `v2s2` writes a Docker schema 2 manifest.
 */
export async function writeDirLayout(
  root: string,
  dir: string,
  img: ImageRecord,
  format: ManifestFormat,
): Promise<void> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw new PodError(`${dir}: ${(e as Error).message}`);
    await Deno.mkdir(dir, { recursive: true });
  }
  if (names.length && !names.includes("version")) {
    throw new PodError(`refusing to overwrite ${dir}: it is not empty and not a dir: image layout`);
  }
  const stored = await readManifest(root, img);
  const m = convertManifest(stored, format);
  for (const d of [m.config, ...m.layers]) {
    await writeFileFromChunks(`${dir}/${d.digest.slice(7)}`, blobChunks(root, d.digest, true));
  }
  const bytes = m === stored
    ? await Deno.readFile(blobPath(root, img.digest))
    : new TextEncoder().encode(JSON.stringify(m));
  await writeFileFromChunks(`${dir}/manifest.json`, [bytes]);
  await writeFileFromChunks(`${dir}/version`, [new TextEncoder().encode(DIR_VERSION)]);
}
