/**
 * Parent and child images as podman's libimage tells them apart: an image is another's parent when the child's
 * layers (diff_ids) begin with all of the parent's and the child's history begins with all of the parent's
 * entries and has more. A nameless image with a child is *intermediate* (a build step: `images` hides it
 * without `-a`, `image prune` keeps it); a nameless image without children is *dangling*.
 * @module
 */

import type { ImageConfig } from "../oci/manifest.ts";

/** What the parent check reads of an image. */
export interface ImageLineage {
  /** Image id. */
  id: string;
  /** Its config (diff_ids and history). */
  config: ImageConfig;
}

function sameEntry(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return a.created_by === b.created_by && a.created === b.created && !!a.empty_layer === !!b.empty_layer &&
    a.author === b.author && a.comment === b.comment;
}

/** Whether `child` was built on top of `parent` (libimage's areParentAndChild). */
export function isParentOf(parent: ImageConfig, child: ImageConfig): boolean {
  const pd = parent.rootfs?.diff_ids ?? [], cd = child.rootfs?.diff_ids ?? [];
  if (pd.length > cd.length || pd.some((d, i) => d !== cd[i])) return false;
  const ph = (parent.history ?? []) as Record<string, unknown>[];
  const ch = (child.history ?? []) as Record<string, unknown>[];
  if (ph.length >= ch.length) return false;
  return ph.every((h, i) => sameEntry(h, ch[i]));
}

/** The ids of the images among `all` that have at least one child among them. */
export function parentIds(all: ImageLineage[]): Set<string> {
  // images by their whole diff_id list: a parent's list is a prefix of its child's
  const byLayers = new Map<string, ImageLineage[]>();
  for (const img of all) {
    const key = (img.config.rootfs?.diff_ids ?? []).join(",");
    byLayers.set(key, [...(byLayers.get(key) ?? []), img]);
  }
  const out = new Set<string>();
  for (const child of all) {
    const diffs = child.config.rootfs?.diff_ids ?? [];
    for (let n = 0; n <= diffs.length; n++) {
      for (const p of byLayers.get(diffs.slice(0, n).join(",")) ?? []) {
        if (p.id !== child.id && !out.has(p.id) && isParentOf(p.config, child.config)) out.add(p.id);
      }
    }
  }
  return out;
}
