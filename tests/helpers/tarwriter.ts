/**
 * A small tar writer for tests: ustar headers, pax extended headers, GNU long names/links, base-256 numbers and
 * any entry type, including hostile ones (names with `..`, absolute names, wrong sizes, raw type flags).
 *
 * ```ts
 * const tar = buildTar([
 *   { name: "etc/", type: "dir" },
 *   { name: "etc/hosts", content: "127.0.0.1 localhost\n" },
 *   { name: "link", type: "symlink", linkname: "/" },
 * ]);
 * ```
 * @module
 */

/** Kind of entry to write. */
export type TarEntryKind = "file" | "dir" | "symlink" | "hardlink" | "fifo" | "char" | "block";

/** One entry for {@link buildTar}. */
export interface TarEntryInput {
  /** Entry name, written as given (no normalisation, so `../x` and `/x` stay hostile). */
  name: string;
  /** Entry kind (default `file`). */
  type?: TarEntryKind;
  /** Raw type flag, overriding `type` (e.g. `"S"`, `"\0"`, `"x"`). */
  typeflag?: string;
  /** File body. */
  content?: Uint8Array | string;
  /** Link target for symlinks and hardlinks. */
  linkname?: string;
  /** Permission bits (default 0o644 for files, 0o755 for dirs, 0o777 for symlinks). */
  mode?: number;
  /** Owner uid (default 0). */
  uid?: number;
  /** Owner gid (default 0). */
  gid?: number;
  /** Owner user name. */
  uname?: string;
  /** Owner group name. */
  gname?: string;
  /** Modification time in seconds since the epoch (default 1700000000). */
  mtime?: number;
  /** Pax records written in a local extended header before the entry. */
  pax?: Record<string, string | Uint8Array>;
  /** Device major number. */
  devmajor?: number;
  /** Device minor number. */
  devminor?: number;
  /** How to store a name or link name that does not fit the header: `pax` (default) or `gnu` (`L`/`K`). */
  longNames?: "pax" | "gnu";
  /** Writes numeric fields (size, uid, gid, mtime) in GNU base-256. */
  base256?: boolean;
  /** Overrides the size written in the header (the body written is still `content`). */
  size?: number;
}

/** Options for {@link buildTar}. */
export interface BuildTarOptions {
  /** Writes the two zero blocks that end an archive (default true). */
  end?: boolean;
}

const enc = new TextEncoder();
const BLOCK = 512;

function bytes(v: Uint8Array | string | undefined): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  return typeof v === "string" ? enc.encode(v) : v;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  out.set(data);
  return out;
}

function putString(h: Uint8Array, off: number, len: number, s: string | Uint8Array): void {
  const b = bytes(s);
  if (b.length > len) throw new Error(`tarwriter: "${s}" does not fit ${len} bytes`);
  h.set(b, off);
}

/** Writes a numeric field in octal, or base-256 when `base256` is set or the value does not fit. */
function putNumber(h: Uint8Array, off: number, len: number, v: number, base256 = false): void {
  const oct = Math.trunc(v).toString(8);
  if (!base256 && v >= 0 && oct.length <= len - 1) {
    putString(h, off, len, oct.padStart(len - 1, "0"));
    h[off + len - 1] = 0;
    return;
  }
  let n = BigInt(Math.trunc(v));
  if (n < 0n) n = (1n << BigInt(8 * len)) + n; // two's complement; first byte becomes 0xff
  for (let i = len - 1; i >= 0; i--) {
    h[off + i] = Number(n & 0xffn);
    n >>= 8n;
  }
  if (v >= 0) h[off] = 0x80 | (h[off] & 0x7f);
}

/** Fills in the checksum of a 512-byte header block (call after editing one by hand). */
export function setChecksum(h: Uint8Array): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  putString(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
}

/** Encodes pax records (`"<len> key=value\n"`) into an extended header body. */
export function paxRecords(records: Record<string, string | Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = new Uint8Array([...enc.encode(` ${k}=`), ...bytes(v), 0x0a]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(enc.encode(String(len)), body);
  }
  return concat(parts);
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const FLAGS: Record<TarEntryKind, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

/** Fields of one raw header block, see {@link header}. */
export interface HeaderFields {
  /** Name field (at most 100 bytes). */
  name: string;
  /** Raw type flag. */
  typeflag: string;
  /** Size field. */
  size: number;
  /** Mode field. */
  mode: number;
  /** Uid field. */
  uid?: number;
  /** Gid field. */
  gid?: number;
  /** Mtime field. */
  mtime?: number;
  /** Link name field (at most 100 bytes). */
  linkname?: string;
  /** Uname field. */
  uname?: string;
  /** Gname field. */
  gname?: string;
  /** Device major field. */
  devmajor?: number;
  /** Device minor field. */
  devminor?: number;
  /** Prefix field (ustar, at most 155 bytes). */
  prefix?: string;
  /** Base-256 numbers. */
  base256?: boolean;
  /** `ustar` (POSIX, default) or `gnu` magic. */
  magic?: "ustar" | "gnu";
}

/** Builds one 512-byte header block with a valid checksum. */
export function header(f: HeaderFields): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putString(h, 0, 100, f.name);
  putNumber(h, 100, 8, f.mode);
  putNumber(h, 108, 8, f.uid ?? 0, f.base256);
  putNumber(h, 116, 8, f.gid ?? 0, f.base256);
  putNumber(h, 124, 12, f.size, f.base256);
  putNumber(h, 136, 12, f.mtime ?? 1700000000, f.base256);
  putString(h, 156, 1, f.typeflag);
  putString(h, 157, 100, f.linkname ?? "");
  if (f.magic === "gnu") putString(h, 257, 8, "ustar  \0");
  else putString(h, 257, 8, "ustar\u000000");
  putString(h, 265, 32, f.uname ?? "");
  putString(h, 297, 32, f.gname ?? "");
  putNumber(h, 329, 8, f.devmajor ?? 0);
  putNumber(h, 337, 8, f.devminor ?? 0);
  if (f.prefix) putString(h, 345, 155, f.prefix);
  setChecksum(h);
  return h;
}

/** Splits a name into ustar prefix + name when possible. */
function splitUstar(name: string): { prefix: string; name: string } | null {
  const b = enc.encode(name);
  if (b.length <= 100) return { prefix: "", name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const p = name.slice(0, i);
    const n = name.slice(i + 1);
    if (enc.encode(p).length <= 155 && enc.encode(n).length <= 100 && n.length > 0) {
      return { prefix: p, name: n };
    }
  }
  return null;
}

/** Encodes the blocks of one entry (extended headers, header, padded body). */
export function entryBlocks(e: TarEntryInput): Uint8Array {
  const type = e.type ?? "file";
  const typeflag = e.typeflag ?? FLAGS[type];
  const content = bytes(e.content);
  const pax: Record<string, string | Uint8Array> = { ...(e.pax ?? {}) };
  const out: Uint8Array[] = [];
  let name = e.name;
  let prefix = "";
  let linkname = e.linkname ?? "";
  if (enc.encode(name).length > 100) {
    const split = e.longNames === "gnu" ? null : splitUstar(name);
    if (split) ({ prefix, name } = split);
    else if (e.longNames === "gnu") {
      out.push(header({ name: "././@LongLink", typeflag: "L", size: enc.encode(name).length + 1, mode: 0 }));
      out.push(padded(concat([enc.encode(name), new Uint8Array(1)])));
      name = name.slice(0, 99);
    } else {
      pax.path ??= name;
      name = name.slice(0, 99);
    }
  }
  if (enc.encode(linkname).length > 100) {
    if (e.longNames === "gnu") {
      out.push(
        header({ name: "././@LongLink", typeflag: "K", size: enc.encode(linkname).length + 1, mode: 0 }),
      );
      out.push(padded(concat([enc.encode(linkname), new Uint8Array(1)])));
    } else pax.linkpath ??= linkname;
    linkname = linkname.slice(0, 99);
  }
  if (Object.keys(pax).length > 0) {
    const body = paxRecords(pax);
    out.push(
      header({ name: "PaxHeader/" + name.slice(0, 80), typeflag: "x", size: body.length, mode: 0o644 }),
    );
    out.push(padded(body));
  }
  const defaultMode = type === "dir" ? 0o755 : type === "symlink" ? 0o777 : 0o644;
  out.push(header({
    name,
    prefix,
    typeflag,
    size: e.size ?? content.length,
    mode: e.mode ?? defaultMode,
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
    linkname,
    uname: e.uname,
    gname: e.gname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    base256: e.base256,
  }));
  out.push(padded(content));
  return concat(out);
}

/** Builds a whole tar archive from entries, ending with two zero blocks unless `end: false`. */
export function buildTar(entries: TarEntryInput[], opts: BuildTarOptions = {}): Uint8Array {
  const parts = entries.map(entryBlocks);
  if (opts.end ?? true) parts.push(new Uint8Array(2 * BLOCK));
  return concat(parts);
}
