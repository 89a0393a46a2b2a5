/**
 * Blob garbage collection. A blob is kept while an image in `index.json` references it, or while a live
 * process that is writing an image has claimed it (a claim file in `tmp/`, so a concurrent `rmi` cannot
 * delete the layers a running `pull` has already stored but not yet registered).
 * @module
 */

import type { ImageManifest } from "../oci/manifest.ts";
import { pidAlive } from "../proc.ts";
import { tempName, tempOwner } from "./atomic.ts";
import { readIndex, readJsonBlob } from "./images.ts";
import { withLock } from "./lock.ts";
import { storePaths } from "./paths.ts";

/**
 * Claims blobs for the lifetime of an operation (a pull). Returns a function that adds more digests and a
 * release function. Claims of a killed process lapse by themselves (the file names carry the pid).
 */
export async function claimBlobs(root: string): Promise<{
  add(digests: string[]): Promise<void>;
  release(): Promise<void>;
}> {
  const path = `${storePaths(root).tmp}/${tempName("claim")}`;
  const held = new Set<string>();
  await Deno.writeTextFile(path, "", { createNew: true, mode: 0o600 });
  return {
    async add(digests: string[]) {
      for (const d of digests) held.add(d);
      // under the store lock: a concurrent collectGarbage() either finished before (and the caller's later
      // hasBlob() sees what it deleted) or starts after and sees the whole claim (never a half-written file)
      await withLock(storePaths(root).lock, () => Deno.writeTextFile(path, [...held].join("\n") + "\n"));
    },
    async release() {
      await Deno.remove(path).catch(() => {});
    },
  };
}

async function claimedDigests(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  const dir = storePaths(root).tmp;
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.startsWith(".claim-")) continue;
    const pid = tempOwner(e.name);
    if (pid === undefined || !pidAlive(pid)) continue;
    const text = await Deno.readTextFile(`${dir}/${e.name}`).catch(() => "");
    for (const d of text.split("\n")) if (d) out.add(d);
  }
  return out;
}

/** Every blob digest the images in `index.json` reference (manifests, configs, layers). */
export async function referencedDigests(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const d of (await readIndex(root)).manifests) {
    out.add(d.digest);
    if (d.annotations?.["io.pod.index.digest"]) out.add(d.annotations["io.pod.index.digest"]);
    try {
      const m = await readJsonBlob<ImageManifest>(root, d.digest);
      out.add(m.config.digest);
      for (const l of m.layers) out.add(l.digest);
    } catch { /* missing manifest: system check reports it */ }
  }
  return out;
}

/** Deletes blobs nothing references or claims; returns how many bytes were freed. Takes the store lock. */
export async function collectGarbage(root: string): Promise<{ removed: number; bytes: number }> {
  const p = storePaths(root);
  return await withLock(p.lock, async () => {
    const keep = await referencedDigests(root);
    for (const d of await claimedDigests(root)) keep.add(d);
    let removed = 0;
    let bytes = 0;
    for await (const e of Deno.readDir(p.blobs)) {
      if (keep.has(`sha256:${e.name}`)) continue;
      const path = `${p.blobs}/${e.name}`;
      const st = await Deno.lstat(path).catch(() => undefined);
      await Deno.remove(path).catch(() => {});
      removed++;
      bytes += st?.size ?? 0;
    }
    return { removed, bytes };
  });
}

/**
 * Deletes the given blobs (ones a failed load or import added) unless an image references them or a live
 * process claims them — another load or pull may have come to need the same blob meanwhile. Takes the store
 * lock; the caller releases its own claim first.
 */
export async function dropBlobsIfUnused(root: string, digests: string[]): Promise<void> {
  if (!digests.length) return;
  const p = storePaths(root);
  await withLock(p.lock, async () => {
    const keep = await referencedDigests(root);
    for (const d of await claimedDigests(root)) keep.add(d);
    for (const d of digests) {
      if (keep.has(d) || !/^sha256:[a-f0-9]{64}$/.test(d)) continue;
      await Deno.remove(`${p.blobs}/${d.slice(7)}`).catch(() => {});
    }
  });
}
