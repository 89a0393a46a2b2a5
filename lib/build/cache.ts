/**
 * The layer cache: `build-cache/<key>` in the store holds the id of the image a build step made, keyed by the
 * parent image, the instruction after substitution, the build args it saw and — for COPY/ADD — the content
 * digest of its sources (never mtimes). The images are ordinary (nameless) images, so the cache survives `rmi`
 * of a build's final name until they are pruned; an entry whose image is gone is a miss.
 * @module
 */

import { findImage } from "../store/images.ts";
import { writeFileAtomic } from "../store/atomic.ts";

/** The cache key of a step. */
export async function stepKey(parent: string, text: string, extra = ""): Promise<string> {
  const data = new TextEncoder().encode(`${parent}\n${text}\n${extra}`);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return [...h].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function cachePath(root: string, key: string): string {
  return `${root}/build-cache/${key}`;
}

/** The image id cached for `key`, if that image still exists. */
export async function cacheLookup(root: string, key: string): Promise<string | undefined> {
  let id: string;
  try {
    id = (await Deno.readTextFile(cachePath(root, key))).trim();
  } catch {
    return undefined;
  }
  if (!/^[a-f0-9]{64}$/.test(id)) return undefined;
  return (await findImage(root, id)) ? id : undefined;
}

/**
 * Records that `key` made image `id`: written to a temp file and renamed, without fsync (an entry lost or
 * torn by a crash is only a cache miss; a torn one fails the id check in {@link cacheLookup}).
 */
export async function cacheStore(root: string, key: string, id: string): Promise<void> {
  await Deno.mkdir(`${root}/build-cache`, { recursive: true, mode: 0o700 });
  await writeFileAtomic(cachePath(root, key), id + "\n", 0o600, false);
}

function memoPath(root: string, contextDir: string): Promise<string> {
  return stepKey("context", contextDir).then((k) => `${root}/build-cache/files-${k.slice(0, 32)}.json`);
}

/** The remembered file digests of the context `contextDir` (see copy_step.ts DigestMemo). */
export async function readMemo(root: string, contextDir: string): Promise<Record<string, string>> {
  try {
    const v = JSON.parse(await Deno.readTextFile(await memoPath(root, contextDir)));
    return v && typeof v === "object" && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** Stores the file digests a build of `contextDir` used. */
export async function writeMemo(
  root: string,
  contextDir: string,
  entries: Record<string, string>,
): Promise<void> {
  await Deno.mkdir(`${root}/build-cache`, { recursive: true, mode: 0o700 });
  await writeFileAtomic(await memoPath(root, contextDir), JSON.stringify(entries));
}
