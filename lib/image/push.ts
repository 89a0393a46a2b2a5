/**
 * `push`: an image of the store → a destination transport: a registry (default, or `docker://`), `oci:DIR[:REF]`,
 * `docker-archive:FILE[:REF]` or `oci-archive:FILE[:REF]`. To a registry: the config and the layers (each looked
 * up first, mounted from another repository of the same registry when the image came from one, else uploaded),
 * then the manifest by tag, last; `format` converts the manifest's media types (`v2s2`: Docker schema 2, same
 * blobs and digests).
 * @module
 */

import { describeError, UsageError } from "../errors.ts";
import type { Descriptor, ImageManifest } from "../oci/manifest.ts";
import { layerCompression, MediaType } from "../oci/media_types.ts";
import type { TargetCompression } from "./recompress.ts";
import { type ImageReference, parseReference } from "../oci/reference.ts";
import { RegistryClient, sha256Bytes } from "../registry/client.ts";
import type { Credentials } from "../registry/credentials.ts";
import { RegistryError } from "../registry/http.ts";
import { blobExists, manifestDigest, pushBlob, putManifest, type UploadResult } from "../registry/push.ts";
import { type ImageRecord, readManifest, resolveImage } from "../store/images.ts";
import { blobPath } from "../store/paths.ts";
import type { SaveItem } from "./save.ts";
import { convertManifest, type ManifestFormat } from "./manifest_convert.ts";

export { convertManifest, type ManifestFormat };

/** A parsed destination. */
export type Destination =
  | { transport: "docker"; ref: ImageReference }
  | { transport: "oci"; path: string; ref?: string }
  | { transport: "dir"; path: string }
  | { transport: "docker-archive" | "oci-archive"; path: string; ref?: string };

/** What a push reports while it runs. */
export type PushEvent =
  | { type: "blob"; kind: "blob" | "config"; digest: string; result: UploadResult }
  | { type: "retry"; why: string }
  | { type: "writing-manifest" };

/** Options of {@link pushImage}. */
export interface PushOptions {
  /** `false`: HTTPS without certificate verification, then plain HTTP if the registry has no TLS. Default true. */
  tlsVerify?: boolean;
  /** `--cert-dir`: the registry's CA `*.crt` and client `*.cert`/`*.key` (default: podman's `certs.d` dirs). */
  certDir?: string;
  /** Credentials (`--creds`). */
  credentials?: Credentials;
  /** Auth file (`--authfile`). */
  authFile?: string;
  /** Manifest format at a registry (default: the stored one, OCI). */
  format?: ManifestFormat;
  /** `--compression-format`: layers in another compression are re-compressed (streamed) before the upload. */
  compressionFormat?: TargetCompression;
  /** Upload in PATCH chunks of this size (default: monolithic). */
  chunkSize?: number;
  /** Progress. */
  onEvent?: (e: PushEvent) => void;
  /** Tunables of the HTTP layer (tests). */
  maxTries?: number;
  /** First retry backoff in ms. */
  backoffMs?: number;
}

/** What a push wrote. */
export interface PushResult {
  /** Digest of the manifest written (registries and `oci:`), for `--digestfile`. */
  digest?: string;
}

/** Splits `FILE[:REF]` (the reference is what follows the last `:` when it has no `/`). */
function pathAndRef(rest: string): { path: string; ref?: string } {
  const i = rest.indexOf(":");
  if (i < 0) return { path: rest };
  return { path: rest.slice(0, i), ref: rest.slice(i + 1) || undefined };
}

/** Parses a destination as podman's transports spell it; a bare name is a registry reference. */
export function parseDestination(s: string): Destination {
  const m = /^(docker|oci|oci-archive|docker-archive|dir|containers-storage):(.*)$/.exec(s);
  if (!m) return { transport: "docker", ref: refOf(s) };
  const [, transport, rest] = m;
  if (transport === "docker") {
    if (!rest.startsWith("//")) throw new UsageError(`invalid destination "${s}": want docker://NAME`);
    return { transport: "docker", ref: refOf(rest.slice(2)) };
  }
  if (transport === "dir") {
    if (!rest) throw new UsageError(`invalid destination "${s}": no path`);
    return { transport: "dir", path: rest };
  }
  if (transport === "containers-storage") {
    throw new UsageError(`the ${transport}: transport is not supported`);
  }
  const { path, ref } = pathAndRef(rest);
  if (!path) throw new UsageError(`invalid destination "${s}": no path`);
  return { transport: transport as "oci" | "oci-archive" | "docker-archive", path, ref };
}

function refOf(s: string): ImageReference {
  try {
    return parseReference(s);
  } catch (e) {
    throw new UsageError(describeError(e));
  }
}

/** A repository of `registry` the image was stored from (other than `repository`), for a blob mount. */
function mountSource(img: ImageRecord, registry: string, repository: string): string | undefined {
  for (const n of img.names) {
    try {
      const r = parseReference(n);
      if (r.registry === registry && r.repository !== repository) return r.repository;
    } catch { /* not a reference */ }
  }
  return undefined;
}

/**
 * Runs a whole blob upload again (from its `HEAD`) when it failed in a way worth retrying — a 5xx or 429
 * answer to a request that is not repeated by itself (`POST`, `PATCH`, `PUT` of a stream), a broken
 * connection — with the HTTP layer's backoff, as many times as a pull retries.
 */
async function withRetries<T>(client: RegistryClient, opts: PushOptions, fn: () => Promise<T>): Promise<T> {
  const http = client.http;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const st = e instanceof RegistryError ? e.status : undefined;
      const again = e instanceof RegistryError &&
        (e.retryable || st === 429 || st === 408 ||
          (st !== undefined && st >= 500 && st !== 501 && st !== 505));
      if (!again || attempt >= http.maxTries) throw e;
      opts.onEvent?.({ type: "retry", why: describeError(e) });
      await http.sleep(http.backoff(attempt));
    }
  }
}

/** A client for `ref`'s registry whose endpoint and token are being fetched already (see {@link pushImage}). */
interface StartedClient {
  client: RegistryClient;
  /** The endpoint found and the push token fetched (rejects with that failure). */
  ready: Promise<void>;
}

function startClient(ref: ImageReference, opts: PushOptions): StartedClient {
  const client = new RegistryClient(ref.registry, {
    tlsVerify: opts.tlsVerify,
    certDir: opts.certDir,
    credentials: opts.credentials,
    authFile: opts.authFile,
    maxTries: opts.maxTries,
    backoffMs: opts.backoffMs,
  });
  const ready = withRetries(client, opts, () => client.prepare(ref.repository, true));
  ready.catch(() => {}); // awaited by the push; a store error found first wins
  return { client, ready };
}

async function pushToRegistry(
  root: string,
  img: ImageRecord,
  ref: ImageReference,
  opts: PushOptions,
  { client, ready }: StartedClient,
): Promise<PushResult> {
  const stored = await readManifest(root, img);
  const made: string[] = []; // re-compressed blobs this push created: removed when it is done
  // uncompressed layers (`pod build`'s, as podman's containers-storage keeps them) go out gzip-compressed,
  // as podman pushes them; compressed ones as they are stored, unless --compression-format says otherwise
  const plain = !opts.compressionFormat &&
    stored.layers.some((l) => layerCompression(l.mediaType) === "none");
  const claim = opts.compressionFormat || plain
    ? await (await import("../store/gc.ts")).claimBlobs(root)
    : undefined;
  try {
    const base = opts.compressionFormat
      ? await recompressed(root, stored, opts.compressionFormat, made, claim!)
      : plain
      ? await recompressed(root, stored, "gzip", made, claim!, true)
      : stored;
    await ready;
    return await pushManifest(
      root,
      img,
      client,
      ref,
      stored,
      convertManifest(base, opts.format ?? "oci"),
      opts,
    );
  } finally {
    await claim?.release();
    for (const d of made) await Deno.remove(blobPath(root, d)).catch(() => {});
  }
}

/**
 * `stored` with every layer not in `to` (with `onlyPlain`: every uncompressed layer) re-compressed, or `stored`
 * itself. The manifest keeps its annotations; a Docker schema 2 manifest stays one when `to` is gzip, else it
 * becomes an OCI manifest.
 */
async function recompressed(
  root: string,
  stored: ImageManifest,
  to: TargetCompression,
  made: string[],
  claim: { add(d: string[]): Promise<void> },
  onlyPlain = false,
): Promise<ImageManifest> {
  // loaded only here: a plain registry push does not load zlib or the archive writers (its start-up counts)
  const { needsRecompression, recompressLayer } = await import("./recompress.ts");
  const needs = (l: Descriptor) =>
    onlyPlain ? layerCompression(l.mediaType) === "none" : needsRecompression(l, to);
  if (!stored.layers.some(needs)) return stored;
  const docker = stored.mediaType === MediaType.DockerManifest && to === "gzip";
  const layers = [];
  for (const l of stored.layers) {
    if (!needs(l)) {
      layers.push(l);
      continue;
    }
    const r = await recompressLayer(root, l, to);
    await claim.add([r.desc.digest]);
    if (r.created) made.push(r.desc.digest);
    layers.push(docker ? { ...r.desc, mediaType: MediaType.DockerLayerGzip } : r.desc);
  }
  if (docker) return { ...stored, layers };
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: stored.config.digest, size: stored.config.size },
    layers,
    ...(stored.annotations ? { annotations: stored.annotations } : {}),
  };
}

/** Blobs pushed at once (podman's default is 6; 3 keeps a small machine's disk and CPU responsive). */
const PUSH_CONCURRENCY = 3;
/** Existence checks (`HEAD`s: no body, no disk) in flight at once. */
const HEAD_CONCURRENCY = 8;

/** Runs `fn` on `items`, `limit` at a time; the first failure is thrown after the running ones settle. */
async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failed) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failed ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.e;
}

async function pushManifest(
  root: string,
  img: ImageRecord,
  client: RegistryClient,
  ref: ImageReference,
  stored: ImageManifest,
  m: ImageManifest,
  opts: PushOptions,
): Promise<PushResult> {
  const mountFrom = mountSource(img, ref.registry, ref.repository);
  const one = async (kind: "blob" | "config", d: { digest: string; size: number }, knownMissing = false) => {
    const result = await withRetries(client, opts, () =>
      pushBlob(client, ref.repository, {
        digest: d.digest,
        size: d.size,
        path: blobPath(root, d.digest),
      }, { mountFrom, chunkSize: opts.chunkSize, knownMissing }));
    opts.onEvent?.({ type: "blob", kind, digest: d.digest, result });
  };
  // the endpoint and the token first (fetched while the store was read: pushImage); then one round of HEADs
  // for every blob and for the manifest at the tag, all at once (a re-push, where the registry has every blob,
  // is that round); then the missing layers PUSH_CONCURRENCY at a time, the config after the layers, the
  // manifest last — unless the tag already points to this very manifest and no blob was missing (then a PUT
  // would change nothing)
  const bytes = m === stored
    ? await Deno.readFile(blobPath(root, img.digest))
    : new TextEncoder().encode(JSON.stringify(m));
  const digest = await sha256Bytes(bytes);
  const reference = ref.tag ?? ref.digest ?? "latest";
  const blobs = [...m.layers.map((d) => ({ kind: "blob" as const, d })), {
    kind: "config" as const,
    d: m.config,
  }];
  const missing = new Set<string>();
  const [, current] = await Promise.all([
    pool(blobs, HEAD_CONCURRENCY, async ({ kind, d }) => {
      if (!await withRetries(client, opts, () => blobExists(client, ref.repository, d.digest))) {
        missing.add(d.digest);
      } else if (kind === "blob") opts.onEvent?.({ type: "blob", kind, digest: d.digest, result: "exists" });
    }),
    withRetries(client, opts, () => manifestDigest(client, ref.repository, reference, m.mediaType)),
  ]);
  const uploads = m.layers.filter((l, i) =>
    missing.has(l.digest) && m.layers.findIndex((o) => o.digest === l.digest) === i
  );
  await pool(uploads, PUSH_CONCURRENCY, (l) => one("blob", l, true));
  // the config's line after the layers', as podman prints them
  if (missing.has(m.config.digest)) await one("config", m.config, true);
  else opts.onEvent?.({ type: "blob", kind: "config", digest: m.config.digest, result: "exists" });
  opts.onEvent?.({ type: "writing-manifest" });
  if (missing.size === 0 && current === digest) return { digest };
  await putManifest(client, ref.repository, reference, m.mediaType, bytes);
  return { digest };
}

/** Pushes the image `source` (name or ID) of the store at `root` to `destination` (default: its own name). */
export async function pushImage(
  root: string,
  source: string,
  destination: string | undefined,
  opts: PushOptions = {},
): Promise<PushResult> {
  let early: Destination | undefined;
  try {
    early = destination !== undefined ? parseDestination(destination) : undefined;
  } catch { /* reported below, after the image is found (as before) */ }
  if (early?.transport === "docker" && !(early.ref.digest && !early.ref.tag)) {
    // the registry's endpoint and token are fetched while the store is read (a re-push is mostly this)
    const started = startClient(early.ref, opts);
    return await pushToRegistry(root, await resolveImage(root, source), early.ref, opts, started);
  }
  const img = await resolveImage(root, source);
  const dest = early ?? parseDestination(destination ?? source);
  if (dest.transport === "docker") {
    if (dest.ref.digest && !dest.ref.tag) throw new UsageError("cannot push to a digest reference");
    return await pushToRegistry(root, img, dest.ref, opts, startClient(dest.ref, opts));
  }
  if (opts.compressionFormat) {
    throw new UsageError("--compression-format is supported for registry destinations only");
  }
  if (dest.transport === "dir") {
    const { writeDirLayout } = await import("./dir_layout.ts");
    await writeDirLayout(root, dest.path, img, opts.format ?? "oci");
    return { digest: img.digest };
  }
  const item: SaveItem = { image: img, names: dest.ref ? [dest.ref] : [] };
  const { saveArchiveToFile, writeOciDir } = await import("./save.ts");
  if (dest.transport === "oci") {
    await writeOciDir(root, dest.path, [item]);
    return { digest: img.digest };
  }
  if (dest.transport === "docker-archive") {
    const names = dest.ref ? [refOf(dest.ref).toString()] : [];
    await saveArchiveToFile(root, [{ image: img, names }], "docker-archive", dest.path);
  } else {
    await saveArchiveToFile(root, [item], "oci-archive", dest.path);
  }
  return {};
}
