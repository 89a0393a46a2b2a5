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

/** Size of the blocks handed to the hash and the compressor. */
const BLOCK = 256 * 1024;

/**
 * Hashes the chunks in blocks of {@link BLOCK} bytes, copied into fresh buffers (the compressor may keep a
 * block after it is handed over, and sources may reuse theirs): a tar of many small files is thousands of
 * tiny chunks, and each one through the node stream and zlib would cost more than its bytes.
 */
async function* hashing(chunks: AsyncIterable<Uint8Array>, h: ReturnType<typeof createHash>) {
  let buf = new Uint8Array(BLOCK);
  let n = 0;
  const flush = () => {
    const out = buf.subarray(0, n);
    h.update(out);
    buf = new Uint8Array(BLOCK);
    n = 0;
    return out;
  };
  for await (const c of chunks) {
    if (c.length >= BLOCK) {
      if (n) yield flush();
      h.update(c);
      yield c.slice();
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
 * (default the fastest, 1; 0 stores incompressible data without spending time on it).
 */
export async function storeGzipLayer(
  root: string,
  tar: AsyncIterable<Uint8Array>,
  what: string,
  level: number = constants.Z_BEST_SPEED,
): Promise<StoredLayer> {
  const h = createHash("sha256");
  const gz = createGzip({ level });
  const input = Readable.from(hashing(tar, h));
  input.on("error", (e) => gz.destroy(e));
  // the error reaches the reader below through the iterator; without a listener it would also be uncaught
  // when it is emitted before the reader attached
  gz.on("error", () => {});
  input.pipe(gz);
  const blob = await storeBlobStream(root, gz as AsyncIterable<Uint8Array>, { what });
  return { digest: blob.digest, size: blob.size, diffId: `sha256:${h.digest("hex")}`, created: blob.created };
}
