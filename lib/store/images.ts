/**
 * The image store: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) that skopeo can read.
 *
 * `index.json` holds one descriptor per image name; several names may share a manifest. Changes to it are
 * made under the store lock and written atomically, after every blob the image needs is in place.
 * @module
 */

import type { Descriptor, ImageConfig, ImageManifest } from "../oci/manifest.ts";
import { NotFoundError, PodError } from "../errors.ts";
import { type ImageReference, isDomain, parseReference, repositoryName } from "../oci/reference.ts";
import { cleanStaleTemps, readJsonIfExists, writeJsonAtomic } from "./atomic.ts";
import { withLock } from "./lock.ts";
import { blobPath, storePaths } from "./paths.ts";

/** Annotation with the image's full name (what `skopeo … oci:<root>:<name>` matches). */
export const REF_ANNOTATION = "org.opencontainers.image.ref.name";
/** Annotation with the config digest (the image ID), so listings need not read manifests. */
export const CONFIG_ANNOTATION = "io.pod.image.config";
/** Annotation with the digest of the index the manifest was chosen from. */
export const INDEX_ANNOTATION = "io.pod.index.digest";
/** Annotation with the time the image was stored. */
export const PULLED_ANNOTATION = "io.pod.image.pulled";

/** The store's `index.json`. */
export interface StoreIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** One image in the store (every name that points at one manifest). */
export interface ImageRecord {
  /** Image ID: hex of the config digest. */
  id: string;
  /** Digest of the platform manifest. */
  digest: string;
  /** Config digest (`sha256:` + id). */
  configDigest: string;
  /** Full names (`docker.io/library/busybox:latest`); empty for a dangling image. */
  names: string[];
  /** The manifest descriptor (without annotations). */
  manifest: Descriptor;
  /** Digest of the index it was pulled through, when there was one. */
  indexDigest?: string;
  /** When it was stored (ISO). */
  pulled?: string;
}

/** What a pull (or tag) registers. */
export interface NewImage {
  /** Full normalized name, e.g. `docker.io/library/busybox:latest`. */
  ref: string;
  /** Descriptor of the platform manifest (already in `blobs/`). */
  manifest: { mediaType: string; digest: string; size: number; platform?: Descriptor["platform"] };
  /** Digest of the index the manifest came from. */
  indexDigest?: string;
  /** Config digest, when the caller knows it (else read from the manifest). */
  configDigest?: string;
}

/** Creates the store if needed (mode 0700) and removes leftovers of killed processes. */
export async function ensureStore(root: string): Promise<void> {
  const p = storePaths(root);
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  await Deno.chmod(root, 0o700);
  for (const d of [p.blobs, p.tmp, p.containers, p.names, p.volumes]) {
    await Deno.mkdir(d, { recursive: true, mode: 0o700 });
  }
  try {
    await Deno.lstat(p.ociLayout);
  } catch {
    await writeJsonAtomic(p.ociLayout, { imageLayoutVersion: "1.0.0" }, 0o644);
  }
  try {
    await Deno.lstat(p.index);
  } catch {
    await withLock(p.lock, async () => {
      if (!(await readJsonIfExists(p.index))) await writeIndex(root, { schemaVersion: 2, manifests: [] });
    });
  }
  await cleanStaleTemps(p.tmp);
  await cleanStaleTemps(root); // index.json / oci-layout temps (writeJsonAtomic) of a killed process
}

/** Reads `index.json` (an empty index when the store is new). */
export async function readIndex(root: string): Promise<StoreIndex> {
  const idx = await readJsonIfExists<StoreIndex>(storePaths(root).index);
  if (!idx) return { schemaVersion: 2, manifests: [] };
  if (!Array.isArray(idx.manifests)) {
    throw new PodError(`corrupt ${storePaths(root).index}: no manifests array`);
  }
  return idx;
}

function writeIndex(root: string, idx: StoreIndex): Promise<void> {
  return writeJsonAtomic(
    storePaths(root).index,
    { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: idx.manifests },
    0o644,
  );
}

/** Reads and parses a JSON blob of the store. */
export function readJsonBlob<T>(root: string, digest: string): Promise<T> {
  try {
    // run6: sync, as readJsonIfExists: a small file, no trip through the blocking thread pool
    return Promise.resolve(JSON.parse(Deno.readTextFileSync(blobPath(root, digest))) as T);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return Promise.reject(new PodError(`blob ${digest} is missing from the store`));
    }
    return Promise.reject(new PodError(`blob ${digest} is not valid JSON: ${(e as Error).message}`));
  }
}

async function configDigestOf(root: string, d: Descriptor): Promise<string> {
  const known = d.annotations?.[CONFIG_ANNOTATION];
  if (known) return known;
  return (await readJsonBlob<ImageManifest>(root, d.digest)).config.digest;
}

/** Groups index entries into images. */
export async function listImages(root: string): Promise<ImageRecord[]> {
  const idx = await readIndex(root);
  const byDigest = new Map<string, ImageRecord>();
  for (const d of idx.manifests) {
    let rec = byDigest.get(d.digest);
    if (!rec) {
      const configDigest = await configDigestOf(root, d).catch(() => "");
      if (!configDigest) continue; // a broken entry: `pod system check` reports it
      const { annotations: _a, ...manifest } = d;
      rec = {
        id: configDigest.slice("sha256:".length),
        digest: d.digest,
        configDigest,
        names: [],
        manifest,
        indexDigest: d.annotations?.[INDEX_ANNOTATION],
        pulled: d.annotations?.[PULLED_ANNOTATION],
      };
      byDigest.set(d.digest, rec);
    }
    const name = d.annotations?.[REF_ANNOTATION];
    if (name && !rec.names.includes(name)) rec.names.push(name);
  }
  return [...byDigest.values()];
}

/** Registers an image name → manifest (replacing what the name pointed at before). Takes the store lock. */
export async function addImage(root: string, img: NewImage): Promise<void> {
  const p = storePaths(root);
  const configDigest = img.configDigest ??
    (await readJsonBlob<ImageManifest>(root, img.manifest.digest)).config.digest;
  await withLock(p.lock, async () => {
    const idx = await readIndex(root);
    const previous = idx.manifests.filter((d) => d.annotations?.[REF_ANNOTATION] === img.ref);
    const manifests = idx.manifests.filter((d) => d.annotations?.[REF_ANNOTATION] !== img.ref);
    // the old image of this name stays, nameless, if nothing else names it (podman's <none>)
    for (const old of previous) {
      if (old.digest === img.manifest.digest) continue;
      if (manifests.some((d) => d.digest === old.digest)) continue;
      const { [REF_ANNOTATION]: _gone, ...rest } = old.annotations ?? {};
      manifests.push({ ...old, annotations: rest });
    }
    const annotations: Record<string, string> = {
      [REF_ANNOTATION]: img.ref,
      [CONFIG_ANNOTATION]: configDigest,
      [PULLED_ANNOTATION]: new Date().toISOString(),
    };
    if (img.indexDigest) annotations[INDEX_ANNOTATION] = img.indexDigest;
    // a nameless entry of the same manifest is now named
    const kept = manifests.filter((d) =>
      !(d.digest === img.manifest.digest && !d.annotations?.[REF_ANNOTATION])
    );
    kept.push({
      mediaType: img.manifest.mediaType,
      digest: img.manifest.digest,
      size: img.manifest.size,
      ...(img.manifest.platform ? { platform: img.manifest.platform } : {}),
      annotations,
    });
    await writeIndex(root, { schemaVersion: 2, manifests: kept });
  });
}

/**
 * Registers an image without a name (podman's `<none>`), e.g. loaded from an archive that names none. A no-op
 * when an entry of that manifest exists already. Takes the store lock.
 */
export async function addDanglingImage(
  root: string,
  manifest: { mediaType: string; digest: string; size: number },
  configDigest: string,
): Promise<void> {
  await withLock(storePaths(root).lock, async () => {
    const idx = await readIndex(root);
    if (idx.manifests.some((d) => d.digest === manifest.digest)) return;
    idx.manifests.push({
      ...manifest,
      annotations: { [CONFIG_ANNOTATION]: configDigest, [PULLED_ANNOTATION]: new Date().toISOString() },
    });
    await writeIndex(root, idx);
  });
}

/** A name with a registry part (`quay.io/x`, `localhost/x`, `127.0.0.1:5000/x`). */
function isQualified(name: string): boolean {
  const first = name.split("/")[0];
  return name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
}

/**
 * Whether stored name `stored` answers to what the user typed. A qualified name must match exactly; a
 * short one (`busybox`, `busybox:1`, `library/busybox`) matches that repository path, or a path ending in
 * `/busybox`, on any registry, as podman does for images already in local storage.
 */
function matchesName(stored: string, wanted: string): boolean {
  try {
    const s = parseReference(stored);
    const w = parseReference(wanted);
    if (isQualified(wanted)) return repositoryName(s) === repositoryName(w) && s.tag === w.tag;
    // "busybox" answers to docker.io/library/busybox and to any registry's …/busybox (podman's suffix match)
    const path = (r: ImageReference) => r.repository.replace(/^library\//, "");
    const sp = path(s);
    const wp = path(w);
    return (sp === wp || sp.endsWith(`/${wp}`)) && s.tag === w.tag;
  } catch {
    return false;
  }
}

/**
 * Finds an image by name (full, short like `busybox`, `name@sha256:…`), by full or short ID, or by
 * manifest digest. Throws {@link NotFoundError}.
 */
export async function resolveImage(root: string, nameOrId: string): Promise<ImageRecord> {
  const found = await findImage(root, nameOrId);
  if (!found) throw new NotFoundError(`${nameOrId}: image not known`);
  return found;
}

/** Like {@link resolveImage} but resolves to `undefined` when there is no such image. */
export async function findImage(root: string, nameOrId: string): Promise<ImageRecord | undefined> {
  const images = await listImages(root);
  const id = nameOrId.startsWith("sha256:") ? nameOrId.slice(7) : nameOrId;
  if (/^[a-f0-9]{3,64}$/.test(id)) {
    const byId = images.filter((i) => i.id.startsWith(id) || i.digest === `sha256:${id}`);
    if (byId.length === 1) return byId[0];
    if (byId.length > 1 && id.length < 64) {
      throw new PodError(`${nameOrId}: ambiguous image ID prefix, ${byId.length} images match`);
    }
  }
  let normalized: string;
  try {
    normalized = parseReference(nameOrId).toString();
  } catch {
    return undefined;
  }
  const at = nameOrId.indexOf("@");
  if (at >= 0) {
    // name@digest: the named repository holding that manifest
    const digest = nameOrId.slice(at + 1);
    const repo = nameOrId.slice(0, at).replace(/:[\w][\w.-]*$/, "");
    const untagged = (n: string) => n.replace(/:[\w][\w.-]*$/, "");
    return images.find((i) => i.digest === digest && i.names.some((n) => matchesName(untagged(n), repo)));
  }
  const exact = images.find((i) => i.names.includes(normalized));
  if (exact) return exact;
  const loose = images.filter((i) => i.names.some((n) => matchesName(n, nameOrId)));
  return loose[0];
}

/** The image's manifest. */
export function readManifest(root: string, img: ImageRecord): Promise<ImageManifest> {
  return readJsonBlob<ImageManifest>(root, img.digest);
}

/** The image's config. */
export function readImageConfig(root: string, img: ImageRecord): Promise<ImageConfig> {
  return readJsonBlob<ImageConfig>(root, img.configDigest);
}

/** The image's layers as the unpacker takes them (base first), with their diff_ids. */
export async function layerSources(
  root: string,
  img: ImageRecord,
): Promise<{ digest: string; mediaType: string; path: string; diffId?: string; size: number }[]> {
  const [m, c] = await Promise.all([readManifest(root, img), readImageConfig(root, img)]);
  return m.layers.map((l, i) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    path: blobPath(root, l.digest),
    diffId: c.rootfs?.diff_ids?.[i],
    size: l.size,
  }));
}

/** Adds a name to an existing image. */
export async function tagImage(root: string, img: ImageRecord, newName: string): Promise<void> {
  let ref = parseReference(newName); // validates (its message names the name as given)
  if (ref.digest) throw new PodError(`${newName}: a tag cannot contain a digest`);
  // a name without a registry is a local one, as podman tags it: `new` → `localhost/new:latest`
  const first = newName.split("/")[0];
  if (!(newName.includes("/") && isDomain(first))) ref = parseReference(`localhost/${newName}`);
  await addImage(root, {
    ref: ref.toString(),
    manifest: img.manifest,
    indexDigest: img.indexDigest,
    configDigest: img.configDigest,
  });
}

/**
 * Removes one name of an image. Returns true when that was its last name (the image entry is gone then,
 * unless `keepDangling`: then the image stays without a name, as after `podman untag`).
 */
export async function untagImage(root: string, name: string, keepDangling = false): Promise<boolean> {
  const p = storePaths(root);
  return await withLock(p.lock, async () => {
    const idx = await readIndex(root);
    const hit = idx.manifests.find((d) => d.annotations?.[REF_ANNOTATION] === name);
    if (!hit) throw new NotFoundError(`${name}: image not known`);
    const manifests = idx.manifests.filter((d) => d !== hit);
    if (keepDangling && !manifests.some((d) => d.digest === hit.digest)) {
      const { [REF_ANNOTATION]: _gone, ...rest } = hit.annotations ?? {};
      manifests.push({ ...hit, annotations: rest });
    }
    await writeIndex(root, { schemaVersion: 2, manifests });
    return !manifests.some((d) => d.digest === hit.digest);
  });
}

/**
 * Removes every index entry of an image (all its names). `guard` runs under the store lock first and may
 * throw to cancel (e.g. "a container uses it"), so a check and the removal are one atomic step.
 */
export async function deleteImageEntries(
  root: string,
  img: ImageRecord,
  guard?: () => Promise<void>,
): Promise<void> {
  const p = storePaths(root);
  await withLock(p.lock, async () => {
    await guard?.();
    const idx = await readIndex(root);
    await writeIndex(root, {
      schemaVersion: 2,
      manifests: idx.manifests.filter((d) => d.digest !== img.digest),
    });
  });
}

/** The name podman shows for an image record: `repo` and `tag` split, `<none>` when dangling. */
export function splitName(name: string | undefined): { repository: string; tag: string } {
  if (!name) return { repository: "<none>", tag: "<none>" };
  const at = name.indexOf("@");
  if (at >= 0) return { repository: name.slice(0, at), tag: "<none>" };
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
  return { repository: name, tag: "<none>" };
}
