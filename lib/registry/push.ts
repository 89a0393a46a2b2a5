/**
 * The upload half of the Distribution API: a blob is first looked up with `HEAD` (skipped when the registry
 * has it), then mounted from another repository of the same registry (`POST …/uploads/?mount=&from=`) when
 * one is known, else uploaded — monolithic (`POST` → `PUT <Location>?digest=`) or chunked (`PATCH` with
 * `Content-Range`, each answer's `Location` followed, then the closing `PUT`). `Location` may be relative or
 * absolute; credentials are only sent to the registry's own origin. Manifests are `PUT` by tag, last.
 * @module
 */

import type { RegistryClient } from "./client.ts";
import { RegistryError } from "./http.ts";

/** A blob to upload, read from a file. */
export interface UploadBlob {
  /** `sha256:` digest. */
  digest: string;
  /** Size in bytes. */
  size: number;
  /** Path of the bytes (the store's blob file). */
  path: string;
}

/** What happened to a blob. */
export type UploadResult = "exists" | "mounted" | "uploaded";

/** Options of {@link pushBlob}. */
export interface UploadOptions {
  /** A repository of the same registry that has the blob: try a cross-repository mount first. */
  mountFrom?: string;
  /** Upload in chunks of this many bytes (PATCH); default: one monolithic PUT. */
  chunkSize?: number;
  /** Bytes sent so far. */
  onProgress?: (done: number) => void;
  /** The caller's own `HEAD` just found the blob missing: do not ask again. */
  knownMissing?: boolean;
}

/** Retry 5xx/429 on idempotent requests only (HEAD, PUT of a manifest); a POST or PATCH is not repeated. */
const noRetry = () => false;

/** A fresh stream of `length` bytes of a file from `start` (opened now: each attempt gets its own). */
function fileBody(path: string, start = 0, length?: number): ReadableStream<Uint8Array> {
  const f = Deno.openSync(path, { read: true });
  if (start) f.seekSync(start, Deno.SeekMode.Start);
  let left = length ?? Infinity;
  return new ReadableStream<Uint8Array>({
    type: "bytes",
    async pull(ctl) {
      if (left <= 0) {
        f.close();
        ctl.close();
        return;
      }
      const buf = new Uint8Array(Math.min(256 * 1024, left));
      const n = await f.read(buf);
      if (n === null) {
        f.close();
        ctl.close();
        return;
      }
      left -= n;
      ctl.enqueue(buf.subarray(0, n));
    },
    cancel() {
      f.close();
    },
  });
}

/** True when the registry has the blob in `repository`. */
export async function blobExists(c: RegistryClient, repository: string, digest: string): Promise<boolean> {
  const what = `checking blob ${digest} in ${c.registry}/${repository}`;
  const r = await c.request(`/v2/${repository}/blobs/${digest}`, {
    method: "HEAD",
    what,
    repository,
    push: true,
  });
  await r.cancel();
  if (r.status === 200) return true;
  if (r.status === 404) return false;
  return await c.fail(r, what);
}

function location(r: { header(n: string): string | null }, what: string): string {
  const loc = r.header("location");
  if (!loc) throw new RegistryError(`${what}: the registry sent no Location`);
  return loc;
}

/** An upload `Location` (relative or absolute) with `digest=` added, its own query parameters kept. */
export function withDigest(loc: string, digest: string): string {
  // keep the registry's own query parameters (_state…); relative Locations stay relative
  const u = new URL(loc, "http://placeholder.invalid");
  u.searchParams.set("digest", digest);
  return loc.startsWith("/") || !/^[a-z]+:/i.test(loc) ? `${u.pathname}${u.search}` : u.href;
}

/** Uploads one blob to `repository` unless the registry has it (see the module notes). */
export async function pushBlob(
  c: RegistryClient,
  repository: string,
  blob: UploadBlob,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const label = `blob ${blob.digest} to ${c.registry}/${repository}`;
  if (!opts.knownMissing && await blobExists(c, repository, blob.digest)) return "exists";
  let start: string;
  if (opts.mountFrom && opts.mountFrom !== repository) {
    const q = `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(opts.mountFrom)}`;
    const r = await c.request(`/v2/${repository}/blobs/uploads/${q}`, {
      method: "POST",
      what: `mounting ${label}`,
      repository,
      push: true,
      retryStatus: noRetry,
    });
    if (r.status === 201) {
      await r.cancel();
      return "mounted";
    }
    if (r.status !== 202) await c.fail(r, `mounting ${label}`);
    await r.cancel();
    start = location(r, `mounting ${label}`);
  } else {
    const r = await c.request(`/v2/${repository}/blobs/uploads/`, {
      method: "POST",
      what: `starting upload of ${label}`,
      repository,
      push: true,
      retryStatus: noRetry,
    });
    if (r.status !== 202) await c.fail(r, `starting upload of ${label}`);
    await r.cancel();
    start = location(r, `starting upload of ${label}`);
  }
  let loc = start;
  const chunk = opts.chunkSize && opts.chunkSize > 0 ? opts.chunkSize : 0;
  if (chunk && blob.size > 0) {
    for (let off = 0; off < blob.size; off += chunk) {
      const len = Math.min(chunk, blob.size - off);
      const r = await c.request(loc, {
        method: "PATCH",
        what: `uploading ${label}`,
        repository,
        push: true,
        retryStatus: noRetry,
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${off}-${off + len - 1}`,
          "content-length": String(len),
        },
        body: () => fileBody(blob.path, off, len),
      });
      if (r.status !== 202) await c.fail(r, `uploading ${label}`);
      await r.cancel();
      loc = location(r, `uploading ${label}`);
      opts.onProgress?.(off + len);
    }
    const r = await c.request(withDigest(loc, blob.digest), {
      method: "PUT",
      what: `finishing ${label}`,
      repository,
      push: true,
      retryStatus: noRetry,
      headers: { "content-length": "0" },
    });
    if (r.status !== 201) await c.fail(r, `finishing ${label}`);
    await r.cancel();
    return "uploaded";
  }
  const r = await c.request(withDigest(loc, blob.digest), {
    method: "PUT",
    what: `uploading ${label}`,
    repository,
    push: true,
    retryStatus: noRetry,
    headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
    // a file's own stream: fetch sends it from the file resource without JS buffers (flat RSS)
    body: () => Deno.openSync(blob.path, { read: true }).readable,
  });
  if (r.status !== 201) await c.fail(r, `uploading ${label}`);
  await r.cancel();
  opts.onProgress?.(blob.size);
  return "uploaded";
}

/**
 * The digest of the manifest `reference` (a tag) points to in `repository` (its `Docker-Content-Digest` to a
 * `HEAD` asking for `mediaType`), or undefined when there is none (or the registry does not say: any answer
 * but 200 with a sha256 digest).
 */
export async function manifestDigest(
  c: RegistryClient,
  repository: string,
  reference: string,
  mediaType: string,
): Promise<string | undefined> {
  const what = `checking manifest ${reference} in ${c.registry}/${repository}`;
  const r = await c.request(`/v2/${repository}/manifests/${reference}`, {
    method: "HEAD",
    what,
    repository,
    push: true,
    headers: { accept: mediaType },
  });
  await r.cancel();
  if (r.status !== 200) return undefined; // none, or no answer worth trusting: the manifest is PUT
  const d = r.header("docker-content-digest");
  return d && /^sha256:[a-f0-9]{64}$/.test(d) ? d : undefined;
}

/** `PUT`s a manifest by tag (or digest); returns the digest the registry reports, if any. */
export async function putManifest(
  c: RegistryClient,
  repository: string,
  reference: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<string | undefined> {
  const what = `writing manifest ${reference} to ${c.registry}/${repository}`;
  const r = await c.request(`/v2/${repository}/manifests/${reference}`, {
    method: "PUT",
    what,
    repository,
    push: true,
    headers: { "content-type": mediaType },
    body: () => bytes as Uint8Array<ArrayBuffer>,
  });
  if (r.status !== 201 && r.status !== 200) await c.fail(r, what);
  await r.cancel();
  return r.header("docker-content-digest") ?? undefined;
}
