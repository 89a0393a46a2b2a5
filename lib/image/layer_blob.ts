/**
 * A new layer from an uncompressed tar stream (commit, import): its diff_id hashed while it passes, gzip
 * (fastest level) streamed into the store's blobs. Nothing is held in memory.
 * @module
 */

import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { constants, createGzip } from "node:zlib";
import { storeBlobStream } from "../store/blobs.ts";

/** A layer stored as a gzip blob. */
export interface StoredLayer {
  /** Digest of the gzip blob. */
  digest: string;
  /** Blob size. */
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Whether this call added the blob to the store. */
  created: boolean;
}

async function* hashing(chunks: AsyncIterable<Uint8Array>, h: ReturnType<typeof createHash>) {
  for await (const c of chunks) {
    h.update(c);
    // copied: the compressor may keep a chunk after it is handed over, and sources may reuse their buffers
    yield c.slice();
  }
}

/** Hashes and gzips `tar` into the store at `root`. `what` names it in errors. */
export async function storeGzipLayer(
  root: string,
  tar: AsyncIterable<Uint8Array>,
  what: string,
): Promise<StoredLayer> {
  const h = createHash("sha256");
  const gz = createGzip({ level: constants.Z_BEST_SPEED });
  const input = Readable.from(hashing(tar, h));
  input.on("error", (e) => gz.destroy(e));
  input.pipe(gz);
  const blob = await storeBlobStream(root, gz as AsyncIterable<Uint8Array>, { what });
  return { digest: blob.digest, size: blob.size, diffId: `sha256:${h.digest("hex")}`, created: blob.created };
}
