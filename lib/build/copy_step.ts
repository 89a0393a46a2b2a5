/**
 * COPY and ADD as layers: the sources (context files, heredocs, URLs, another stage's or image's files, local
 * tar archives that ADD extracts) planned first, hashed for the layer cache (content, never mtimes), then
 * streamed as tar entries of the new layer. The context is read without following symlinks out of it: a named
 * source resolves inside the context (chroot rules, lib/unpack/contain.ts); a symlink inside a copied
 * directory is copied as a symlink. Archive entries are cleaned and refused when they climb out (`../`).
 * @module
 */

import { cleanName, Root, RuleError } from "../unpack/contain.ts";
import { decompress, detectCompression, peek } from "../unpack/compress.ts";
import { readTar } from "../unpack/tar.ts";
import type { TarWriteEntry } from "../unpack/tar_write.ts";
import type { IgnoreRules } from "./ignore.ts";
import type { ImageFiles } from "./image_files.ts";

/** One thing a COPY/ADD puts into the layer. */
export type CopyItem =
  | { kind: "host"; path: string; name: string; info: Deno.FileInfo; alt?: string }
  | { kind: "archive"; path: string; dir: string }
  | { kind: "bytes"; name: string; data: Uint8Array; mode: number; alt?: string }
  | { kind: "image"; files: ImageFiles; wanted: Map<string, string>; id: string }
  | { kind: "dir"; name: string; mode: number };

/** A planned COPY/ADD. */
export interface CopyPlan {
  /** What goes into the layer, in order. */
  items: CopyItem[];
  /** `--chown`, resolved. */
  owner?: { uid: number; gid: number };
  /** `--chmod`. */
  chmod?: number;
  /**
   * A single file copied to a destination without a trailing `/`: when that destination is a directory in
   * the image, the file goes into it (the items' `alt` names). Decided when the layer is made: the cache
   * key does not need it (the parent image decides it).
   */
  destMaybeDir?: string;
}

/** `plan` with its single file moved into the destination directory (see {@link CopyPlan.destMaybeDir}). */
export function intoDestDir(plan: CopyPlan): CopyPlan {
  return {
    ...plan,
    items: plan.items.map((it) =>
      (it.kind === "host" || it.kind === "bytes") && it.alt ? { ...it, name: it.alt } : it
    ),
  };
}

/** A COPY/ADD failure the caller reports at the instruction's line. */
export class CopyError extends Error {}

/** Where the sources come from. */
export interface CopySources {
  /** The context directory. */
  contextDir: string;
  /** Its ignore rules. */
  ignore: IgnoreRules;
  /** `--from`: the files of that stage or image instead of the context. */
  from?: { files: ImageFiles; id: string };
  /** ADD: extract local archives, fetch URLs. */
  add: boolean;
  /** Heredoc bodies by name (already expanded as they should be). */
  heredocs: Map<string, string>;
  /** `--checksum` of an ADD URL. */
  checksum?: string;
}

const GLOB = /[*?[]/;

function globRegExp(c: string): RegExp {
  let re = "";
  for (let i = 0; i < c.length; i++) {
    const ch = c[i];
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = c.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let cls = c.slice(i + 1, end);
        if (cls.startsWith("!") || cls.startsWith("^")) cls = "^" + cls.slice(1);
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** `/a//b/../c` → `a/c` (the root is ""); `..` stops at the root. */
function cleanDest(p: string): string {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return out.join("/");
}

function join(dir: string, leaf: string): string {
  return dir === "" ? leaf : leaf === "" ? dir : `${dir}/${leaf}`;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Context paths matching the components of a glob, walked from the context root (symlinks not followed). */
async function contextGlob(ctx: string, parts: string[]): Promise<string[]> {
  let cur = [""];
  for (let i = 0; i < parts.length; i++) {
    const c = parts[i];
    const next: string[] = [];
    for (const rel of cur) {
      if (!GLOB.test(c)) {
        const p = join(rel, c);
        try {
          await Deno.lstat(`${ctx}/${p}`);
          next.push(p);
        } catch { /* no match */ }
        continue;
      }
      const re = globRegExp(c);
      try {
        for await (const d of Deno.readDir(rel ? `${ctx}/${rel}` : ctx)) {
          if (re.test(d.name)) next.push(join(rel, d.name));
        }
      } catch { /* not a directory */ }
    }
    cur = next.sort();
  }
  return cur;
}

/** Plans a COPY/ADD of `srcs` to `dest` (as written, expanded; relative to `workdir`). */
export async function planCopy(
  srcs: string[],
  dest: string,
  workdir: string,
  s: CopySources,
  opts: { chown?: { uid: number; gid: number }; chmod?: number } = {},
): Promise<CopyPlan> {
  const destAbs = dest.startsWith("/") ? dest : `${workdir.replace(/\/+$/, "")}/${dest}`;
  const destRel = cleanDest(destAbs);
  const destSlash = dest.endsWith("/") || dest === "." || dest.endsWith("/.");
  const items: CopyItem[] = [];
  // first resolve every source to what it stands for
  type Match =
    | { t: "host"; rel: string; path: string; info: Deno.FileInfo }
    | { t: "url"; url: URL }
    | { t: "heredoc"; name: string; body: string }
    | { t: "image"; rel: string };
  const matches: Match[] = [];
  for (const src of srcs) {
    if (src.startsWith("<<") && s.heredocs.has(src.replace(/^<<-?["']?|["']$/g, ""))) {
      const name = src.replace(/^<<-?["']?|["']$/g, "");
      matches.push({ t: "heredoc", name, body: s.heredocs.get(name)! });
      continue;
    }
    if (/^https?:\/\//.test(src)) {
      if (!s.add) throw new CopyError(`source can't be a URL for COPY: ${src}`);
      matches.push({ t: "url", url: new URL(src) });
      continue;
    }
    let parts: string[];
    try {
      parts = cleanName(src, `source "${src}"`);
    } catch (e) {
      if (e instanceof RuleError) throw new CopyError(`source "${src}" is outside the build context`);
      throw e;
    }
    if (s.from) {
      const f = s.from.files;
      const found: string[] = [];
      if (parts.some((c) => GLOB.test(c))) {
        const re = new RegExp(`^${parts.map((c) => globRegExp(c).source.slice(1, -1)).join("/")}$`);
        for (const k of f.entries.keys()) if (re.test(k)) found.push(k);
      } else {
        const r = f.resolve(parts.join("/"));
        if (r !== undefined) found.push(r);
      }
      if (!found.length) {
        throw new CopyError(`no such file or directory: ${src} (in ${s.from.id.slice(0, 12)})`);
      }
      for (const rel of found.sort()) matches.push({ t: "image", rel });
      continue;
    }
    const rels = parts.some((c) => GLOB.test(c)) ? await contextGlob(s.contextDir, parts) : [parts.join("/")];
    let any = false;
    for (const rel of rels) {
      if (s.ignore.excludes(rel)) continue;
      let path: string;
      try {
        // named sources follow symlinks, inside the context only; glob matches are taken as they are
        path = new Root(s.contextDir).resolve(rel, { follow: !GLOB.test(src) });
        const info = await Deno.lstat(path);
        matches.push({ t: "host", rel, path, info });
        any = true;
      } catch { /* not there */ }
    }
    if (!any) {
      throw new CopyError(
        `checking on sources under "${s.contextDir}": stat "/${parts.join("/")}": no such file or directory` +
          (s.ignore.excludes(parts.join("/")) ? " (excluded by the ignore file)" : ""),
      );
    }
  }
  const many = matches.length > 1;
  if (many && !destSlash) {
    throw new CopyError(`adding multiple sources to non-directory destination "${dest}": add a trailing /`);
  }
  const toDir = (m: Match) =>
    destSlash || many || (m.t === "host" && m.info.isDirectory) ||
    (m.t === "image" && s.from!.files.isDir(m.rel));
  if (destSlash || many) items.push({ kind: "dir", name: destRel, mode: 0o755 });
  for (const m of matches) {
    if (m.t === "heredoc") {
      items.push({
        kind: "bytes",
        name: toDir(m) ? join(destRel, m.name) : destRel,
        data: new TextEncoder().encode(m.body),
        mode: 0o644,
      });
    } else if (m.t === "url") {
      const data = await fetchSource(m.url, s.checksum);
      const leaf = basename(m.url.pathname) || "index.html";
      items.push({ kind: "bytes", name: toDir(m) ? join(destRel, leaf) : destRel, data, mode: 0o600 });
    } else if (m.t === "image") {
      const f = s.from!.files;
      const wanted = new Map<string, string>();
      if (f.isDir(m.rel)) {
        if (!wanted.size && m.rel !== "") wanted.set(m.rel, destRel);
        for (const k of f.under(m.rel)) {
          wanted.set(k, join(destRel, k.slice(m.rel === "" ? 0 : m.rel.length + 1)));
        }
      } else wanted.set(m.rel, toDir(m) ? join(destRel, basename(m.rel)) : destRel);
      items.push({ kind: "image", files: f, wanted, id: `${s.from!.id}:${m.rel}` });
    } else if (m.info.isDirectory) {
      items.push({ kind: "host", path: m.path, name: destRel, info: m.info });
      await walk(m.path, m.rel, destRel, s.ignore, items);
    } else if (s.add && m.info.isFile && await isArchive(m.path)) {
      await checkArchive(m.path);
      items.push({ kind: "archive", path: m.path, dir: destRel });
    } else {
      items.push({
        kind: "host",
        path: m.path,
        name: toDir(m) ? join(destRel, basename(m.rel)) : destRel,
        info: m.info,
      });
    }
  }
  const single = matches.length === 1 && !destSlash && destRel !== "" && items.length === 1 &&
    (items[0].kind === "bytes" || (items[0].kind === "host" && !items[0].info.isDirectory));
  if (single) {
    const m = matches[0];
    const leaf = m.t === "heredoc"
      ? m.name
      : m.t === "url"
      ? basename(m.url.pathname) || "index.html"
      : m.t === "host"
      ? basename(m.rel)
      : "";
    (items[0] as { alt?: string }).alt = join(destRel, leaf);
  }
  return { items, owner: opts.chown, chmod: opts.chmod, ...(single ? { destMaybeDir: destRel } : {}) };
}

async function walk(
  dir: string,
  rel: string,
  dest: string,
  ignore: IgnoreRules,
  items: CopyItem[],
): Promise<void> {
  const names: string[] = [];
  for await (const d of Deno.readDir(dir)) names.push(d.name);
  names.sort();
  for (const n of names) {
    const r = join(rel, n);
    const info = await Deno.lstat(`${dir}/${n}`);
    if (ignore.excludes(r)) {
      if (!(info.isDirectory && ignore.hasExceptions)) continue;
    } else {
      if (!info.isFile && !info.isDirectory && !info.isSymlink) continue; // sockets, devices: not copied
      items.push({ kind: "host", path: `${dir}/${n}`, name: join(dest, n), info });
    }
    if (info.isDirectory) await walk(`${dir}/${n}`, r, join(dest, n), ignore, items);
  }
}

async function isArchive(path: string): Promise<boolean> {
  const f = await Deno.open(path);
  try {
    const b = new Uint8Array(512);
    let n = 0;
    while (n < b.length) {
      const r = await f.read(b.subarray(n));
      if (r === null) break;
      n += r;
    }
    if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
    if (n >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return true;
    return n >= 262 && new TextDecoder().decode(b.subarray(257, 262)) === "ustar";
  } finally {
    f.close();
  }
}

async function fetchSource(url: URL, checksum?: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new CopyError(`fetching ${url}: ${e instanceof Error ? e.message : e}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new CopyError(`fetching ${url}: HTTP ${res.status}`);
  }
  const data = new Uint8Array(await res.arrayBuffer());
  if (checksum) {
    const m = /^sha256:([a-f0-9]{64})$/.exec(checksum);
    if (!m) throw new CopyError(`invalid checksum "${checksum}": want sha256:<64 hex>`);
    const got = await sha256Hex(data);
    if (got !== m[1]) throw new CopyError(`checksum of ${url} is sha256:${got}, expected ${checksum}`);
  }
  return data;
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return [...h].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Content digests of context files remembered by their stat (path, size, mtime, ctime, inode), as git's
 * index does: an unchanged stat means unchanged content, a changed one is hashed again (so a touched but
 * unchanged file still hits the cache).
 */
export class DigestMemo {
  readonly #old: Map<string, string>;
  readonly #used = new Map<string, string>();

  /** A memo starting from `entries` (as {@link DigestMemo.toJSON} gave them). */
  constructor(entries: Record<string, string> = {}) {
    this.#old = new Map(Object.entries(entries));
  }

  /** The sha256 hex of the file at `path` with stat `info`. */
  async digest(path: string, info: Deno.FileInfo): Promise<string> {
    const key = [path, info.size, info.mtime?.getTime() ?? 0, info.ctime?.getTime() ?? 0, info.ino ?? 0].join(
      "\0",
    );
    let d = this.#used.get(key) ?? this.#old.get(key);
    if (!d) d = await fileHash(path);
    this.#used.set(key, d);
    return d;
  }

  /** The entries used since it was made (stale ones drop out). */
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.#used);
  }
}

/** Size of the one buffer context files are read into. */
const READ_BUFFER = 1 << 20;

/**
 * A context file's bytes as views of `buf`, each valid only until the next is requested (read synchronously:
 * context files are local and usually page-cached; no fresh buffer per chunk, so no garbage to collect).
 */
function* fileChunks(path: string, buf: Uint8Array): Generator<Uint8Array> {
  const f = Deno.openSync(path);
  try {
    while (true) {
      const n = f.readSync(buf);
      if (n === null || n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    f.close();
  }
}

/** The buffer {@link fileHash} reads into (one per process: no garbage per file or chunk). */
let hashBuffer: Uint8Array | undefined;

async function fileHash(path: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const h = createHash("sha256");
  const buf = hashBuffer ??= new Uint8Array(READ_BUFFER);
  for (const c of fileChunks(path, buf)) h.update(c);
  return h.digest("hex");
}

/** The content digest of a plan for the layer cache: names, kinds, modes, owners, link targets, contents. */
export async function planDigest(plan: CopyPlan, memo = new DigestMemo()): Promise<string> {
  const parts: string[] = [JSON.stringify([plan.owner ?? null, plan.chmod ?? null])];
  const h = { update: (s: string) => parts.push(s) };
  for (const it of plan.items) {
    switch (it.kind) {
      case "host": {
        const i = it.info;
        const kind = i.isDirectory ? "d" : i.isSymlink ? "l" : "f";
        const extra = i.isSymlink
          ? await Deno.readLink(it.path)
          : i.isFile
          ? await memo.digest(it.path, i)
          : "";
        h.update(`h\0${it.name}\0${kind}\0${(i.mode ?? 0) & 0o7777}\0${extra}\n`);
        break;
      }
      case "archive":
        h.update(`a\0${it.dir}\0${await memo.digest(it.path, await Deno.stat(it.path))}\n`);
        break;
      case "bytes":
        h.update(`b\0${it.name}\0${it.mode}\0${await sha256Hex(it.data)}\n`);
        break;
      case "image":
        h.update(`i\0${it.id}\0${JSON.stringify([...it.wanted])}\n`);
        break;
      case "dir":
        h.update(`d\0${it.name}\0${it.mode}\n`);
        break;
    }
  }
  return await sha256Hex(new TextEncoder().encode(parts.join("")));
}

function mtimeOf(i: Deno.FileInfo) {
  const ms = i.mtime?.getTime() ?? 0;
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

async function* asyncChunks(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/**
 * The tar entries of a planned COPY/ADD (names relative to the image root), each name once (a layer with a
 * path twice is refused by containers/storage): the first entry of a name is kept. A context file's body
 * chunks share one buffer: the consumer must be done with a chunk before it asks for the next (the store's
 * writer is; a compressor that keeps chunks is not).
 */
export async function* planEntries(plan: CopyPlan): AsyncGenerator<TarWriteEntry> {
  const seen = new Set<string>();
  for await (const e of rawEntries(plan)) {
    if (seen.has(e.name)) continue;
    seen.add(e.name);
    yield e;
  }
}

async function* rawEntries(plan: CopyPlan): AsyncGenerator<TarWriteEntry> {
  const own = (uid: number, gid: number) => plan.owner ?? { uid, gid };
  const mode = (m: number, isDir: boolean) => plan.chmod !== undefined && !isDir ? plan.chmod : m;
  const now = { sec: Math.floor(Date.now() / 1000), nsec: 0 };
  let buf: Uint8Array | undefined;
  for (const it of plan.items) {
    if (it.kind === "dir") {
      if (it.name) yield { name: it.name, type: "dir", mode: it.mode, ...own(0, 0), mtime: now };
    } else if (it.kind === "bytes") {
      yield {
        name: it.name,
        type: "file",
        mode: mode(it.mode, false),
        ...own(0, 0),
        mtime: now,
        size: it.data.length,
        body: it.data,
      };
    } else if (it.kind === "host") {
      const i = it.info;
      const common = { name: it.name, ...own(0, 0), mtime: mtimeOf(i) };
      if (i.isDirectory) {
        if (it.name) yield { ...common, type: "dir", mode: (i.mode ?? 0o755) & 0o7777 };
      } else if (i.isSymlink) {
        yield { ...common, type: "symlink", mode: 0o777, linkname: await Deno.readLink(it.path) };
      } else {
        const path = it.path;
        yield {
          ...common,
          type: "file",
          mode: mode((i.mode ?? 0o644) & 0o7777, false),
          size: i.size,
          body: () => asyncChunks(fileChunks(path, buf ??= new Uint8Array(READ_BUFFER))),
        };
      }
    } else if (it.kind === "image") {
      yield* it.files.stream(
        it.wanted,
        (e) => ({ ...e, ...own(e.uid, e.gid), mode: mode(e.mode, e.type === "dir") }),
      );
    } else {
      yield* archiveEntries(it.path, it.dir, plan);
    }
  }
}

/** Refuses an archive with an entry or hard link climbing out of its directory (before any layer is made). */
async function checkArchive(path: string): Promise<void> {
  const leaf = path.slice(path.lastIndexOf("/") + 1);
  const f = await Deno.open(path);
  try {
    const { head, stream } = await peek(f.readable, 8);
    for await (const e of readTar(decompress(stream, detectCompression("", head)))) {
      try {
        cleanName(e.name, `archive entry "${e.name}"`);
        if (e.type === "hardlink") cleanName(e.linkname, `archive link "${e.linkname}"`);
      } catch (err) {
        if (err instanceof RuleError) throw new CopyError(`${leaf}: ${err.message}`);
        throw err;
      }
    }
  } catch (e) {
    if (e instanceof CopyError) throw e;
    throw new CopyError(`${leaf}: reading the archive: ${e instanceof Error ? e.message : e}`);
  } finally {
    try {
      f.close();
    } catch { /* closed by the stream */ }
  }
}

/** ADD of a local archive: its entries below `dir`, names cleaned; an entry climbing out is an error. */
async function* archiveEntries(path: string, dir: string, plan: CopyPlan): AsyncGenerator<TarWriteEntry> {
  const f = await Deno.open(path);
  const { head, stream } = await peek(f.readable, 8);
  if (dir) yield { name: dir, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 } };
  for await (const e of readTar(decompress(stream, detectCompression("", head)))) {
    let name: string;
    try {
      name = cleanName(e.name, `archive entry "${e.name}"`).join("/");
    } catch (err) {
      if (err instanceof RuleError) {
        throw new CopyError(`${path.slice(path.lastIndexOf("/") + 1)}: ${err.message}`);
      }
      throw err;
    }
    if (!name) continue;
    const base = name.slice(name.lastIndexOf("/") + 1);
    if (base.startsWith(".wh.")) continue; // never a whiteout from a user's archive
    const owner = plan.owner ?? { uid: e.uid, gid: e.gid };
    const common = { name: join(dir, name), mode: e.mode, ...owner, mtime: e.mtime };
    if (e.type === "file") yield { ...common, type: "file", size: e.size, body: () => e.body() };
    else if (e.type === "dir" || e.type === "fifo") yield { ...common, type: e.type };
    else if (e.type === "symlink") yield { ...common, type: "symlink", linkname: e.linkname };
    else if (e.type === "hardlink") {
      let target: string;
      try {
        target = cleanName(e.linkname, `archive link "${e.linkname}"`).join("/");
      } catch (err) {
        if (err instanceof RuleError) {
          throw new CopyError(`${path.slice(path.lastIndexOf("/") + 1)}: ${err.message}`);
        }
        throw err;
      }
      yield { ...common, type: "hardlink", linkname: join(dir, target) };
    }
    // devices from a user's archive are not created
  }
}
