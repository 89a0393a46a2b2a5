/**
 * The `dir:` transport of containers/image (what `podman save --format docker-dir` and `push IMAGE dir:DIR`
 * write): a directory holding `manifest.json`, a `version` file and every blob (config and layers, as stored:
 * compressed) named by its hex digest.
 * @module
 */

import { PodError } from "../errors.ts";
import { blobChunks } from "../store/blobs.ts";
import { createHash } from "node:crypto";
import { type ImageRecord, readImageConfig, readManifest } from "../store/images.ts";
import { layerCompression, MediaType } from "../oci/media_types.ts";
import { decompress, syncDecompression } from "../unpack/compress.ts";
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
  opts: { uncompressed?: boolean } = {},
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
  let m = convertManifest(stored, format);
  await writeFileFromChunks(`${dir}/${m.config.digest.slice(7)}`, blobChunks(root, m.config.digest, true));
  if (opts.uncompressed) {
    // each compressed layer written as its plain tar, whose digest is the config's diff_id (checked)
    const diffIds = (await readImageConfig(root, img)).rootfs?.diff_ids ?? [];
    const tarType = format === "v2s2" ? "application/vnd.docker.image.rootfs.diff.tar" : MediaType.OciLayer;
    const layers = [];
    for (const [i, l] of m.layers.entries()) {
      const kind = layerCompression(l.mediaType);
      if (kind === "none") {
        layers.push(l);
        continue;
      }
      const diffId = diffIds[i];
      if (!diffId) {
        throw new PodError(`image ${img.id.slice(0, 12)}: config has no diff_id for layer ${i + 1}`);
      }
      const h = createHash("sha256");
      let size = 0;
      const path = `${dir}/${diffId.slice(7)}`;
      await writeFileFromChunks(
        path,
        (async function* () {
          for await (const c of decompress(blobChunks(root, l.digest, syncDecompression()), kind)) {
            h.update(c);
            size += c.length;
            yield c;
          }
        })(),
      );
      if (`sha256:${h.digest("hex")}` !== diffId) {
        await Deno.remove(path).catch(() => {});
        throw new PodError(`layer ${l.digest}: its uncompressed content does not match diff_id ${diffId}`);
      }
      layers.push({ mediaType: tarType, digest: diffId, size });
    }
    m = { ...m, layers };
  } else {
    for (const d of m.layers) {
      await writeFileFromChunks(`${dir}/${d.digest.slice(7)}`, blobChunks(root, d.digest, true));
    }
  }
  const bytes = m === stored
    ? await Deno.readFile(blobPath(root, img.digest))
    : new TextEncoder().encode(JSON.stringify(m));
  await writeFileFromChunks(`${dir}/manifest.json`, [bytes]);
  await writeFileFromChunks(`${dir}/version`, [new TextEncoder().encode(DIR_VERSION)]);
}
