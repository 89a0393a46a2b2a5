/**
 * A new layer from an uncompressed tar stream (commit, import): its diff_id hashed while it passes, gzip
 * (fastest level) streamed into the store's blobs — or, for `pod build`'s layers, stored as the plain tar
 * (as podman keeps its layers in containers-storage; push compresses them), hashed once. Nothing is held in
 * memory.
 * @module
 */

import { createHash } from "node:crypto";
import { constants } from "node:zlib";
import { MediaType } from "../oci/media_types.ts";
import { storeBlobStream } from "../store/blobs.ts";
import { gzipChunks, syncDecompression } from "../unpack/compress.ts";
import { type TarWriteEntry, writeTar, writeTarBlocks } from "../unpack/tar_write.ts";

/** A layer stored as a blob (gzip, or the plain tar: see {@link StoredLayer.mediaType}). */
export interface StoredLayer {
  /** Digest of the blob (the diff_id when it is the plain tar). */
  digest: string;
  /** Blob size. */
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Whether this call added the blob to the store. */
  created: boolean;
  /** The layer's media type: gzip, or the uncompressed OCI layer. */
  mediaType: typeof MediaType.OciLayerGzip | typeof MediaType.OciLayer;
}

/** Size of the blocks handed to the hash and the compressor. */
const BLOCK = 256 * 1024;

/**
 * Hashes the chunks in blocks of {@link BLOCK} bytes, copied into fresh buffers (the compressor may keep a
 * block after it is handed over, and sources may reuse theirs): a tar of many small files is thousands of
 * tiny chunks, and each one through the node stream and zlib would cost more than its bytes. With `reuse`
 * (a consumer done with each block before it asks for the next) one block buffer serves throughout and large
 * chunks pass as they are.
 */
async function* hashing(
  chunks: AsyncIterable<Uint8Array>,
  h?: ReturnType<typeof createHash>,
  reuse = false,
) {
  let buf = new Uint8Array(BLOCK);
  let n = 0;
  const flush = () => {
    const out = buf.subarray(0, n);
    h?.update(out);
    if (!reuse) buf = new Uint8Array(BLOCK);
    n = 0;
    return out;
  };
  for await (const c of chunks) {
    if (c.length >= BLOCK) {
      if (n) yield flush();
      h?.update(c);
      yield reuse ? c : c.slice();
      continue;
    }
    if (n + c.length > BLOCK) yield flush();
    buf.set(c, n);
    n += c.length;
  }
  if (n) yield flush();
}

/**
 * Hashes and gzips `tar` into the store at `root`. `what` names it in errors. `level`: the deflate level
 * (default the fastest, 1; 0 stores incompressible data without spending time on it). Synchronous zlib into
 * reused buffers where the runtime allows it (see `gzipChunks`): no garbage per block, flat memory.
 */
export async function storeGzipLayer(
  root: string,
  tar: AsyncIterable<Uint8Array>,
  what: string,
  level: number = constants.Z_BEST_SPEED,
): Promise<StoredLayer> {
  const h = createHash("sha256");
  const blob = await storeBlobStream(root, gzipChunks(hashing(tar, h, syncDecompression()), level), { what });
  return gzipLayer(blob, h);
}

/** The record of a gzip layer blob whose uncompressed bytes `h` hashed. */
function gzipLayer(
  blob: { digest: string; size: number; created: boolean },
  h: ReturnType<typeof createHash>,
): StoredLayer {
  return {
    digest: blob.digest,
    size: blob.size,
    diffId: `sha256:${h.digest("hex")}`,
    created: blob.created,
    mediaType: MediaType.OciLayerGzip,
  };
}

/**
 * Stores `tar` as an uncompressed layer blob (media type `application/vnd.oci.image.layer.v1.tar`): one hash
 * of its bytes is both its digest and its diff_id, and no compressor runs. `pod build`'s layers: podman keeps
 * layers uncompressed too and compresses them when it pushes (so does `pod push`).
 */
export async function storeTarLayer(
  root: string,
  tar: AsyncIterable<Uint8Array>,
  what: string,
): Promise<StoredLayer> {
  // the store writes each block before it asks for the next: one block buffer, large chunks not copied
  const blob = await storeBlobStream(root, hashing(tar, undefined, true), { what });
  return {
    digest: blob.digest,
    size: blob.size,
    diffId: blob.digest,
    created: blob.created,
    mediaType: MediaType.OciLayer,
  };
}

/**
 * {@link storeGzipLayer} of the tar of `entries`, written in reused blocks (`writeTarBlocks`) when the
 * runtime's zlib runs synchronously: a layer of thousands of small files makes no garbage per entry.
 */
export async function storeGzipEntries(
  root: string,
  entries: AsyncIterable<TarWriteEntry>,
  what: string,
  level: number = constants.Z_BEST_SPEED,
): Promise<StoredLayer> {
  if (!syncDecompression()) return await storeGzipLayer(root, writeTar(entries), what, level);
  const h = createHash("sha256");
  // the tar's blocks are views of one reused buffer, and so are hashing's: synchronous zlib is done with each
  // before it asks for the next
  const tar = hashing(writeTarBlocks(entries), h, true);
  return gzipLayer(await storeBlobStream(root, gzipChunks(tar, level), { what }), h);
}
