/**
 * A streaming tar reader: ustar, pax (local and global extended headers, long names and link names, size,
 * uid/gid, fractional mtime/atime, `SCHILY.xattr.*`), GNU long names and link names (`L`/`K`) and base-256
 * numeric fields. Bodies are handed out as zero-copy views of the input chunks, so nothing is buffered beyond
 * one input chunk.
 *
 * ```ts
 * for await (const e of readTar(chunks)) {
 *   if (e.type === "file") for await (const part of e.body()) use(part);
 * }
 * ```
 * @module
 */

import { ChunkReader, TruncatedError } from "./chunks.ts";

export { ChunkReader, TruncatedError };

/** Kind of a tar entry; `other` for types the reader does not interpret (see {@link TarEntry.typeflag}). */
export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo" | "other";

/** A time stamp: whole seconds since the epoch and nanoseconds (pax headers carry fractions). */
export interface TarTime {
  /** Seconds since the epoch (may be negative). */
  sec: number;
  /** Nanoseconds, 0..999 999 999. */
  nsec: number;
}

/** The decoded header of one entry, with extended (pax / GNU) headers already merged in. */
export interface TarHeader {
  /** Entry name as stored (pax `path` > GNU long name > ustar prefix + name); a trailing `/` is removed. */
  name: string;
  /** Entry kind. */
  type: TarEntryType;
  /** Raw type flag character (`"0"`, `"5"`, `"S"`…). */
  typeflag: string;
  /** Link target of symlinks and hardlinks (pax `linkpath` > GNU long link > header). */
  linkname: string;
  /** Body size in bytes. */
  size: number;
  /** Permission and special bits (`0o7777`). */
  mode: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Owner user name (informational). */
  uname: string;
  /** Owner group name (informational). */
  gname: string;
  /** Modification time. */
  mtime: TarTime;
  /** Access time when the archive carries one (pax `atime`). */
  atime?: TarTime;
  /** Device major number (char/block devices). */
  devmajor: number;
  /** Device minor number (char/block devices). */
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.<name>` records (raw bytes). */
  xattrs: Map<string, Uint8Array>;
  /** Every pax record that applied to this entry (global then local), values decoded as UTF-8. */
  pax: Map<string, string>;
}

/** One entry: header fields plus a reader for its body (valid until the iterator advances). */
export interface TarEntry extends TarHeader {
  /**
   * Returns the next part of the body (a view valid until the next read), or null after the last byte.
   * A body left unread is skipped when the iterator advances.
   */
  read(): Promise<Uint8Array | null>;
  /** Iterates the rest of the body in parts (views valid until the next part is requested). */
  body(): AsyncGenerator<Uint8Array, void, undefined>;
}

/** Options for {@link readTar}. */
export interface ReadTarOptions {
  /** Largest pax or GNU long-name header body accepted (default 1 MiB). */
  maxMetaSize?: number;
  /** Largest body part handed out at once (default 1 MiB). */
  maxPart?: number;
}

/** A malformed archive (bad checksum, bad number, oversize header…). */
export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarFormatError";
  }
}

const BLOCK = 512;
const utf8 = new TextDecoder("utf-8");

function cString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return end === off ? "" : utf8.decode(b.subarray(off, end));
}

/** Parses a numeric header field: octal ASCII, or GNU base-256 when the high bit of the first byte is set. */
export function parseNumeric(b: Uint8Array, off: number, len: number, field: string): number {
  const first = b[off];
  if (first & 0x80) {
    const neg = first === 0xff;
    let v = neg ? (~first & 0x7f) : (first & 0x7f);
    for (let i = 1; i < len; i++) {
      v = v * 256 + (neg ? (~b[off + i] & 0xff) : b[off + i]);
      if (v > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`${field} field out of range`);
    }
    return neg ? -(v + 1) : v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`invalid octal number in ${field} field`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  for (; i < end; i++) {
    if (b[i] !== 0x20 && b[i] !== 0) throw new TarFormatError(`invalid octal number in ${field} field`);
  }
  return digits === 0 ? 0 : v;
}

function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

function verifyChecksum(b: Uint8Array): void {
  const stored = parseNumeric(b, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  if (stored !== unsigned && stored !== signed) throw new TarFormatError("invalid header checksum");
}

/** Parses a pax time value (`"1700000000.123456789"`, possibly negative). */
export function parsePaxTime(v: string): TarTime {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(v);
  if (!m) throw new TarFormatError(`invalid pax time "${v}"`);
  let sec = Number(m[2]);
  let nsec = m[3] ? Number((m[3] + "000000000").slice(0, 9)) : 0;
  if (m[1] === "-") {
    sec = -sec;
    if (nsec > 0) {
      sec -= 1;
      nsec = 1e9 - nsec;
    }
  }
  return { sec, nsec };
}

function paxInt(v: string, key: string): number {
  if (!/^\d+$/.test(v)) throw new TarFormatError(`invalid pax ${key} "${v}"`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new TarFormatError(`pax ${key} out of range`);
  return n;
}

/** Parses the records of a pax extended header body into raw key → value bytes. */
export function parsePaxRecords(body: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0) break; // some writers pad with NULs
    let len = 0;
    let j = i;
    while (j < body.length && body[j] >= 0x30 && body[j] <= 0x39) len = len * 10 + (body[j++] - 0x30);
    if (
      j === i || body[j] !== 0x20 || len < j - i + 3 || i + len > body.length || body[i + len - 1] !== 0x0a
    ) {
      throw new TarFormatError("malformed pax record");
    }
    const rec = body.subarray(j + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError("malformed pax record");
    out.set(utf8.decode(rec.subarray(0, eq)), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
  "D": "dir", // GNU dumpdir: a directory whose body lists its contents
};

const HEADER_ONLY = new Set(["1", "2", "3", "4", "5", "6"]);

/**
 * Reads a tar stream entry by entry. The stream must end with the end-of-archive marker (at least one zero
 * block); a stream that ends anywhere else throws {@link TruncatedError}. Bytes after the marker are left
 * unread in `source` when it is a {@link ChunkReader}.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array> | ChunkReader,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const r = source instanceof ChunkReader ? source : new ChunkReader(source);
  const maxMeta = opts.maxMetaSize ?? 1 << 20;
  const maxPart = opts.maxPart ?? 1 << 20;
  let global = new Map<string, Uint8Array>();
  let local = new Map<string, Uint8Array>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let pending = 0; // unread body + padding of the previous entry

  const readMeta = async (size: number, what: string): Promise<Uint8Array> => {
    if (size > maxMeta) throw new TarFormatError(`${what} of ${size} bytes is too large`);
    const body = size === 0 ? new Uint8Array(0) : (await r.readExact(size, what))!;
    if (body === null) throw new TruncatedError(what);
    const copy = body.slice();
    await r.skip((BLOCK - (size % BLOCK)) % BLOCK, what);
    return copy;
  };

  for (;;) {
    if (pending > 0) {
      await r.skip(pending, "entry body");
      pending = 0;
    }
    const hdr = await r.readExact(BLOCK, "tar header");
    if (hdr === null) throw new TruncatedError("tar archive (no end-of-archive marker)");
    if (isZeroBlock(hdr)) {
      // End of archive: a second zero block normally follows; tolerate a lone one at the very end.
      const second = await r.readExact(BLOCK, "end-of-archive marker");
      if (second !== null && !isZeroBlock(second)) {
        throw new TarFormatError("zero block followed by data inside the archive");
      }
      return;
    }
    verifyChecksum(hdr);
    const typeflag = String.fromCharCode(hdr[156]);
    const size = parseNumeric(hdr, 124, 12, "size");
    if (size < 0) throw new TarFormatError("negative size");

    // Extended headers describe the next entry.
    if (typeflag === "x" || typeflag === "X") {
      for (const [k, v] of parsePaxRecords(await readMeta(size, "pax header"))) local.set(k, v);
      continue;
    }
    if (typeflag === "g") {
      global = new Map(global);
      for (const [k, v] of parsePaxRecords(await readMeta(size, "pax global header"))) global.set(k, v);
      continue;
    }
    if (typeflag === "L" || typeflag === "K") {
      const body = await readMeta(size, typeflag === "L" ? "GNU long name" : "GNU long link");
      const s = cString(body, 0, body.length);
      if (typeflag === "L") longName = s;
      else longLink = s;
      continue;
    }

    const magic = cString(hdr, 257, 6);
    const isPosix = magic === "ustar" && hdr[263] === 0x30 && hdr[264] === 0x30;
    let name = cString(hdr, 0, 100);
    if (isPosix) {
      const prefix = cString(hdr, 345, 155);
      if (prefix) name = prefix + "/" + name;
    }
    const linkname = cString(hdr, 157, 100);
    let type: TarEntryType = TYPES[typeflag] ?? "other";
    if (typeflag === "\0" && name.endsWith("/")) type = "dir";
    const h: TarHeader = {
      name,
      type,
      typeflag,
      linkname,
      size,
      mode: parseNumeric(hdr, 100, 8, "mode") & 0o7777,
      uid: parseNumeric(hdr, 108, 8, "uid"),
      gid: parseNumeric(hdr, 116, 8, "gid"),
      uname: cString(hdr, 265, 32),
      gname: cString(hdr, 297, 32),
      mtime: { sec: parseNumeric(hdr, 136, 12, "mtime"), nsec: 0 },
      devmajor: type === "char" || type === "block" ? parseNumeric(hdr, 329, 8, "devmajor") : 0,
      devminor: type === "char" || type === "block" ? parseNumeric(hdr, 337, 8, "devminor") : 0,
      xattrs: new Map(),
      pax: new Map(),
    };
    if (longName !== undefined) h.name = longName;
    if (longLink !== undefined) h.linkname = longLink;
    const records = global.size ? new Map([...global, ...local]) : local;
    for (const [k, raw] of records) {
      if (k.startsWith("SCHILY.xattr.")) {
        h.xattrs.set(k.slice(13), raw);
        continue;
      }
      const v = utf8.decode(raw);
      h.pax.set(k, v);
      const fromGlobal = !local.has(k);
      switch (k) {
        case "path":
          if (!fromGlobal) h.name = v;
          break;
        case "linkpath":
          if (!fromGlobal) h.linkname = v;
          break;
        case "size":
          if (!fromGlobal) h.size = paxInt(v, k);
          break;
        case "uid":
          h.uid = paxInt(v, k);
          break;
        case "gid":
          h.gid = paxInt(v, k);
          break;
        case "uname":
          h.uname = v;
          break;
        case "gname":
          h.gname = v;
          break;
        case "mtime":
          h.mtime = parsePaxTime(v);
          break;
        case "atime":
          h.atime = parsePaxTime(v);
          break;
      }
    }
    local = new Map();
    longName = longLink = undefined;
    while (h.name.length > 1 && h.name.endsWith("/")) h.name = h.name.slice(0, -1);

    // Like Go's archive/tar: links, devices, fifos and plain directories carry no data whatever their size says.
    const stored = HEADER_ONLY.has(typeflag) ? 0 : h.size;
    h.size = stored;
    let left = stored;
    pending = stored + ((BLOCK - (stored % BLOCK)) % BLOCK);
    const readPart = async (): Promise<Uint8Array | null> => {
      if (left <= 0) return null;
      const part = await r.readSome(Math.min(left, maxPart), "entry body");
      left -= part.length;
      pending -= part.length;
      return part;
    };
    const entry: TarEntry = Object.assign(h, {
      read: readPart,
      body: async function* (): AsyncGenerator<Uint8Array, void, undefined> {
        for (let p = await readPart(); p !== null; p = await readPart()) yield p;
      },
    });
    yield entry;
    left = 0; // the entry's reader is dead once the iterator moves on
  }
}
