/**
 * Image facts for listings and inspect, read from the store (manifest + config, no layer data).
 * @module
 */

import type { ImageConfig, ImageManifest } from "../oci/manifest.ts";
import { type ImageRecord, listImages, readImageConfig, readManifest, splitName } from "../store/images.ts";

/** What `images`, `inspect` and `system df` need to know about one image. */
export interface ImageSummary {
  /** The store record. */
  record: ImageRecord;
  /** The manifest. */
  manifest: ImageManifest;
  /** The config. */
  config: ImageConfig;
  /** Bytes of the image in the store: manifest + config + layers (compressed, as stored). */
  size: number;
  /** Creation time from the config (else the time it was stored). */
  created: Date;
}

/** Reads manifest and config of one image. */
export async function summarize(root: string, record: ImageRecord): Promise<ImageSummary> {
  const [manifest, config] = await Promise.all([readManifest(root, record), readImageConfig(root, record)]);
  const size = record.manifest.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  const when = config.created ?? record.pulled;
  const created = when ? new Date(when) : new Date(0);
  return { record, manifest, config, size, created: isNaN(created.getTime()) ? new Date(0) : created };
}

/** Every image in the store, newest first. */
export async function summarizeAll(root: string): Promise<ImageSummary[]> {
  const all = await Promise.all((await listImages(root)).map((r) => summarize(root, r)));
  return all.sort((a, b) => b.created.getTime() - a.created.getTime());
}

/** `repo@digest` for each repository an image is known under (podman's RepoDigests). */
export function repoDigests(rec: ImageRecord): string[] {
  const repos = new Set(rec.names.map((n) => splitName(n).repository));
  return [...repos].map((r) => `${r}@${rec.digest}`);
}
