/**
 * Reading an image archive (a `docker save` / `podman save` docker-archive or an oci-archive, plain or
 * gzip/zstd-compressed) in one streaming pass. Archives are attacker-controlled, and nothing in them is
 * ever written to a path taken from the archive: small JSON members are kept in memory (capped), every other
 * regular file is streamed into the store's `blobs/` under its own sha256 (never held in memory), and
 * symlinks are only recorded, to be resolved inside the archive's name space. What the members mean is
 * decided afterwards (`load.ts`), when every name is known.
 * @module
 */

import { PodError } from "../errors.ts";
import { storeBlobStream } from "../store/blobs.ts";
import { compressionFromMagic, decompress, peek } from "../unpack/compress.ts";
import { readTar, TarFormatError, TruncatedError } from "../unpack/tar.ts";
import { defaultMaxBytes } from "../unpack/mod.ts";

/** Largest JSON member kept in memory. */
export const JSON_CAP = 8 * 1024 * 1024;

/** One member of an archive, by its cleaned name. */
export type ArchiveMember =
  | { kind: "json"; bytes: Uint8Array }
  | { kind: "blob"; digest: string; size: number }
  | { kind: "link"; target: string; hard: boolean };

/** The members of an archive, and the blobs this read added to the store (to drop if the load fails). */
export interface ArchiveIndex {
  /** Cleaned name (`a/b`, no `./`, no trailing `/`) → member. */
  members: Map<string, ArchiveMember>;
  /** Digests of blobs that were not in the store before. */
  created: string[];
  /** Digests of every blob member (to claim while the load runs). */
  all: string[];
}

/** An error in an archive: one line, exit 125, code CONTAINMENT when a name tries to leave the archive. */
export class ArchiveError extends PodError {
  constructor(message: string, containment = false) {
    super(`invalid archive: ${message}`, containment ? { code: "CONTAINMENT" } : {});
    this.name = "ArchiveError";
  }
}

/**
 * The cleaned form of an archive path, or undefined when it is absolute, climbs with `..`, or holds a NUL.
 * `./a//b/` → `a/b`.
 */
export function cleanArchivePath(name: string): string | undefined {
  if (name.includes("\0") || name.startsWith("/")) return undefined;
  const parts: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") return undefined;
    parts.push(p);
  }
  return parts.length ? parts.join("/") : undefined;
}

/** `dir` + `rel` resolved lexically (`..` pops a component), or undefined when it climbs above the top. */
function resolveRelative(dir: string, rel: string): string | undefined {
  if (rel.includes("\0")) return undefined;
  const parts = dir ? dir.split("/") : [];
  for (const p of rel.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (!parts.length) return undefined;
      parts.pop();
    } else parts.push(p);
  }
  return parts.length ? parts.join("/") : undefined;
}

/** Whether a member is kept in memory: the archive's own metadata files and JSON documents. */
function isMetadata(name: string): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1);
  return ["manifest.json", "repositories", "index.json", "oci-layout"].includes(name) ||
    (base.endsWith(".json") && !name.startsWith("blobs/"));
}

async function readSmall(body: AsyncIterable<Uint8Array>, size: number, name: string): Promise<Uint8Array> {
  if (size > JSON_CAP) throw new ArchiveError(`${name} is too large (${size} bytes, limit ${JSON_CAP})`);
  const out = new Uint8Array(size);
  let off = 0;
  for await (const part of body) {
    out.set(part, off);
    off += part.length;
  }
  return out;
}

/**
 * Reads an archive stream: detects gzip/zstd on the whole stream, then indexes every member. Blobs land in
 * the store as they stream by (each at most `maxBytes`, default the layer cap). Throws {@link ArchiveError}
 * for a malformed or truncated archive or a duplicate member; on any failure the blobs it created are
 * removed again (by the caller, when it passed `into`).
 */
export async function indexArchive(
  root: string,
  source: AsyncIterable<Uint8Array>,
  opts: {
    maxBytes?: number;
    /** Called for every blob stored (the caller claims it against a concurrent gc). */
    onBlob?: (digest: string) => Promise<void>;
    /** Fill this index; the caller then removes what it created when it fails (after releasing its claim). */
    into?: ArchiveIndex;
  } = {},
): Promise<ArchiveIndex> {
  const maxBytes = opts.maxBytes ?? defaultMaxBytes();
  const idx: ArchiveIndex = opts.into ?? { members: new Map(), created: [], all: [] };
  // each blob's flush to disk overlaps the next member's read; all are done before this returns
  const flushing: Promise<void>[] = [];
  const later = (p: Promise<void>) => void flushing.push(p);
  try {
    const { head, stream } = await peek(source, 8);
    if (head.length === 0) throw new ArchiveError("the input is empty");
    const kind = compressionFromMagic(head) ?? "none";
    for await (const e of readTar(decompress(stream, kind))) {
      const name = cleanArchivePath(e.name);
      if (name === undefined) continue; // never addressable: references to such names are refused later
      if (e.type === "dir" || e.type === "other" && e.typeflag !== "S") continue;
      if (idx.members.has(name)) throw new ArchiveError(`duplicate entry "${name}"`);
      if (e.type === "symlink" || e.type === "hardlink") {
        idx.members.set(name, { kind: "link", target: e.linkname, hard: e.type === "hardlink" });
      } else if (e.type === "file") {
        if (isMetadata(name)) {
          idx.members.set(name, { kind: "json", bytes: await readSmall(e.body(), e.size, name) });
        } else {
          const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
          const b = await storeBlobStream(root, e.body(), {
            maxBytes,
            expect: m ? `sha256:${m[1]}` : undefined,
            what: `archive member ${name}`,
            later,
          });
          if (b.created) idx.created.push(b.digest);
          idx.all.push(b.digest);
          await opts.onBlob?.(b.digest);
          idx.members.set(name, { kind: "blob", digest: b.digest, size: b.size });
        }
      } else if (e.type === "other") {
        throw new ArchiveError(`entry "${name}" has an unsupported type "${e.typeflag}"`);
      }
    }
    await Promise.all(flushing);
    return idx;
  } catch (e) {
    await Promise.allSettled(flushing); // no rename may land after the blobs are dropped
    if (!opts.into) await dropBlobs(root, idx.created);
    if (e instanceof PodError) throw e;
    if (e instanceof TruncatedError) throw new ArchiveError("the archive is truncated");
    if (e instanceof TarFormatError) throw new ArchiveError(e.message);
    throw new ArchiveError((e as Error).message ?? String(e));
  }
}

/** Removes blobs a failed load created, unless an image or another live process needs them meanwhile. */
export async function dropBlobs(root: string, digests: string[]): Promise<void> {
  const { dropBlobsIfUnused } = await import("../store/gc.ts");
  await dropBlobsIfUnused(root, digests);
}

/**
 * Looks a member up by a path an archive document names (`manifest.json`'s `Config`, `Layers`…), following
 * symlinks and hardlinks inside the archive's own names (at most 40). A path that is absolute or climbs out
 * with `..` is refused.
 */
export function lookupMember(
  idx: ArchiveIndex,
  path: string,
  what: string,
): ArchiveMember & { name: string } {
  const first = cleanArchivePath(path);
  if (first === undefined) {
    throw new ArchiveError(`${what} names the path "${path}" outside the archive`, true);
  }
  let name: string = first;
  for (let hops = 0; hops <= 40; hops++) {
    const m = idx.members.get(name);
    if (!m) throw new ArchiveError(`${what} names "${path}", which is not in the archive`);
    if (m.kind !== "link") return { ...m, name };
    const dir: string = m.hard ? "" : name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
    const next: string | undefined = m.target.startsWith("/") ? undefined : resolveRelative(dir, m.target);
    if (next === undefined) throw new ArchiveError(`link "${name}" points outside the archive`, true);
    name = next;
  }
  throw new ArchiveError(`${what}: too many links resolving "${path}"`);
}
