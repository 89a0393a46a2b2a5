/**
 * Layer decompression: picks gzip, zstd or none from the media type and the stream's magic bytes and
 * decompresses with `node:zlib` as a stream (gzip members are read back to back).
 * @module
 */

import { pipeline, Readable } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { debug } from "../log.ts";

/** Compression of a layer blob. */
export type Compression = "gzip" | "zstd" | "none";

/** Size of the decompressor's output chunks. */
const OUT_CHUNK = 64 * 1024;

/** Compression named by a layer media type, or undefined when the media type does not say. */
export function compressionFromMediaType(mediaType: string): Compression | undefined {
  const mt = mediaType.toLowerCase().split(";")[0].trim();
  if (mt.endsWith("+gzip") || mt.endsWith(".tar.gzip") || mt.endsWith(".gzip")) return "gzip";
  if (mt.endsWith("+zstd") || mt.endsWith(".zstd")) return "zstd";
  if (mt.endsWith(".tar") || mt.endsWith("v1.tar") || mt === "application/x-tar") return "none";
  return undefined;
}

/** Compression recognised from the first bytes of a blob, or undefined when they match none. */
export function compressionFromMagic(head: Uint8Array): Compression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd && head[0] === 0x28) {
    return "zstd";
  }
  // zstd skippable frame: 0x184D2A50..5F little-endian
  if (
    head.length >= 4 && (head[0] & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18
  ) {
    return "zstd";
  }
  return undefined;
}

/**
 * Decides the compression: magic bytes that identify gzip or zstd win (the diff_id check covers the result
 * either way); otherwise the media type decides, and a blob the media type does not describe is plain tar.
 */
export function detectCompression(mediaType: string, head: Uint8Array): Compression {
  const byType = compressionFromMediaType(mediaType);
  const byMagic = compressionFromMagic(head);
  if (byMagic !== undefined) {
    if (byType !== undefined && byType !== byMagic) {
      debug(`layer media type ${mediaType} says ${byType} but the data is ${byMagic}; using ${byMagic}`);
    }
    return byMagic;
  }
  if (byType === "gzip" || byType === "zstd") return byType; // decompression will report the bad header
  return "none";
}

/** A peeked stream: its first bytes (at least `n` unless shorter) and the whole stream again. */
export async function peek(
  source: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const first: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    if (r.value.length === 0) continue;
    first.push(r.value);
    have += r.value.length;
  }
  const head = first.length === 1 ? first[0] : concatBytes(first);
  const stream: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: async function* () {
      try {
        for (const c of first) yield c;
        if (done) return;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      } finally {
        await it.return?.();
      }
    },
  };
  return { head: head.subarray(0, n), stream };
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Decompresses a stream. Errors of the decompressor (bad header, truncated data) and of the source are
 * thrown from the returned iterator; stopping the iteration early releases the source.
 */
export function decompress(source: AsyncIterable<Uint8Array>, kind: Compression): AsyncIterable<Uint8Array> {
  if (kind === "none") return source;
  const z = kind === "gzip"
    ? createGunzip({ chunkSize: OUT_CHUNK })
    : createZstdDecompress({ chunkSize: OUT_CHUNK });
  const input = Readable.from(source, { objectMode: false, highWaterMark: 1 << 20 });
  // pipeline destroys both sides on error; the error then surfaces through z's iterator.
  pipeline(input, z, () => {});
  return z as AsyncIterable<Uint8Array>;
}
