/**
 * `import`: a root file system tarball (plain, gzip or zstd; a file, a stream, or an http(s) URL) becomes a
 * one-layer image, with `--change` instructions applied to an empty config. As root the layer goes through the
 * unpacker at once (the image tree is built), so a hostile tarball fails the import and leaves no image.
 * @module
 */

import { describeError, PodError } from "../errors.ts";
import type { ImageConfig } from "../oci/manifest.ts";
import { MediaType } from "../oci/media_types.ts";
import { hostPlatform } from "../oci/platform.ts";
import { blobPath } from "../store/paths.ts";
import { claimBlobs, dropBlobsIfUnused } from "../store/gc.ts";
import { ensureStore } from "../store/images.ts";
import { compressionFromMagic, decompress, peek } from "../unpack/compress.ts";
import { applyChanges } from "./changes.ts";
import { storeGzipLayer } from "./layer_blob.ts";
import { localImageName, registerNewImage } from "./new_image.ts";
import { buildHostTree } from "./tree.ts";

/** Options of {@link importImage}. */
export interface ImportOptions {
  /** Name of the new image (`localhost/` is added to a name without a registry). */
  name?: string;
  /** `--change` instructions. */
  changes?: string[];
  /** History comment (`--message`). */
  message?: string;
  /** Platform written into the config (default: this machine's). */
  os?: string;
  /** Architecture written into the config. */
  arch?: string;
  /** Variant written into the config. */
  variant?: string;
  /** Check the layer with the unpacker now (default: when running as root). */
  buildTree?: boolean;
}

/** Where the tarball comes from. */
export type ImportSource = { path: string } | { stream: AsyncIterable<Uint8Array> } | { url: string };

async function open(src: ImportSource): Promise<AsyncIterable<Uint8Array>> {
  if ("stream" in src) return src.stream;
  if ("url" in src) {
    const r = await fetch(src.url).catch((e) => {
      throw new PodError(`fetching ${src.url}: ${describeError(e)}`);
    });
    if (!r.ok || !r.body) throw new PodError(`fetching ${src.url}: HTTP ${r.status}`);
    return r.body;
  }
  try {
    return (await Deno.open(src.path, { read: true })).readable;
  } catch (e) {
    throw new PodError(`${src.path}: ${describeError(e)}`, { code: "NOT_FOUND" });
  }
}

/** Imports a tarball as a new one-layer image; returns its ID and name. */
export async function importImage(
  root: string,
  src: ImportSource,
  opts: ImportOptions = {},
): Promise<{ id: string; name?: string }> {
  const name = opts.name ? localImageName(opts.name) : undefined;
  const runtime = applyChanges({}, opts.changes ?? []);
  await ensureStore(root);
  const { head, stream } = await peek(await open(src), 8);
  if (head.length === 0) throw new PodError("the tarball is empty");
  const claim = await claimBlobs(root);
  let added: string | undefined;
  try {
    const layer = await storeGzipLayer(
      root,
      decompress(stream, compressionFromMagic(head) ?? "none"),
      "imported layer",
    );
    if (layer.created) added = layer.digest;
    await claim.add([layer.digest]);
    if (opts.buildTree ?? Deno.uid() === 0) {
      const l = {
        digest: layer.digest,
        mediaType: MediaType.OciLayerGzip,
        path: blobPath(root, layer.digest),
      };
      await buildHostTree(root, [{ ...l, diffId: layer.diffId }], () => Promise.resolve(null));
    }
    const host = hostPlatform();
    const created = new Date().toISOString();
    const config: ImageConfig = {
      architecture: opts.arch ?? host.architecture,
      os: opts.os ?? host.os,
      ...(opts.variant ?? (opts.arch ? undefined : host.variant)
        ? { variant: opts.variant ?? host.variant }
        : {}),
      created,
      config: runtime,
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
      history: [{
        created,
        created_by: "/bin/sh -c #(nop) ADD file in /",
        ...(opts.message ? { comment: opts.message } : {}),
      }],
    };
    const layers = [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.size }];
    const id = await registerNewImage(root, config, layers, name, claim);
    added = undefined;
    return { id, name };
  } catch (e) {
    if (e instanceof PodError) throw e;
    throw new PodError(`importing: ${describeError(e)}`);
  } finally {
    await claim.release(); // first: our own claim would keep the blob to drop
    if (added) await dropBlobsIfUnused(root, [added]);
  }
}
