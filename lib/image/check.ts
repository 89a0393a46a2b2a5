/**
 * Store integrity: every blob's digest, every image's references (manifest → config → layers).
 * @module
 */

import type { ImageManifest } from "../oci/manifest.ts";
import { verifyBlob } from "../store/blobs.ts";
import { deleteImageEntries, listImages, readJsonBlob } from "../store/images.ts";
import { storePaths } from "../store/paths.ts";
import { withLock } from "../store/lock.ts";

/** What `pod system check` found. */
export interface CheckReport {
  /** Blobs checked. */
  blobs: number;
  /** Blobs whose content does not match their name. */
  corrupt: string[];
  /** Images (by first name or ID) that reference a missing or corrupt blob, with the blob. */
  brokenImages: { image: string; id: string; blob: string; why: string }[];
  /** What `--repair` removed. */
  removed: string[];
}

/** Verifies the store; with `repair`, removes corrupt blobs and the images that need them. */
export async function checkStore(root: string, repair: boolean): Promise<CheckReport> {
  const p = storePaths(root);
  const report: CheckReport = { blobs: 0, corrupt: [], brokenImages: [], removed: [] };
  const bad = new Set<string>();
  for await (const e of Deno.readDir(p.blobs)) {
    if (!e.isFile) continue;
    report.blobs++;
    const digest = `sha256:${e.name}`;
    if (!/^[a-f0-9]{64}$/.test(e.name) || !(await verifyBlob(root, digest))) {
      report.corrupt.push(digest);
      bad.add(digest);
    }
  }
  const present = async (d: string) => {
    try {
      return (await Deno.lstat(`${p.blobs}/${d.slice(7)}`)).isFile;
    } catch {
      return false;
    }
  };
  for (const img of await listImages(root).catch(() => [])) {
    const label = img.names[0] ?? img.id.slice(0, 12);
    const needed = [img.digest, img.configDigest];
    try {
      const m = await readJsonBlob<ImageManifest>(root, img.digest);
      needed.push(...m.layers.map((l) => l.digest));
    } catch { /* the manifest itself is reported below */ }
    for (const d of needed) {
      const why = bad.has(d) ? "corrupt" : (await present(d)) ? "" : "missing";
      if (why) {
        report.brokenImages.push({ image: label, id: img.id, blob: d, why });
        break;
      }
    }
  }
  if (repair) {
    await withLock(p.lock, async () => {
      for (const d of report.corrupt) {
        await Deno.remove(`${p.blobs}/${d.slice(7)}`).catch(() => {});
        report.removed.push(`blob ${d}`);
      }
    });
    const images = await listImages(root).catch(() => []);
    for (const b of report.brokenImages) {
      const img = images.find((i) => i.id === b.id);
      if (!img) continue;
      await deleteImageEntries(root, img);
      report.removed.push(`image ${b.image}`);
    }
  }
  return report;
}
