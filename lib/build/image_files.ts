/**
 * An image's files without a root file system: its layers' tar headers merged in order (whiteouts and opaque
 * directories applied), paths resolved through the image's symlinks lexically inside the image (chroot
 * rules, never the host's), and the chosen files streamed out of the layer blobs again. `COPY --from` reads
 * stage and image files this way, root and rootless alike, with no namespace and no extraction.
 * @module
 */

import { cleanName } from "../unpack/contain.ts";
import { decompress, detectCompression, peek } from "../unpack/compress.ts";
import { readTar, type TarHeader } from "../unpack/tar.ts";
import type { TarWriteEntry } from "../unpack/tar_write.ts";

/** A layer blob to read. */
export interface LayerFile {
  /** Blob path. */
  path: string;
  /** Media type. */
  mediaType: string;
  /** Its entries' headers when known without reading the blob. */
  headers?: TarHeader[];
}

/** The header of an entry this process writes (for {@link LayerFile.headers}). */
export function headerOf(e: TarWriteEntry): TarHeader {
  return {
    name: e.name,
    type: e.type,
    typeflag: "",
    linkname: e.linkname ?? "",
    size: e.size ?? 0,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    uname: "",
    gname: "",
    mtime: e.mtime,
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
    xattrs: new Map(),
    pax: new Map(),
  };
}

/** The winning version of one path. */
export interface MergedEntry {
  /** Index of the layer it comes from. */
  layer: number;
  /** Its header (name cleaned: `a/b`). */
  header: TarHeader;
}

async function* layerTar(l: LayerFile) {
  const f = await Deno.open(l.path);
  try {
    const { head, stream } = await peek(f.readable, 8);
    yield* readTar(decompress(stream, detectCompression(l.mediaType, head)));
  } finally {
    try {
      f.close();
    } catch { /* closed by the stream */ }
  }
}

function dropUnder(map: Map<string, MergedEntry>, prefix: string, before: number): void {
  for (const [k, v] of map) if (v.layer < before && k.startsWith(prefix)) map.delete(k);
}

/** The files of an image. */
export class ImageFiles {
  /** Path → winning entry. */
  readonly entries = new Map<string, MergedEntry>();
  readonly #layers: LayerFile[];

  private constructor(layers: LayerFile[]) {
    this.#layers = layers;
  }

  /**
   * Reads the headers of `layers` (base first); a layer with `headers` (known because this process wrote it)
   * is not read. `from`: the files of a prefix of `layers`, taken over instead of reading those layers again.
   */
  static async open(layers: LayerFile[], from?: ImageFiles): Promise<ImageFiles> {
    const f = new ImageFiles(layers);
    let start = 0;
    if (
      from && from.#layers.length <= layers.length && from.#layers.every((l, i) => l.path === layers[i].path)
    ) {
      for (const [k, v] of from.entries) f.entries.set(k, v);
      start = from.#layers.length;
    }
    for (let i = start; i < layers.length; i++) {
      for await (const e of layers[i].headers ?? layerTar(layers[i])) {
        let parts: string[];
        try {
          parts = cleanName(e.name);
        } catch {
          continue; // the unpacker refuses such an entry too
        }
        if (!parts.length) continue;
        const base = parts[parts.length - 1];
        const dir = parts.slice(0, -1).join("/");
        if (base === ".wh..wh..opq") {
          dropUnder(f.entries, dir ? dir + "/" : "", i);
          continue;
        }
        if (base.startsWith(".wh.")) {
          const gone = (dir ? dir + "/" : "") + base.slice(4);
          const old = f.entries.get(gone);
          if (old && old.layer < i) f.entries.delete(gone);
          dropUnder(f.entries, gone + "/", i);
          continue;
        }
        const name = parts.join("/");
        const old = f.entries.get(name);
        if (old && old.header.type === "dir" && e.type !== "dir") dropUnder(f.entries, name + "/", i + 1);
        const { read: _r, body: _b, ...header } = e as TarHeader & { read?: unknown; body?: unknown };
        f.entries.set(name, { layer: i, header: { ...header, name } });
      }
    }
    return f;
  }

  /**
   * The canonical path of `path` in the image (`""` for the root): symlinks followed inside the image (the
   * last component too when `follow`), `..` clamped at the root. Undefined when it does not exist.
   */
  resolve(path: string, follow = true): string | undefined {
    const todo = path.split("/").filter((c) => c && c !== ".").reverse();
    const done: string[] = [];
    let hops = 0;
    while (todo.length) {
      const c = todo.pop()!;
      if (c === "..") {
        done.pop();
        continue;
      }
      const rel = [...done, c].join("/");
      const e = this.entries.get(rel);
      if (!e) {
        // a directory implied by its children (layers need not list every parent)
        if (this.#hasChildren(rel)) {
          done.push(c);
          continue;
        }
        return undefined;
      }
      if (e.header.type === "symlink" && (todo.length > 0 || follow)) {
        if (++hops > 40) return undefined;
        const target = e.header.linkname;
        if (target.startsWith("/")) done.length = 0;
        todo.push(...target.split("/").filter((x) => x && x !== ".").reverse());
        continue;
      }
      done.push(c);
    }
    return done.join("/");
  }

  #hasChildren(rel: string): boolean {
    const p = rel + "/";
    for (const k of this.entries.keys()) if (k.startsWith(p)) return true;
    return false;
  }

  /** Whether the canonical path `rel` is a directory. */
  isDir(rel: string): boolean {
    if (rel === "") return true;
    const e = this.entries.get(rel);
    return e ? e.header.type === "dir" : this.#hasChildren(rel);
  }

  /** Canonical paths below the directory `rel`, parents first. */
  under(rel: string): string[] {
    const p = rel === "" ? "" : rel + "/";
    return [...this.entries.keys()].filter((k) => k.startsWith(p) && k !== rel).sort();
  }

  /** The contents of the regular file at `path` (symlinks followed inside the image), if there is one. */
  async readText(path: string): Promise<string | undefined> {
    const rel = this.resolve(path);
    if (rel === undefined || this.entries.get(rel)?.header.type !== "file") return undefined;
    for await (const e of this.stream(new Map([[rel, rel]]))) {
      if (e.type !== "file" || !e.body) continue;
      const parts: Uint8Array[] = [];
      if (e.body instanceof Uint8Array) parts.push(e.body);
      else for await (const c of e.body()) parts.push(c.slice());
      return new TextDecoder().decode(await new Blob(parts as BlobPart[]).arrayBuffer());
    }
    return undefined;
  }

  /**
   * Streams the entries `wanted` (canonical path → archive name in the new layer) from the layer blobs,
   * with `edit` applied to each (ownership, mode). Hard links to files not copied are left out.
   */
  async *stream(
    wanted: Map<string, string>,
    edit: (e: TarWriteEntry) => TarWriteEntry = (e) => e,
  ): AsyncGenerator<TarWriteEntry> {
    const byLayer = new Map<number, Set<string>>();
    for (const k of wanted.keys()) {
      const e = this.entries.get(k);
      if (!e) continue;
      if (!byLayer.has(e.layer)) byLayer.set(e.layer, new Set());
      byLayer.get(e.layer)!.add(k);
    }
    // directories implied by children but without an entry of their own
    for (const [k, name] of wanted) {
      if (!this.entries.has(k)) {
        yield edit({ name, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 } });
      }
    }
    for (const i of [...byLayer.keys()].sort((a, b) => a - b)) {
      const names = byLayer.get(i)!;
      for await (const e of layerTar(this.#layers[i])) {
        let key: string;
        try {
          key = cleanName(e.name).join("/");
        } catch {
          continue;
        }
        if (!names.has(key)) continue;
        const common = { name: wanted.get(key)!, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
        if (e.type === "file") {
          yield edit({ ...common, type: "file", size: e.size, body: () => e.body() });
        } else if (e.type === "dir" || e.type === "fifo") {
          yield edit({ ...common, type: e.type });
        } else if (e.type === "symlink") {
          yield edit({ ...common, type: "symlink", linkname: e.linkname });
        } else if (e.type === "hardlink") {
          let target: string;
          try {
            target = cleanName(e.linkname).join("/");
          } catch {
            continue;
          }
          const to = wanted.get(target);
          if (to !== undefined && this.entries.get(target)?.layer === i) {
            yield edit({ ...common, type: "hardlink", linkname: to });
          }
        } else if (e.type === "char" || e.type === "block") {
          yield edit({ ...common, type: e.type, devmajor: e.devmajor, devminor: e.devminor });
        }
      }
    }
  }
}
