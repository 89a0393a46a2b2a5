/**
 * Layer unpacking, the one security boundary of pod: decompresses (gzip, zstd, none) and reads layer tars
 * with pod's own streaming reader, checks the diff_id, and applies the entries onto a root directory with
 * whiteouts, opaque directories and containment.
 *
 * Containment rules (see also `contain.ts`):
 * - refused (the layer fails): a name or hardlink target whose `..` climbs above the root; a hardlink to a
 *   missing target, to a directory or to the root; a non-directory entry for the root itself; a path whose
 *   parent is not a directory; a NUL byte in a name; an empty symlink target; more than 40 symlinks in one
 *   resolution; invalid whiteout names; sparse files and unknown entry types; a stream that is truncated, malformed, larger than `maxBytes` or whose sha256
 *   differs from the expected diff_id.
 * - contained (applied inside the root): absolute names (taken relative to the root); symlinks met while
 *   resolving a parent directory, followed inside the root like a chroot would (absolute targets from the
 *   root, `..` clamped at the root); missing parent directories (created); a file replacing a directory
 *   and the reverse; duplicate entries (the last one wins); whiteouts and opaque markers behind symlinks.
 * @module
 */

import { createHash } from "node:crypto";
import { describeError, PodError } from "../errors.ts";
import { Extraction, LayerApplier } from "./apply.ts";
import { checkEntry } from "./check.ts";
import { GarbageValve } from "../gc_valve.ts";
import { decompress, detectCompression, peek, syncDecompression } from "./compress.ts";
import { Root } from "./contain.ts";
import { ChunkReader, readTar, TarFormatError } from "./tar.ts";

/** A layer blob on disk. */
export interface LayerSource {
  /** Digest of the blob as stored (compressed), used in messages. */
  digest: string;
  /** Layer media type (decides the compression, falling back to magic bytes). */
  mediaType: string;
  /** Path of the blob file. */
  path: string;
  /** Expected `sha256:` digest of the uncompressed tar; checked when given. */
  diffId?: string;
}

/** Options for {@link unpackLayers} and {@link applyLayer}. */
export interface UnpackOptions {
  /** Largest uncompressed size of one layer (default `$POD_MAX_LAYER_BYTES`, else 64 GiB). */
  maxBytes?: number;
  /** Called as compressed bytes are read: layer index and bytes read so far from that layer. */
  onProgress?: (layerIndex: number, bytesIn: number) => void;
  /**
   * `unpackLayers`: the bytes of layer `layerIndex` from elsewhere than its `path` (a pull reads each blob
   * while it downloads), or null to read `path`. With `reuse` the chunks may be views of one reused buffer.
   */
  open?: (layerIndex: number, reuse: boolean) => Promise<AsyncIterable<Uint8Array> | null>;
}

/** Facts about one layer the unpacker needs. */
export interface LayerInfo {
  /** Digest of the blob (for messages). */
  digest: string;
  /** Media type of the blob. */
  mediaType: string;
  /** Expected diff_id, checked when given. */
  diffId?: string;
}

/** Result of applying one layer. */
export interface AppliedLayer {
  /** `sha256:` digest of the uncompressed tar stream. */
  diffId: string;
  /** Uncompressed size in bytes. */
  bytes: number;
}

/** Default uncompressed-size cap per layer. */
export const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;

/** The cap from `$POD_MAX_LAYER_BYTES`, else {@link DEFAULT_MAX_BYTES}. */
export function defaultMaxBytes(): number {
  let v: string | undefined;
  try {
    v = Deno.env.get("POD_MAX_LAYER_BYTES");
  } catch { /* no env permission: use the default */ }
  if (v === undefined || v === "") return DEFAULT_MAX_BYTES;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new PodError(`invalid POD_MAX_LAYER_BYTES "${v}": expected a positive number of bytes`);
  }
  return n;
}

/** A failure of the byte stream itself (not of one entry). */
class StreamError extends Error {}

const READ_CHUNK = 128 * 1024;

/**
 * Reads a file in 128 KiB chunks. With `reuse` every chunk is a view of one buffer, valid until the next is
 * requested (the synchronous decompressor and the tar reader are done with a chunk by then); otherwise each
 * chunk is fresh (the node stream decompressor may keep a chunk after it is handed over).
 */
async function* fileChunks(file: Deno.FsFile, reuse: boolean): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(READ_CHUNK);
  for (;;) {
    const n = file.readSync(buf); // page-cached blob: a sync read spares a thread round trip per chunk
    if (n === null) return;
    yield n === buf.length ? buf : buf.subarray(0, n);
    if (!reuse) buf = new Uint8Array(READ_CHUNK);
  }
}

/**
 * The canonical path of an extraction target. Never the host's `/`: a target that resolves there (an empty
 * path, a symlink to `/`, a `/proc/<pid>/root` magic link) would let a layer write anywhere.
 */
function targetRoot(target: string): Root {
  const real = Deno.realPathSync(target);
  if (real === "/") throw new PodError(`refusing to extract into "${target}": it resolves to the host's /`);
  return new Root(real);
}

/** Applies layers in order onto `target` (an existing, empty or partly built directory). */
export async function unpackLayers(
  target: string,
  layers: LayerSource[],
  opts: UnpackOptions = {},
): Promise<void> {
  const x = new Extraction(targetRoot(target));
  for (const [i, layer] of layers.entries()) {
    const streamed = await opts.open?.(i, syncDecompression());
    if (streamed) {
      await applyTo(x, streamed, layer, opts, i);
      continue;
    }
    await withLayerChunks(layer, (chunks) => applyTo(x, chunks, layer, opts, i));
  }
}

/** `use` of the chunks of a stored layer's file, closed afterwards; a file that won't open is a one-line error. */
async function withLayerChunks<T>(
  layer: LayerSource,
  use: (chunks: AsyncIterable<Uint8Array>) => Promise<T>,
): Promise<T> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(layer.path, { read: true });
  } catch (err) {
    throw new PodError(`layer ${layer.digest}: ${describeError(err)}`, undefined, { cause: err });
  }
  try {
    return await use(fileChunks(file, syncDecompression()));
  } finally {
    try {
      file.close();
    } catch { /* already closed by the stream */ }
  }
}

/**
 * Extracts `layers` into the fresh directory `tmp` and renames it to `target` only once every layer
 * verified, so `target` is whole or absent; a failure removes `tmp`. `replace`: an existing `target` is
 * removed first (a container's own rootfs); otherwise a `target` that appeared meanwhile (another builder of
 * the same image tree finished first) is kept and this copy removed.
 */
export async function unpackInto(
  target: string,
  tmp: string,
  layers: LayerSource[],
  opts: UnpackOptions & { replace?: boolean } = {},
): Promise<void> {
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { mode: 0o755 });
  try {
    await unpackLayers(tmp, layers, opts);
    if (opts.replace) await Deno.remove(target, { recursive: true }).catch(() => {});
    try {
      await Deno.rename(tmp, target);
    } catch (e) {
      if (opts.replace || !(await Deno.lstat(target).then((s) => s.isDirectory, () => false))) throw e;
      await Deno.remove(tmp, { recursive: true });
    }
  } catch (e) {
    // a missing path mid-extraction: the message says what is left of the temp tree (someone removed it?)
    if (e instanceof Error && /ENOENT/.test(e.message)) {
      let diag = "";
      try {
        const parent = tmp.slice(0, tmp.lastIndexOf("/"));
        const exists = await Deno.lstat(tmp).then(() => "yes", () => "no");
        const list = [...Deno.readDirSync(parent)].map((x) => x.name).join(",");
        diag = ` [diag pid=${Deno.pid} tmp exists=${exists} parent=${list}]`;
      } catch (d) {
        diag = ` [diag: ${d}]`;
      }
      e.message += diag;
    }
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** Applies one layer stream (compressed or not) — exported for tests and `pod cp`. */
export async function applyLayer(
  target: string,
  stream: ReadableStream<Uint8Array>,
  info: LayerInfo,
  opts: UnpackOptions = {},
): Promise<AppliedLayer> {
  return await applyTo(new Extraction(targetRoot(target)), stream, info, opts, 0);
}

/**
 * Reads one stored layer through the unpacker without writing anything: decompressed, size-capped, hashed
 * (checked against `layer.diffId` when given) and every entry put through the rules that need no tree
 * (`check.ts`). Returns its diff_id; throws the unpacker's one-line {@link PodError}. `stored`: the blob is
 * an uncompressed tar whose sha256 was verified as it was stored, and `layer.diffId` is that digest: it is
 * not hashed again.
 */
export async function checkLayer(
  layer: LayerSource,
  opts: UnpackOptions & { stored?: boolean } = {},
): Promise<AppliedLayer> {
  const known = opts.stored && layer.diffId !== undefined;
  return await withLayerChunks(layer, (chunks) => applyTo(undefined, chunks, layer, opts, 0, !known));
}

/** A layer's entries only checked ({@link checkLayer}): bodies are skipped unread. */
const CHECK_ONLY = { apply: checkEntry, finish() {} };

/** Applies one layer's entries onto `x`'s root, or with no extraction only checks them. */
async function applyTo(
  x: Extraction | undefined,
  stream: AsyncIterable<Uint8Array>,
  info: LayerInfo,
  opts: UnpackOptions,
  index: number,
  hashing = true,
): Promise<AppliedLayer> {
  const max = opts.maxBytes ?? defaultMaxBytes();
  const hash = createHash("sha256");
  let bytes = 0;
  let current: string | undefined;
  // the synchronous decompressor reuses its buffers: only the node stream path needs forced collections
  const valve = syncDecompression() ? undefined : new GarbageValve();
  try {
    let bytesIn = 0;
    const counted = async function* (): AsyncGenerator<Uint8Array> {
      for await (const c of stream) {
        bytesIn += c.length;
        opts.onProgress?.(index, bytesIn);
        yield c;
      }
    };
    const { head, stream: raw } = await peek(counted(), 4);
    const kind = detectCompression(info.mediaType, head);
    const plain = async function* (): AsyncGenerator<Uint8Array> {
      const it = decompress(raw, kind)[Symbol.asyncIterator]();
      try {
        for (;;) {
          let r: IteratorResult<Uint8Array>;
          try {
            r = await it.next();
          } catch (err) {
            throw new StreamError(
              kind === "none" ? `reading: ${describeError(err)}` : `${kind}: ${describeError(err)}`,
            );
          }
          if (r.done) return;
          const c = r.value;
          bytes += c.length;
          if (bytes > max) throw new StreamError(`uncompressed size exceeds the limit of ${max} bytes`);
          if (hashing) hash.update(c);
          valve?.add(c.length);
          yield c;
        }
      } finally {
        await it.return?.();
      }
    };
    const reader = new ChunkReader(plain());
    const applier = x ? new LayerApplier(x) : CHECK_ONLY;
    for await (const e of readTar(reader)) {
      current = e.name;
      await applier.apply(e);
      current = undefined;
    }
    applier.finish();
    await reader.drain();
    await x?.writer.drain();
  } catch (err) {
    await x?.writer.drain().catch(() => {}); // every descriptor closed before the caller cleans up
    throw layerError(info.digest, current, err);
  }
  const diffId = hashing ? "sha256:" + hash.digest("hex") : info.diffId!;
  if (info.diffId !== undefined && info.diffId !== diffId) {
    throw new PodError(`layer ${info.digest}: diff_id mismatch: expected ${info.diffId}, got ${diffId}`);
  }
  return { diffId, bytes };
}

function layerError(digest: string, entry: string | undefined, err: unknown): PodError {
  if (err instanceof PodError && err.code !== "SYSCALL") return err; // a failed call gets the entry's name
  const where = entry !== undefined && !(err instanceof StreamError)
    ? `entry ${JSON.stringify(entry)}: `
    : "";
  let why = describeError(err);
  if (err instanceof TarFormatError) why = `invalid tar: ${why}`;
  const code = err instanceof PodError ? err.code : undefined;
  return new PodError(`layer ${digest}: ${where}${why}`, { code, cause: err });
}
