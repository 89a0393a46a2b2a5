/**
 * `load`: an image archive (docker-archive as `docker save`/`podman save` write it, plain or gzip/zstd;
 * oci-archive) or an OCI layout directory → the store. The archive is indexed in one streaming pass
 * (`archive_read.ts`: blobs stream into the store under their own digests), then interpreted: every path a
 * document names is resolved inside the archive, every layer checked against the config's diff_id, and only
 * then are the images registered, so a failed or killed load leaves no image visible and the blobs it added
 * are removed again. Every layer is read once more through the unpacker's rules that need no tree
 * (`lib/unpack/check.ts`: a name climbing out with `..`, an unknown entry type…) while its diff_id is
 * hashed, so such a layer fails the load; the image tree itself is built at the first start (root and
 * rootless alike), where the unpacker applies every rule.
 *
 * One file over 400 lines on purpose: the rules that interpret an untrusted archive stay in one place.
 * @module
 */

import { createHash } from "node:crypto";
import { describeError, PodError } from "../errors.ts";
import { toOciManifest } from "../oci/convert.ts";
import {
  type Descriptor,
  type ImageManifest,
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
} from "../oci/manifest.ts";
import { INDEX_MEDIA_TYPES, MediaType } from "../oci/media_types.ts";
import { hostPlatform, selectPlatformManifest } from "../oci/platform.ts";
import { parseReference } from "../oci/reference.ts";
import { hasBlob, putBlobBytes, readBlob, storeBlobStream } from "../store/blobs.ts";
import { claimBlobs } from "../store/gc.ts";
import { addDanglingImage, addImage, ensureStore, listImages, REF_ANNOTATION } from "../store/images.ts";
import { blobPath } from "../store/paths.ts";
import { compressionFromMagic, syncDecompression } from "../unpack/compress.ts";
import { checkLayer } from "../unpack/mod.ts";
import {
  ArchiveError,
  type ArchiveIndex,
  dropBlobs,
  indexArchive,
  JSON_CAP,
  lookupMember,
} from "./archive_read.ts";
import { buildHostTree } from "./tree.ts";

/** Where to load from: a file or directory path, or a byte stream (stdin). */
export type LoadInput = { path: string } | { stream: AsyncIterable<Uint8Array> };

/** One loaded image. */
export interface LoadedImage {
  /** Image ID (hex of the config digest). */
  id: string;
  /** Full names it was stored under (empty: loaded without a name). */
  names: string[];
}

/** Options of {@link loadImages}. */
export interface LoadOptions {
  /** Largest member (layer) accepted (default `$POD_MAX_LAYER_BYTES`, else 64 GiB). */
  maxBytes?: number;
  /**
   * Build the host image tree now (root). Default false: every layer is read once through the unpacker's
   * rules that need no tree (with its diff_id) and the tree is built at the first start, as podman's load
   * does not prepare containers either.
   */
  buildTree?: boolean;
}

/** An image found in the archive, its blobs in the store, not yet registered. */
interface Pending {
  manifest: { mediaType: string; digest: string; size: number };
  configDigest: string;
  layers: Descriptor[];
  diffIds: string[];
  names: string[];
}

const dec = new TextDecoder();

function parseJsonMember(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch {
    throw new ArchiveError(`${what} is not valid JSON`);
  }
}

/** A full image name from an archive, or an error naming the document. */
function imageName(name: unknown, what: string): string {
  if (typeof name !== "string") throw new ArchiveError(`${what}: image name is not a string`);
  try {
    const r = parseReference(name);
    if (r.digest) throw new Error("a digest is not a tag");
    return r.toString();
  } catch {
    throw new ArchiveError(`${what}: invalid image name "${name.slice(0, 200)}"`);
  }
}

/** Stores bytes as a blob, noting it in `idx.created` when it is new (so a failed load removes it). */
async function putTracked(root: string, idx: ArchiveIndex, bytes: Uint8Array): Promise<string> {
  const digest = sha256Hex(bytes);
  if (!(await hasBlob(root, digest))) idx.created.push(digest);
  return await putBlobBytes(root, bytes);
}

function sha256Hex(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function memberBytes(root: string, idx: ArchiveIndex, path: string, what: string): Promise<Uint8Array> {
  const m = lookupMember(idx, path, what);
  if (m.kind === "json") return m.bytes;
  if (m.kind === "blob") return await readBlob(root, m.digest, JSON_CAP);
  throw new ArchiveError(`${what}: "${path}" is not a file`);
}

async function blobCompression(root: string, digest: string): Promise<"gzip" | "zstd" | "none"> {
  const f = await Deno.open(blobPath(root, digest), { read: true });
  try {
    const head = new Uint8Array(8);
    const n = (await f.read(head)) ?? 0;
    return compressionFromMagic(head.subarray(0, n)) ?? "none";
  } finally {
    f.close();
  }
}

const LAYER_TYPE = {
  none: MediaType.OciLayer,
  gzip: MediaType.OciLayerGzip,
  zstd: MediaType.OciLayerZstd,
} as const;

/** The images of a docker-archive (`manifest.json` + `repositories`). */
async function dockerArchiveImages(
  root: string,
  idx: ArchiveIndex,
  maxBytes: number | undefined,
): Promise<Pending[]> {
  const top = idx.members.get("manifest.json")!;
  if (top.kind !== "json") throw new ArchiveError("manifest.json is not a regular file", true);
  const list = parseJsonMember(top.bytes, "manifest.json");
  if (!Array.isArray(list) || list.length === 0) throw new ArchiveError("manifest.json lists no image");
  const repos = idx.members.get("repositories");
  const repoNames: string[] = [];
  if (repos) {
    if (repos.kind !== "json") throw new ArchiveError("repositories is not a regular file", true);
    const r = parseJsonMember(repos.bytes, "repositories");
    if (typeof r !== "object" || r === null || Array.isArray(r)) {
      throw new ArchiveError("repositories is not an object");
    }
    for (const [repo, tags] of Object.entries(r)) {
      for (const tag of Object.keys((tags ?? {}) as object)) {
        repoNames.push(imageName(`${repo}:${tag}`, "repositories"));
      }
    }
  }
  const out: Pending[] = [];
  for (const [i, item] of list.entries()) {
    const what = `manifest.json image ${i + 1}`;
    if (typeof item !== "object" || item === null) throw new ArchiveError(`${what} is not an object`);
    const { Config, RepoTags, Layers } = item as Record<string, unknown>;
    if (typeof Config !== "string") throw new ArchiveError(`${what} has no Config`);
    if (!Array.isArray(Layers) || Layers.some((l) => typeof l !== "string")) {
      throw new ArchiveError(`${what} has no Layers list`);
    }
    const configBytes = await memberBytes(root, idx, Config, what);
    let config;
    try {
      config = parseImageConfig(configBytes);
    } catch (e) {
      throw new ArchiveError(`${what}: config ${Config}: ${describeError(e)}`);
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== Layers.length) {
      throw new ArchiveError(
        `${what}: ${Layers.length} layers but the config lists ${diffIds.length} diff_ids`,
      );
    }
    const layers: Descriptor[] = [];
    for (const [j, path] of (Layers as string[]).entries()) {
      const m = lookupMember(idx, path, what);
      if (m.kind !== "blob") throw new ArchiveError(`${what}: layer "${path}" is not a file`);
      const kind = await blobCompression(root, m.digest);
      const mediaType = LAYER_TYPE[kind];
      // the diff_id and the unpacker's rules that need no tree, in one read; the tree waits for a start
      // (an uncompressed layer is its own diff_id: its digest was verified as it was stored)
      const stored = kind === "none";
      const { diffId } = await checkLayer(
        {
          digest: m.digest,
          mediaType,
          path: blobPath(root, m.digest),
          diffId: stored ? m.digest : undefined,
        },
        { maxBytes, stored },
      );
      if (diffId !== diffIds[j]) {
        throw new PodError(
          `invalid archive: layer "${path}" does not match the config's diff_id ${
            diffIds[j]
          } (got ${diffId})`,
          { code: "DIGEST_MISMATCH" },
        );
      }
      layers.push({ mediaType, digest: m.digest, size: m.size });
    }
    const configDigest = await putTracked(root, idx, configBytes);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers,
    };
    const mbytes = new TextEncoder().encode(JSON.stringify(manifest));
    const mdigest = await putTracked(root, idx, mbytes);
    const tags = RepoTags === undefined || RepoTags === null ? [] : RepoTags;
    if (!Array.isArray(tags)) throw new ArchiveError(`${what}: RepoTags is not a list`);
    const names = tags.map((t) => imageName(t, what));
    if (!names.length && list.length === 1) names.push(...repoNames);
    out.push({
      manifest: { mediaType: MediaType.OciManifest, digest: mdigest, size: mbytes.length },
      configDigest,
      layers,
      diffIds,
      names,
    });
  }
  return out;
}

async function readStoredManifest(root: string, d: Descriptor): Promise<Uint8Array> {
  if (!(await hasBlob(root, d.digest))) throw new ArchiveError(`the manifest ${d.digest} is missing`);
  return await readBlob(root, d.digest, JSON_CAP);
}

/** The images of an OCI layout (`index.json` + `blobs/`). */
async function ociImages(
  root: string,
  idx: ArchiveIndex,
  maxBytes: number | undefined,
): Promise<Pending[]> {
  const top = idx.members.get("index.json")!;
  if (top.kind !== "json") throw new ArchiveError("index.json is not a regular file", true);
  let index;
  try {
    index = parseImageIndex(top.bytes, MediaType.OciIndex);
  } catch (e) {
    throw new ArchiveError(`index.json: ${describeError(e)}`);
  }
  const out: Pending[] = [];
  for (const entry of index.manifests) {
    let d = entry;
    if (INDEX_MEDIA_TYPES.includes(d.mediaType)) {
      const inner = parseImageIndex(await readStoredManifest(root, d), d.mediaType);
      const chosen = selectPlatformManifest(inner.manifests, hostPlatform());
      if (!chosen) throw new ArchiveError(`index ${d.digest} has no image for this platform`);
      d = chosen;
    }
    let m: ImageManifest;
    try {
      m = parseImageManifest(await readStoredManifest(root, d), d.mediaType);
    } catch (e) {
      if (e instanceof PodError) throw e;
      throw new ArchiveError(`manifest ${d.digest}: ${describeError(e)}`);
    }
    const conv = toOciManifest(m);
    const mdigest = conv.bytes ? await putTracked(root, idx, conv.bytes) : d.digest;
    const msize = conv.bytes ? conv.bytes.length : d.size;
    for (const b of [conv.manifest.config, ...conv.manifest.layers]) {
      if (!(await hasBlob(root, b.digest))) {
        throw new ArchiveError(`manifest ${d.digest} lists ${b.digest}, which is not in the archive`);
      }
    }
    const config = parseImageConfig(await readBlob(root, conv.manifest.config.digest, JSON_CAP));
    if (config.rootfs.diff_ids.length !== conv.manifest.layers.length) {
      throw new ArchiveError(`manifest ${d.digest}: layer count does not match the config's diff_ids`);
    }
    for (const [i, l] of conv.manifest.layers.entries()) {
      const diffId = config.rootfs.diff_ids[i];
      await checkLayer({ digest: l.digest, mediaType: l.mediaType, path: blobPath(root, l.digest), diffId }, {
        maxBytes,
      });
    }
    const ann = entry.annotations?.[REF_ANNOTATION];
    // a bare tag ("latest") names no repository: such an image is loaded without a name
    const names = ann && /[/:]/.test(ann) ? [imageName(ann, "index.json")] : [];
    out.push({
      manifest: { mediaType: MediaType.OciManifest, digest: mdigest, size: msize },
      configDigest: conv.manifest.config.digest,
      layers: conv.manifest.layers,
      diffIds: config.rootfs.diff_ids,
      names,
    });
  }
  if (!out.length) throw new ArchiveError("index.json lists no image");
  return out;
}

/** Indexes an OCI layout directory like an archive (no symlinks followed, blobs verified against names). */
async function indexDirectory(
  root: string,
  dir: string,
  idx: ArchiveIndex,
  maxBytes: number | undefined,
  onBlob: (d: string) => Promise<void>,
): Promise<void> {
  for (const name of ["index.json", "oci-layout"]) {
    const st = await Deno.lstat(`${dir}/${name}`).catch(() => undefined);
    if (!st) continue;
    if (!st.isFile) throw new ArchiveError(`${name} is not a regular file`, true);
    if (st.size > JSON_CAP) throw new ArchiveError(`${name} is too large`);
    idx.members.set(name, { kind: "json", bytes: await Deno.readFile(`${dir}/${name}`) });
  }
  const bdir = `${dir}/blobs/sha256`;
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(bdir)) entries.push(e);
  } catch { /* no blobs directory: index.json will name missing blobs */ }
  for (const e of entries) {
    if (!/^[a-f0-9]{64}$/.test(e.name) || !e.isFile) continue; // symlinks are not followed
    const f = await Deno.open(`${bdir}/${e.name}`, { read: true });
    const b = await storeBlobStream(root, f.readable, {
      expect: `sha256:${e.name}`,
      maxBytes,
      what: `blobs/sha256/${e.name}`,
    });
    if (b.created) idx.created.push(b.digest);
    idx.all.push(b.digest);
    await onBlob(b.digest);
    idx.members.set(`blobs/sha256/${e.name}`, { kind: "blob", digest: b.digest, size: b.size });
  }
}

async function openInput(
  root: string,
  input: LoadInput,
  idx: ArchiveIndex,
  maxBytes: number | undefined,
  onBlob: (d: string) => Promise<void>,
): Promise<void> {
  if ("stream" in input) {
    await indexArchive(root, input.stream, { maxBytes, onBlob, into: idx });
    return;
  }
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(input.path);
  } catch (e) {
    throw new PodError(`${input.path}: ${describeError(e)}`, { code: "NOT_FOUND" });
  }
  if (st.isDirectory) return await indexDirectory(root, input.path, idx, maxBytes, onBlob);
  const f = await Deno.open(input.path, { read: true });
  try {
    await indexArchive(root, readerChunks(f), { maxBytes, onBlob, into: idx });
  } finally {
    f.close();
  }
}

/**
 * Chunks of a reader (a file, stdin). Every consumer of an archive stream (the tar reader, the synchronous
 * decompressor, blob writes) is done with a chunk before it asks for the next, so one buffer is reused when
 * the decompressor is the synchronous one (the stream one keeps its input).
 */
export async function* readerChunks(
  r: { read(p: Uint8Array): Promise<number | null> },
): AsyncGenerator<Uint8Array> {
  const reuse = syncDecompression();
  let buf = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await r.read(buf);
    if (n === null) return;
    if (n === 0) continue;
    yield buf.subarray(0, n);
    if (!reuse) buf = new Uint8Array(256 * 1024);
  }
}

/**
 * Loads every image of an archive or OCI layout directory into the store at `root` and registers its names.
 * Throws a one-line {@link PodError} (invalid archive, digest mismatch, refused layer) and then leaves the
 * store as it was.
 */
export async function loadImages(
  root: string,
  input: LoadInput,
  opts: LoadOptions = {},
): Promise<LoadedImage[]> {
  await ensureStore(root);
  const claim = await claimBlobs(root);
  const idx: ArchiveIndex = { members: new Map(), created: [], all: [] };
  let drop: string[] = [];
  try {
    await openInput(root, input, idx, opts.maxBytes, (d) => claim.add([d]));
    let images: Pending[];
    if (idx.members.has("manifest.json")) images = await dockerArchiveImages(root, idx, opts.maxBytes);
    else if (idx.members.has("index.json")) images = await ociImages(root, idx, opts.maxBytes);
    else throw new ArchiveError("neither manifest.json nor index.json found: not an image archive");
    await claim.add(images.flatMap((i) => [i.manifest.digest, i.configDigest]));
    if (opts.buildTree) {
      for (const img of images) {
        const layers = img.layers.map((l, i) => ({
          digest: l.digest,
          mediaType: l.mediaType,
          path: blobPath(root, l.digest),
          diffId: img.diffIds[i],
        }));
        try {
          await buildHostTree(root, layers, () => Promise.resolve(null));
        } catch (e) {
          if (e instanceof PodError) throw e;
          throw new PodError(`invalid archive: ${describeError(e)}`);
        }
      }
    }
    // an image the store already has (the same config, i.e. the same image ID) keeps its manifest and gains the
    // archive's names, as podman adds names to the image it has: one ID with two manifests (the layers
    // compressed in one archive and not in the other) would make the ID ambiguous
    const have = new Map((await listImages(root)).map((i) => [i.configDigest, i]));
    const fresh = images.filter((i) => !have.has(i.configDigest));
    const used = new Set(
      fresh.flatMap((i) => [i.manifest.digest, i.configDigest, ...i.layers.map((l) => l.digest)]),
    );
    for (const img of images) {
      const old = have.get(img.configDigest);
      if (!img.names.length && !old) await addDanglingImage(root, { ...img.manifest }, img.configDigest);
      for (const ref of img.names) {
        await addImage(
          root,
          old
            ? { ref, manifest: old.manifest, indexDigest: old.indexDigest, configDigest: old.configDigest }
            : { ref, manifest: img.manifest, configDigest: img.configDigest },
        );
      }
    }
    drop = idx.created.filter((d) => !used.has(d)); // archive members no image uses
    return images.map((i) => ({ id: i.configDigest.slice(7), names: i.names }));
  } catch (e) {
    drop = idx.created;
    throw e;
  } finally {
    await claim.release(); // first: our own claim would keep what is to be dropped
    await dropBlobs(root, drop);
  }
}
