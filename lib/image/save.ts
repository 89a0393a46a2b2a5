/**
 * `save`: images of the store → a docker-archive (the `docker save` layout: `manifest.json`, `repositories`,
 * `<config>.json`, one uncompressed `<diff_id>.tar` per layer) or an oci-archive (an OCI image layout in a
 * tar), streamed: a layer is never held in memory (to stdout a compressed layer is decompressed twice, once to
 * learn its size for the tar header, once to write it; to a file once, its header rewritten after it, or by
 * `igzip` when installed: `save_inflate.ts`).
 * @module
 */

import { PodError } from "../errors.ts";
import { debug } from "../log.ts";
import type { ImageConfig, ImageManifest } from "../oci/manifest.ts";
import { MediaType } from "../oci/media_types.ts";
import { parseReference } from "../oci/reference.ts";
import { blobChunks, blobPath, readBlob } from "../store/blobs.ts";
import { hostBinary } from "../ns/helpers_check.ts";
import type { PlannedEntry } from "./save_inflate.ts";
import { type ImageRecord, readImageConfig, readManifest, resolveImage } from "../store/images.ts";
import { tempName } from "../store/atomic.ts";
import {
  encodeHeader,
  endOfArchive,
  padding,
  tarEntryChunks,
  type TarWriteEntry,
  writeTar,
} from "../unpack/tar_write.ts";
import { layerCompression } from "../oci/media_types.ts";
import { OrderedWriter } from "./ordered_writer.ts";

/** Archive formats `save` writes. */
export type ArchiveFormat = "docker-archive" | "oci-archive";

/** One image to save and the names to record for it. */
export interface SaveItem {
  /** The image. */
  image: ImageRecord;
  /** Full names written into the archive (`RepoTags` / `ref.name`). */
  names: string[];
}

/** Progress of a save, for a caller that prints. */
export type SaveEvent = { type: "blob"; digest: string; size: number };

const MTIME = { sec: 0, nsec: 0 };
const enc = new TextEncoder();

function fileEntry(
  name: string,
  body: Uint8Array | (() => AsyncIterable<Uint8Array>),
  size: number,
): TarWriteEntry {
  return { name, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: MTIME, size, body };
}

/**
 * The images named by `args`. Without `multi`, as podman, the first argument is the image and the others
 * are further names to record for it; with `multi` every argument is an image. An argument that is a name
 * records that name; an ID records every name of the image.
 */
export async function resolveSaveItems(root: string, args: string[], multi: boolean): Promise<SaveItem[]> {
  const named = async (arg: string): Promise<SaveItem> => {
    const image = await resolveImage(root, arg);
    const id = arg.replace(/^sha256:/, "");
    if (/^[a-f0-9]{3,64}$/.test(id) && image.id.startsWith(id)) return { image, names: [...image.names] };
    const full = parseReference(arg).toString();
    // the name the argument resolved to (a short `one` is `localhost/one:latest` for an image built here),
    // as podman records it; the normalized argument only when no name of the image matches
    const tagged = /[:@][^/]*$/.test(arg) ? [arg] : [arg, `${arg}:latest`];
    const match = image.names.find((n) => n === full) ??
      image.names.find((n) => tagged.some((t) => n === t || n.endsWith(`/${t}`)));
    return { image, names: [match ?? full] };
  };
  if (multi) return await Promise.all(args.map(named));
  const first = await named(args[0]);
  for (const extra of args.slice(1)) {
    let full: string;
    try {
      full = parseReference(extra).toString();
    } catch {
      throw new PodError(`invalid image name "${extra}"`, { code: "USAGE" });
    }
    if (!first.names.includes(full)) first.names.push(full);
  }
  return [first];
}

/**
 * A compressed layer blob, decompressed. The decompressor (`node:zlib`, whose loading costs more than a
 * whole `igzip` run) is loaded when first needed. The chunks are views of a reused buffer when the runtime
 * allows it (then each one is to be written out before the next is asked for).
 */
async function* inflated(root: string, digest: string, kind: "gzip" | "zstd"): AsyncGenerator<Uint8Array> {
  const { decompress, syncDecompression } = await import("../unpack/compress.ts");
  // each chunk is written out before the next is read: one reused buffer (unless the stream decompressor,
  // which keeps its input, is in use)
  try {
    yield* decompress(blobChunks(root, digest, syncDecompression()), kind);
  } catch (e) {
    if (e instanceof PodError || e instanceof Deno.errors.NotFound) throw e;
    // the decompressor's own error (bad header, data check, truncation): one line naming the layer
    throw new PodError(`layer ${digest} is corrupt: ${e instanceof Error ? e.message : e}`, {
      hint: "pod system check --repair removes corrupt blobs and the images that need them",
    });
  }
}

/** Size of a layer once decompressed (reads it through once). */
async function uncompressedSize(root: string, digest: string, kind: "gzip" | "zstd"): Promise<number> {
  let n = 0;
  for await (const c of inflated(root, digest, kind)) n += c.length;
  return n;
}

/**
 * Layer entries whose size is written after their body (see {@link saveArchiveToFile}), with their
 * compressed blob.
 */
const sizeLater = new WeakMap<TarWriteEntry, { digest: string; kind: "gzip" | "zstd" }>();

async function* dockerEntries(
  root: string,
  items: SaveItem[],
  onEvent?: (e: SaveEvent) => void,
  deferSizes = false,
): AsyncGenerator<TarWriteEntry> {
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, names } of items) {
    const [m, c]: [ImageManifest, ImageConfig] = await Promise.all([
      readManifest(root, image),
      readImageConfig(root, image),
    ]);
    const layers: string[] = [];
    for (const [i, l] of m.layers.entries()) {
      const diffId = c.rootfs.diff_ids[i];
      if (!diffId) {
        throw new PodError(`image ${image.id.slice(0, 12)}: config has no diff_id for layer ${i + 1}`);
      }
      const name = `${diffId.slice(7)}.tar`;
      layers.push(name);
      if (written.has(name)) continue;
      written.add(name);
      const kind = layerCompression(l.mediaType);
      const defer = deferSizes && kind !== "none";
      const size = kind === "none" ? l.size : defer ? 0 : await uncompressedSize(root, l.digest, kind);
      onEvent?.({ type: "blob", digest: l.digest, size: l.size });
      const body = () => kind === "none" ? blobChunks(root, l.digest, true) : inflated(root, l.digest, kind);
      const entry = fileEntry(name, body, size);
      if (defer) sizeLater.set(entry, { digest: l.digest, kind });
      yield entry;
    }
    const cfgName = `${image.configDigest.slice(7)}.json`;
    if (!written.has(cfgName)) {
      written.add(cfgName);
      const bytes = await readBlob(root, image.configDigest);
      yield fileEntry(cfgName, bytes, bytes.length);
    }
    manifest.push({ Config: cfgName, RepoTags: names, Layers: layers });
    for (const n of names) {
      const colon = n.lastIndexOf(":");
      (repositories[n.slice(0, colon)] ??= {})[n.slice(colon + 1)] = layers.at(-1)?.slice(0, 64) ?? "";
    }
  }
  const mbytes = enc.encode(JSON.stringify(manifest));
  yield fileEntry("manifest.json", mbytes, mbytes.length);
  const rbytes = enc.encode(JSON.stringify(repositories));
  yield fileEntry("repositories", rbytes, rbytes.length);
}

/** The OCI layout of `items`: its blobs (digest, size) and its `index.json`. */
export async function ociLayoutOf(
  root: string,
  items: SaveItem[],
): Promise<{ blobs: { digest: string; size: number }[]; index: Uint8Array }> {
  const blobs = new Map<string, number>();
  const manifests: unknown[] = [];
  for (const { image, names } of items) {
    const m = await readManifest(root, image);
    for (const d of [m.config, ...m.layers]) blobs.set(d.digest, d.size);
    blobs.set(image.digest, image.manifest.size);
    const desc = { mediaType: image.manifest.mediaType, digest: image.digest, size: image.manifest.size };
    if (!names.length) manifests.push(desc);
    for (const n of names) {
      manifests.push({ ...desc, annotations: { "org.opencontainers.image.ref.name": n } });
    }
  }
  const index = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
  return { blobs: [...blobs].map(([digest, size]) => ({ digest, size })), index };
}

async function* ociEntries(
  root: string,
  items: SaveItem[],
  onEvent?: (e: SaveEvent) => void,
): AsyncGenerator<TarWriteEntry> {
  const { blobs, index } = await ociLayoutOf(root, items);
  const layout = enc.encode(JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  yield fileEntry("oci-layout", layout, layout.length);
  yield { name: "blobs", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: MTIME };
  yield { name: "blobs/sha256", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: MTIME };
  for (const b of blobs) {
    onEvent?.({ type: "blob", digest: b.digest, size: b.size });
    yield fileEntry(`blobs/sha256/${b.digest.slice(7)}`, () => blobChunks(root, b.digest, true), b.size);
  }
  yield fileEntry("index.json", index, index.length);
}

/** The archive of `items` in `format`, as a stream of tar bytes. */
export function saveArchive(
  root: string,
  items: SaveItem[],
  format: ArchiveFormat,
  onEvent?: (e: SaveEvent) => void,
): AsyncIterable<Uint8Array> {
  return writeTar(
    format === "docker-archive" ? dockerEntries(root, items, onEvent) : ociEntries(root, items, onEvent),
  );
}

/**
 * Writes a file atomically: `fill` writes a temp file beside `path`, renamed onto `path` when complete; on
 * failure the temp file is removed. A killed save leaves no half file under `path`. Not fsynced, as podman's
 * archive writers do not: a `sync` of a 150 MiB archive cost more than writing it (durability across a power
 * cut is the file system's business, as for `cp`).
 */
export async function writeFileAtomically(
  path: string,
  fill: (f: Deno.FsFile, tmp: string) => Promise<void>,
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
  const tmp = `${dir}/${tempName("save")}`;
  const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
  try {
    await fill(f, tmp);
    f.close();
    await Deno.rename(tmp, path);
  } catch (e) {
    try {
      f.close();
    } catch { /* closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

async function writeAll(f: Deno.FsFile, c: Uint8Array): Promise<void> {
  let off = 0;
  while (off < c.length) off += await f.write(c.subarray(off));
}

/** Writes `chunks` to `path` atomically (a temp file renamed into place; removed on failure). */
export async function writeFileFromChunks(
  path: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<void> {
  await writeFileAtomically(path, async (f) => {
    for await (const c of chunks) await writeAll(f, c);
  });
}

/** A deferred size that needs more than one header block (≥ 8 GiB): the archive is written again. */
class SizeNeedsPax extends Error {}

/**
 * {@link saveArchive} into the file `path`, atomically. A docker-archive's compressed layers are decompressed
 * once: each layer's tar header is written as a placeholder, its body streamed, then the header rewritten
 * with the size counted (a stream, as on stdout, needs a first pass for the size).
 */
export async function saveArchiveToFile(
  root: string,
  items: SaveItem[],
  format: ArchiveFormat,
  path: string,
  onEvent?: (e: SaveEvent) => void,
): Promise<void> {
  if (format === "docker-archive") {
    const r = await saveInflatedToFile(root, items, path, onEvent);
    if (r === "saved") return;
    if (r === "announced") onEvent = undefined; // its blobs were announced: not twice
    try {
      await writeFileAtomically(path, async (f) => {
        // written behind: the next chunk is decompressed while the last one is written out
        const w = new OrderedWriter(f);
        for await (const e of dockerEntries(root, items, onEvent, true)) {
          if (!sizeLater.has(e) || typeof e.body !== "function") {
            for await (const c of tarEntryChunks(e)) await w.write(c);
            continue;
          }
          const start = w.position;
          await w.write(new Uint8Array(512));
          let n = 0;
          for await (const c of e.body()) {
            await w.write(c);
            n += c.length;
          }
          const pad = padding(n);
          if (pad.length) await w.write(pad);
          const header = encodeHeader({ ...e, size: n });
          if (header.length !== 512) throw new SizeNeedsPax();
          await w.flush();
          await f.seek(start, Deno.SeekMode.Start);
          await writeAll(f, header);
          await f.seek(0, Deno.SeekMode.End);
        }
        await w.write(endOfArchive());
        await w.flush();
      });
      return;
    } catch (e) {
      if (!(e instanceof SizeNeedsPax)) throw e;
    }
  }
  await writeFileFromChunks(path, saveArchive(root, items, format, onEvent));
}

/**
 * The docker-archive of `items` written to `path` with its gzip layers inflated by `igzip`, in parallel, at
 * planned offsets (see `save_inflate.ts`). "saved" when done. Otherwise nothing is written (`igzip` is not
 * installed, a layer is zstd, or the plan failed) and the caller writes the archive in-process; "announced"
 * when the blobs' events were sent already.
 */
async function saveInflatedToFile(
  root: string,
  items: SaveItem[],
  path: string,
  onEvent?: (e: SaveEvent) => void,
): Promise<"saved" | "announced" | "no"> {
  let igzip: string | undefined;
  try {
    igzip = hostBinary("igzip");
  } catch {
    return "no"; // a library user without permission to read PATH
  }
  if (!igzip) return "no";
  const { InflatePlanFailed, writeInflated } = await import("./save_inflate.ts");
  const planned: PlannedEntry[] = [];
  const events: SaveEvent[] = [];
  for await (const entry of dockerEntries(root, items, (e) => events.push(e), true)) {
    const later = sizeLater.get(entry);
    if (later?.kind === "zstd") return "no";
    planned.push({ entry, gzipBlob: later ? blobPath(root, later.digest) : undefined });
  }
  if (!planned.some((p) => p.gzipBlob !== undefined)) return "no"; // nothing to inflate: the plain path
  for (const e of events) onEvent?.(e);
  try {
    let done = { layers: 0, atOnce: 0 };
    await writeFileAtomically(path, async (f, tmp) => {
      done = await writeInflated(f, tmp, planned, igzip);
    });
    debug(`save: ${done.layers} gzip layers inflated by ${igzip}, ${done.atOnce} at once`);
    return "saved";
  } catch (e) {
    if (!(e instanceof InflatePlanFailed)) throw e;
    debug(`save: ${e.message}: writing the archive again, inflating in-process`);
    return "announced";
  }
}

/**
 * Writes (or adds to) an OCI layout directory `dir`: the blobs (copied, skipped when present) and one
 * `index.json` entry per name (replacing an entry of the same name).
 */
export async function writeOciDir(root: string, dir: string, items: SaveItem[]): Promise<void> {
  const { blobs, index } = await ociLayoutOf(root, items);
  await Deno.mkdir(`${dir}/blobs/sha256`, { recursive: true });
  await Deno.writeTextFile(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  for (const b of blobs) {
    const dest = `${dir}/blobs/sha256/${b.digest.slice(7)}`;
    if (await Deno.lstat(dest).then((s) => s.isFile && s.size === b.size, () => false)) continue;
    await writeFileFromChunks(dest, blobChunks(root, b.digest, true));
  }
  type Entry = { annotations?: Record<string, string> };
  const fresh = JSON.parse(new TextDecoder().decode(index)) as { manifests: Entry[] };
  let old: Entry[] = [];
  try {
    old = (JSON.parse(await Deno.readTextFile(`${dir}/index.json`)).manifests ?? []) as Entry[];
  } catch { /* new layout */ }
  const ref = (e: Entry) => e.annotations?.["org.opencontainers.image.ref.name"];
  const names = new Set(fresh.manifests.map(ref).filter((n) => n !== undefined));
  // an unnamed entry is replaced by nothing: it stays
  const manifests = [...old.filter((e) => !names.has(ref(e) ?? "")), ...fresh.manifests];
  await writeFileFromChunks(
    `${dir}/index.json`,
    [enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }))],
  );
}
