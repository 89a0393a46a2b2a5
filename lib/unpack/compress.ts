/**
 * Layer decompression: picks gzip, zstd or none from the media type and the stream's magic bytes and
 * decompresses with `node:zlib` (gzip members are read back to back).
 *
 * The fast path drives the zlib handle synchronously (`writeSync`, as Node's own `zlib.*Sync` functions do)
 * into one reused output buffer: no stream machinery, no buffer per chunk, so no garbage piles up (the node
 * stream path allocated every 64 KiB of output and needed forced collections to keep RSS flat). It is used
 * when the runtime's zlib object exposes that handle; otherwise the node stream path runs.
 * @module
 */

import { pipeline, Readable } from "node:stream";
import { constants, createGunzip, createGzip, createZstdDecompress } from "node:zlib";
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
    have += r.value.length;
    // a chunk kept across another read is copied: the source may reuse its buffer
    first.push(have < n ? new Uint8Array(r.value) : r.value);
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

/** Output buffer of the synchronous path (reused: every chunk it yields is a view valid until the next one). */
const SYNC_OUT = 256 * 1024;

/** The parts of a node zlib object the synchronous path uses (what Node's `zlibBufferSync` uses). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): unknown;
  onerror: (message: string, errno: number) => void;
  close(): void;
}

interface ZlibObject {
  _handle?: ZlibHandle | null;
  _writeState?: Uint32Array;
}

function newZlib(kind: "gzip" | "zstd", chunkSize: number) {
  return kind === "gzip" ? createGunzip({ chunkSize }) : createZstdDecompress({ chunkSize });
}

let syncOk: boolean | undefined;

/** True when the runtime's zlib objects offer the synchronous handle (then {@link decompress} reuses buffers). */
export function syncDecompression(): boolean {
  if (syncOk === undefined) {
    const z = newZlib("gzip", OUT_CHUNK) as unknown as ZlibObject;
    syncOk = typeof z._handle?.writeSync === "function" && z._writeState instanceof Uint32Array &&
      z._writeState.length >= 2;
    z._handle?.close();
  }
  return syncOk;
}

/**
 * Decompresses synchronously chunk by chunk. Each source chunk is consumed completely before the next one
 * is requested, so the source may reuse its buffer; yielded chunks are views of one reused buffer.
 */
function decompressSync(
  source: AsyncIterable<Uint8Array>,
  kind: "gzip" | "zstd",
): AsyncGenerator<Uint8Array> {
  return driveSync(newZlib(kind, SYNC_OUT) as unknown as ZlibObject, source);
}

/**
 * Runs a node zlib object's handle synchronously over `source` (see {@link decompressSync}): a decompressor
 * stops at the end of its data, a compressor is finished when the source ends.
 */
async function* driveSync(z: ZlibObject, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const h = z._handle!;
  const state = z._writeState!;
  let failure: Error | undefined;
  h.onerror = (message: string, errno: number) => {
    failure ??= Object.assign(new Error(message), { errno });
  };
  const out = new Uint8Array(SYNC_OUT);
  let ended = false; // the decompressor wants no more input (end of the compressed data)
  try {
    const run = function* (input: Uint8Array, flush: number): Generator<Uint8Array> {
      let off = 0;
      let len = input.length;
      for (;;) {
        h.writeSync(flush, input, off, len, out, 0, out.length);
        if (failure) throw failure;
        const availOut = state[0];
        const availIn = state[1];
        off += len - availIn;
        len = availIn;
        if (availOut < out.length) yield out.subarray(0, out.length - availOut);
        if (availOut === 0) continue; // the output filled up: more may be pending
        // output space left: the input is used up, or the data ended (like Node, ignore what follows)
        if (len > 0) ended = true;
        return;
      }
    };
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      yield* run(chunk, constants.Z_NO_FLUSH);
      if (ended) return;
    }
    yield* run(new Uint8Array(0), constants.Z_FINISH);
  } finally {
    h.close();
  }
}

/**
 * Gzip-compresses a stream at `level`. With {@link syncDecompression} (the same handle) it runs
 * synchronously: each source chunk is consumed before the next is requested and the chunks yielded are views
 * of one reused buffer, valid until the next one is requested (no garbage per chunk). Otherwise through a
 * node stream: then the source's chunks must be the compressor's to keep.
 */
export function gzipChunks(source: AsyncIterable<Uint8Array>, level: number): AsyncIterable<Uint8Array> {
  if (syncDecompression()) {
    return driveSync(createGzip({ level, chunkSize: SYNC_OUT }) as unknown as ZlibObject, source);
  }
  const z = createGzip({ level });
  pipeline(Readable.from(source, { objectMode: false }), z, () => {});
  return z as AsyncIterable<Uint8Array>;
}

/**
 * Decompresses a stream. Errors of the decompressor (bad header, truncated data) and of the source are
 * thrown from the returned iterator; stopping the iteration early releases the source. When
 * {@link syncDecompression} is true the source's chunks are consumed before the next is requested and the
 * chunks yielded are views of a reused buffer, valid until the next one is requested.
 */
export function decompress(source: AsyncIterable<Uint8Array>, kind: Compression): AsyncIterable<Uint8Array> {
  if (kind === "none") return source;
  if (syncDecompression()) return decompressSync(source, kind);
  const z = kind === "gzip"
    ? createGunzip({ chunkSize: OUT_CHUNK })
    : createZstdDecompress({ chunkSize: OUT_CHUNK });
  const input = Readable.from(source, { objectMode: false, highWaterMark: 1 << 20 });
  // pipeline destroys both sides on error; the error then surfaces through z's iterator.
  pipeline(input, z, () => {});
  return z as AsyncIterable<Uint8Array>;
}
