/**
 * `push --compression-format`: a stored layer re-compressed (gzip or zstd) into a blob of its own, streamed
 * (decompressed, compressed and hashed chunk by chunk; never held in memory). The uncompressed tar, so the
 * config's diff_ids, stay the same.
 * @module
 */

import { Readable } from "node:stream";
import { createGzip, createZstdCompress } from "node:zlib";
import type { Descriptor } from "../oci/manifest.ts";
import { layerCompression, MediaType } from "../oci/media_types.ts";
import { blobChunks, storeBlobStream } from "../store/blobs.ts";
import { decompress, syncDecompression } from "../unpack/compress.ts";

/** Compressions `push --compression-format` writes. */
export type TargetCompression = "gzip" | "zstd";

/** True when `layer` must be re-compressed to be `to`. */
export function needsRecompression(layer: Descriptor, to: TargetCompression): boolean {
  return layerCompression(layer.mediaType) !== to;
}

async function* copies(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  // copied: the source reuses its buffer, the compressor may keep a chunk after it is handed over
  for await (const c of chunks) yield c.slice();
}

/**
 * Re-compresses the stored `layer` as `to` into the store. Returns the new blob's descriptor (OCI media type)
 * and whether this call created the blob (so the caller may remove it when done).
 */
export async function recompressLayer(
  root: string,
  layer: Descriptor,
  to: TargetCompression,
): Promise<{ desc: Descriptor; created: boolean }> {
  const from = layerCompression(layer.mediaType);
  const plain = decompress(blobChunks(root, layer.digest, from === "none" || syncDecompression()), from);
  const z = to === "gzip" ? createGzip() : createZstdCompress();
  const input = Readable.from(copies(plain));
  input.on("error", (e) => z.destroy(e));
  input.pipe(z);
  const b = await storeBlobStream(root, z as AsyncIterable<Uint8Array>, {
    what: `layer ${layer.digest} as ${to}`,
  });
  const mediaType = to === "gzip" ? MediaType.OciLayerGzip : MediaType.OciLayerZstd;
  return { desc: { mediaType, digest: b.digest, size: b.size }, created: b.created };
}
