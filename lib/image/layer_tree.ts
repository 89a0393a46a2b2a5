/**
 * `image tree`: an image's layers as podman lists them — each layer by its chain ID (the OCI image spec's
 * ChainID of the diff_ids up to it), its stored size, and the images whose top layer it is.
 * @module
 */

import { createHash } from "node:crypto";
import { resolveImage } from "../store/images.ts";
import { summarizeAll } from "./summary.ts";

/** One layer of {@link ImageTree}. */
export interface TreeLayerInfo {
  /** Chain ID (`sha256:…`) of the layers up to this one. */
  chainId: string;
  /** Stored (compressed) size, as `images` counts it. */
  size: number;
  /** Names of the images whose top layer this is (`<none>`-less: nameless images are left out). */
  topOf: string[];
}

/** What `image tree IMAGE` prints. */
export interface ImageTree {
  /** Image ID. */
  id: string;
  /** The image's names. */
  names: string[];
  /** Image size as `images` prints it. */
  size: number;
  /** Base layer first. */
  layers: TreeLayerInfo[];
}

/** ChainIDs of `diffIds`: the first is its diff_id, each next one sha256(`parent` + " " + diff_id). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev ? "sha256:" + createHash("sha256").update(`${prev} ${d}`).digest("hex") : d);
  }
  return out;
}

/** The layer tree of `nameOrId` in the store at `root`. */
export async function imageTree(root: string, nameOrId: string): Promise<ImageTree> {
  const img = await resolveImage(root, nameOrId);
  const all = await summarizeAll(root);
  const top = new Map<string, string[]>();
  for (const s of all) {
    const c = chainIds(s.config.rootfs?.diff_ids ?? []).at(-1);
    if (c && s.record.names.length) top.set(c, [...(top.get(c) ?? []), ...s.record.names]);
  }
  const me = all.find((s) => s.record.id === img.id)!;
  const chain = chainIds(me.config.rootfs?.diff_ids ?? []);
  return {
    id: img.id,
    names: img.names,
    size: me.size,
    layers: chain.map((c, i) => ({
      chainId: c,
      size: me.manifest.layers[i]?.size ?? 0,
      topOf: top.get(c) ?? [],
    })),
  };
}
