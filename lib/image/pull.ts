/**
 * `pull`: registry → store. Resolves the reference, fetches the manifest (choosing the platform from an index),
 * the config and the layers (concurrently, streamed to disk while hashed, shared blobs fetched once), and only
 * then registers the image in `index.json`, so a pull killed at any point leaves no half image visible.
 * @module
 */

import { describeError, PodError, UsageError } from "../errors.ts";
import { warn } from "../log.ts";
import { toOciManifest } from "../oci/convert.ts";
import { digestHex } from "../oci/digest.ts";
import {
  checkRunnableManifest,
  type Descriptor,
  type ImageManifest,
  parseImageConfig,
  parseImageManifest,
  parseManifestDocument,
  type Platform,
} from "../oci/manifest.ts";
import { INDEX_MEDIA_TYPES } from "../oci/media_types.ts";
import {
  formatPlatform,
  hostPlatform,
  parsePlatform,
  platformMatches,
  type PlatformSpec,
  selectPlatformManifest,
} from "../oci/platform.ts";
import { type ImageReference, parseReference, storageName } from "../oci/reference.ts";
import { CONFIG_CAP, RegistryClient, sha256Bytes } from "../registry/client.ts";
import type { Credentials } from "../registry/credentials.ts";
import { type BlobWriter, hasBlob, openBlobWriter, putBlobBytes, readBlob } from "../store/blobs.ts";
import { claimBlobs } from "../store/gc.ts";
import { addImage, ensureStore } from "../store/images.ts";
import { blobPath } from "../store/paths.ts";
import { buildHostTree } from "./tree.ts";
import type { PullEvent } from "./events.ts";

/** Options of {@link pullImage}. */
export interface PullOptions {
  /** `os/arch[/variant]` (or a parsed spec); default: this machine's platform. */
  platform?: string | PlatformSpec;
  /** `false`: HTTPS without certificate verification, then plain HTTP if the registry has no TLS. Default true. */
  tlsVerify?: boolean;
  /** `--cert-dir`: the registry's CA `*.crt` and client `*.cert`/`*.key` (default: podman's `certs.d` dirs). */
  certDir?: string;
  /** No progress events are needed (the CLI prints only the ID). */
  quiet?: boolean;
  /** Progress events. */
  onEvent?: (e: PullEvent) => void;
  /** Cancels the pull: it fails with a `CANCELLED` {@link PodError} and registers nothing. */
  signal?: AbortSignal;
  /** Explicit auth file (`--authfile`). */
  authFile?: string;
  /** Explicit credentials (`--creds`). */
  credentials?: Credentials;
  /** Layers downloaded at once (default 3). */
  concurrency?: number;
  /** Idle timeout per read in ms (default `$POD_REGISTRY_TIMEOUT_MS` or 30 s). */
  timeoutMs?: number;
  /** First retry backoff in ms (tests shorten it). */
  backoffMs?: number;
  /** Cap on a Retry-After wait in ms (default 30 s). */
  retryAfterCapMs?: number;
  /** Attempts per request (default 4). */
  maxTries?: number;
  /**
   * Build the image tree (host ids) while the layers download, so the first container starts without
   * extracting. Default: when running as root (rootless trees need the user namespace: built at first start).
   */
  buildTree?: boolean;
}

/** What a pull stored. */
export interface PullResult {
  /** Image ID: hex of the config digest. */
  id: string;
  /** Digest the reference resolved to (the index's when there was one, else the manifest's). */
  digest: string;
  /** Digest of the platform manifest stored (differs from the registry's for Docker images, stored as OCI). */
  manifestDigest: string;
  /** Full name the image is stored under (`docker.io/library/alpine:latest`). */
  ref: string;
  /** The platform of the image stored. */
  platform: Platform;
}

async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/**
 * Pulls `reference` into the store at `root` and registers it under its full normalised name.
 * Throws a {@link PodError} naming the image and the cause.
 */
export async function pullImage(
  root: string,
  reference: string,
  opts: PullOptions = {},
): Promise<PullResult> {
  let ref: ImageReference;
  try {
    ref = parseReference(reference);
  } catch (e) {
    throw new UsageError(describeError(e));
  }
  let want: PlatformSpec;
  try {
    want = opts.platform === undefined
      ? hostPlatform()
      : typeof opts.platform === "string"
      ? parsePlatform(opts.platform)
      : opts.platform;
  } catch (e) {
    throw new UsageError(describeError(e));
  }
  const name = storageName(ref);
  try {
    return await pullResolved(root, ref, name, want, opts);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (opts.signal?.aborted) {
      throw new PodError(`pulling ${name}: cancelled`, { code: "CANCELLED", cause: e });
    }
    const msg = describeError(e);
    const full = msg.includes(name) ? msg : `pulling ${name}: ${msg}`;
    throw new PodError(full, { code: e instanceof PodError ? e.code : "INTERNAL", cause: e });
  }
}

async function pullResolved(
  root: string,
  ref: ImageReference,
  name: string,
  want: PlatformSpec,
  opts: PullOptions,
): Promise<PullResult> {
  const emit = opts.onEvent ?? (() => {});
  emit({ type: "resolving", ref: name });
  await ensureStore(root);
  const claim = await claimBlobs(root);
  try {
    const client = new RegistryClient(ref.registry, {
      tlsVerify: opts.tlsVerify,
      certDir: opts.certDir,
      credentials: opts.credentials,
      authFile: opts.authFile,
      timeoutMs: opts.timeoutMs,
      backoffMs: opts.backoffMs,
      retryAfterCapMs: opts.retryAfterCapMs,
      maxTries: opts.maxTries,
      signal: opts.signal,
    });
    const repo = ref.repository;

    // 1. manifest (→ index → platform manifest)
    const top = await client.getManifest(repo, ref.digest ?? ref.tag!);
    const resolvedDigest = top.digest;
    let doc: ReturnType<typeof parseManifestDocument>;
    try {
      doc = parseManifestDocument(top.bytes, top.contentType);
    } catch (e) {
      throw new PodError(`invalid manifest for ${name}: ${describeError(e)}`);
    }
    let manifest: ImageManifest;
    let manifestBytes: Uint8Array;
    let manifestDesc: Descriptor;
    let indexBytes: Uint8Array | undefined;
    let indexDigest: string | undefined;
    if (doc.kind === "index") {
      const chosen = selectPlatformManifest(doc.index.manifests, want);
      if (!chosen) throw new PodError(`no image for ${formatPlatform(want)} in ${name}`);
      if (INDEX_MEDIA_TYPES.includes(chosen.mediaType)) {
        throw new PodError(`nested image indexes are not supported (${chosen.digest} in ${name})`);
      }
      const m = await client.getManifest(repo, chosen.digest);
      if (m.bytes.length !== chosen.size) {
        throw new PodError(
          `manifest ${chosen.digest} in ${name}: size ${m.bytes.length}, index says ${chosen.size}`,
        );
      }
      try {
        manifest = parseImageManifest(m.bytes, m.contentType || chosen.mediaType);
      } catch (e) {
        throw new PodError(`invalid manifest ${chosen.digest} for ${name}: ${describeError(e)}`);
      }
      manifestBytes = m.bytes;
      manifestDesc = { mediaType: manifest.mediaType, digest: m.digest, size: m.bytes.length };
      if (chosen.platform) manifestDesc.platform = chosen.platform;
      indexBytes = top.bytes;
      indexDigest = top.digest;
    } else {
      manifest = doc.manifest;
      manifestBytes = top.bytes;
      manifestDesc = { mediaType: manifest.mediaType, digest: top.digest, size: top.bytes.length };
    }
    try {
      checkRunnableManifest(manifest);
    } catch (e) {
      throw new PodError(`${name}: ${describeError(e)}`);
    }
    // the OCI layout lists only OCI manifests: store Docker schema 2 as OCI (same config, so same image ID)
    const converted = toOciManifest(manifest);
    if (converted.bytes) {
      manifest = converted.manifest;
      manifestBytes = converted.bytes;
      manifestDesc = {
        ...manifestDesc,
        mediaType: manifest.mediaType,
        digest: await sha256Bytes(manifestBytes),
        size: manifestBytes.length,
      };
    }
    await claim.add([
      manifestDesc.digest,
      manifest.config.digest,
      ...manifest.layers.map((l) => l.digest),
      ...(indexDigest ? [indexDigest] : []),
    ]);
    emit({ type: "signatures" });

    // 2. config
    const cfgDesc = manifest.config;
    let configBytes: Uint8Array;
    const haveConfig = await hasBlob(root, cfgDesc.digest);
    if (haveConfig) configBytes = await readBlob(root, cfgDesc.digest, CONFIG_CAP);
    else configBytes = await client.getBlobBytes(repo, cfgDesc, CONFIG_CAP, "config");
    let config;
    try {
      config = parseImageConfig(configBytes);
    } catch (e) {
      throw new PodError(`invalid image config ${cfgDesc.digest} for ${name}: ${describeError(e)}`);
    }
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new PodError(
        `${name}: the config lists ${config.rootfs.diff_ids.length} layers, the manifest ${manifest.layers.length}`,
      );
    }
    const platform: Platform = manifestDesc.platform ??
      {
        architecture: config.architecture,
        os: config.os,
        ...(config.variant ? { variant: config.variant } : {}),
      };
    if (!manifestDesc.platform) {
      if (!platformMatches(want, platform)) {
        if (opts.platform !== undefined) {
          throw new PodError(
            `no image for ${formatPlatform(want)} in ${name} (it is ${formatPlatform(platform)})`,
          );
        }
        warn(
          `image platform (${formatPlatform(platform)}) does not match the expected platform (${
            formatPlatform(want)
          })`,
        );
      }
      manifestDesc.platform = platform;
    }

    // 3. layers (each digest once), concurrently; as root the image tree is built as they arrive
    const seen = new Set<string>();
    const layers = manifest.layers.filter((l) => !seen.has(l.digest) && seen.add(l.digest));
    // per layer: its writer once the download starts (null: the blob was stored already)
    const started = new Map(layers.map((l) => [l.digest, Promise.withResolvers<BlobWriter | null>()]));
    for (const s of started.values()) s.promise.catch(() => {}); // reported by the pool
    const commits: Promise<void>[] = []; // of the downloaded blobs, awaited after the downloads
    const storeLayer = async (l: Descriptor): Promise<void> => {
      if (await hasBlob(root, l.digest)) {
        started.get(l.digest)!.resolve(null);
        emit({ type: "blob-skipped", kind: "blob", digest: l.digest, size: l.size });
        return;
      }
      emit({ type: "blob-start", kind: "blob", digest: l.digest, size: l.size });
      const w = await openBlobWriter(root, l.digest, l.size);
      started.get(l.digest)!.resolve(w);
      try {
        await client.downloadBlob(
          repo,
          l,
          w,
          (done, size) => emit({ type: "blob-progress", digest: l.digest, done, size }),
        );
      } catch (e) {
        await w.abort();
        throw e;
      }
      // verifying, syncing and renaming need no download slot: the next layer starts meanwhile
      const commit = w.commit().then(() =>
        emit({ type: "blob-done", kind: "blob", digest: l.digest, size: l.size })
      );
      commit.catch(() => {}); // awaited after the downloads
      commits.push(commit);
    };
    const tree = opts.buildTree ?? Deno.uid() === 0
      ? buildHostTree(
        root,
        manifest.layers.map((l, i) => ({
          ...l,
          path: blobPath(root, l.digest),
          diffId: config.rootfs.diff_ids[i],
        })),
        async (i, reuse) => (await started.get(manifest.layers[i].digest)!.promise)?.follow(reuse) ?? null,
      )
      : undefined;
    tree?.catch(() => {}); // awaited below
    await pool(layers, opts.concurrency ?? 3, async (l) => {
      try {
        await storeLayer(l);
      } catch (e) {
        started.get(l.digest)!.reject(e); // no effect once the writer was handed out: follow() sees the abort
        throw e;
      }
    }).then(() => Promise.all(commits)).catch(async (e) => {
      for (const s of started.values()) s.reject(e);
      await tree?.catch(() => {});
      throw e;
    });
    await tree;

    // 4. config, manifest (and index) blobs, then the index.json entry
    if (haveConfig) {
      emit({ type: "blob-skipped", kind: "config", digest: cfgDesc.digest, size: cfgDesc.size });
    } else {
      emit({ type: "blob-start", kind: "config", digest: cfgDesc.digest, size: cfgDesc.size });
      await putExact(root, configBytes, cfgDesc.digest);
      emit({ type: "blob-done", kind: "config", digest: cfgDesc.digest, size: cfgDesc.size });
    }
    opts.signal?.throwIfAborted();
    emit({ type: "writing-manifest" });
    await putExact(root, manifestBytes, manifestDesc.digest);
    if (indexBytes && indexDigest) await putExact(root, indexBytes, indexDigest);
    await addImage(root, {
      ref: name,
      manifest: {
        mediaType: manifestDesc.mediaType,
        digest: manifestDesc.digest,
        size: manifestDesc.size,
        platform: manifestDesc.platform,
      },
      ...(indexDigest ? { indexDigest } : {}),
      configDigest: cfgDesc.digest,
    });
    const id = digestHex(cfgDesc.digest);
    emit({ type: "done", id });
    return {
      id,
      digest: resolvedDigest,
      manifestDigest: manifestDesc.digest,
      ref: name,
      platform: manifestDesc.platform,
    };
  } finally {
    await claim.release();
  }
}

async function putExact(root: string, bytes: Uint8Array, digest: string): Promise<void> {
  const got = await putBlobBytes(root, bytes);
  if (got !== digest) throw new PodError(`internal: stored ${got}, expected ${digest}`);
}
