/**
 * Image trees: an image's layers applied once into `$ROOT/trees/<key>/`, the read-only lower layer of the
 * overlay of every container made from that image with the same id mapping (the files' owners on disk depend
 * on the mapping: rootless, they are the user's subordinate ids).
 *
 * ```
 * trees/<layers>-<map>/           finished tree (never changed once renamed into place)
 * trees/<layers>-<map>.tmp-<pid>  being built by that process (stage 2); a dead builder's is removed
 * ```
 *
 * `<layers>` is 32 hex of sha256 over the layer digests, `<map>` is `host` (no user namespace) or 16 hex of
 * sha256 over the uid and gid maps. A tree is kept while an image with those layers exists or a container
 * names it. This module is on the start-up hot path: no heavy imports.
 * @module
 */

import { storePaths } from "./paths.ts";

/** Id maps of a user namespace (same shape as the container config's). */
interface Maps {
  uidMap?: { containerId: number; hostId: number; size: number }[];
  gidMap?: { containerId: number; hostId: number; size: number }[];
}

async function hex(text: string, chars: number): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, chars);
}

/** The layer part of a tree key: 32 hex of sha256 over the layer digests, in order. */
export function layersKey(layerDigests: string[]): Promise<string> {
  return hex(layerDigests.join("\n"), 32);
}

/** A tree's key: its layers and, with a user namespace, its id maps (`host` without one). */
export async function treeKey(layerDigests: string[], userns: Maps & { mode: string }): Promise<string> {
  const map = userns.mode === "host" || !userns.uidMap?.length
    ? "host"
    : await hex(JSON.stringify([userns.uidMap, userns.gidMap ?? []]), 16);
  return `${await layersKey(layerDigests)}-${map}`;
}

/** `$ROOT/trees`. */
export function treesDir(root: string): string {
  return `${storePaths(root).root}/trees`;
}

/**
 * Creates `$ROOT/trees` as the store's owner (0700) before stage 2 builds a tree: with `--userns=keep-id`
 * stage 2 is another host id, and a directory it made would be closed to the owner.
 */
export async function ensureTreesDir(root: string): Promise<void> {
  await Deno.mkdir(treesDir(root), { recursive: true, mode: 0o700 });
}

/** The path of the tree with this key. */
export function treePath(root: string, key: string): string {
  if (!/^[a-f0-9]{32}-(host|[a-f0-9]{16})$/.test(key)) throw new Error(`invalid tree key "${key}"`);
  return `${treesDir(root)}/${key}`;
}

/** An entry of the trees directory. */
export interface TreeEntry {
  /** Directory name. */
  name: string;
  /** Key of the tree (also for a temp one). */
  key: string;
  /** Pid of the builder of a temp tree; undefined for a finished tree. */
  builder?: number;
}

/** Lists the trees directory (finished and temp trees); unknown names are skipped. */
export async function listTrees(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  try {
    for await (const e of Deno.readDir(treesDir(root))) {
      const m = /^([a-f0-9]{32}-(?:host|[a-f0-9]{16}))(?:\.tmp-(\d+))?$/.exec(e.name);
      if (m) out.push({ name: e.name, key: m[1], builder: m[2] ? Number(m[2]) : undefined });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}
