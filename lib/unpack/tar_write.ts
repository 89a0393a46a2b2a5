/**
 * A streaming tar writer (the counterpart of `tar.ts`, used by `pod cp`): ustar headers, with a pax
 * extended header when a name, link name, id, size or time does not fit ustar (long or non-ASCII names,
 * ids ≥ 2^21, sizes ≥ 8 GiB, sub-second times). Bodies are streamed; a body shorter than the declared size
 * is padded with zeros and a longer one is cut, so the archive stays well-formed when a file changes while
 * it is read.
 *
 * ```ts
 * const stream = ReadableStream.from(writeTar(entries));
 * ```
 * @module
 */

import type { TarEntryType, TarTime } from "./tar.ts";

/** One entry to write. */
export interface TarWriteEntry {
  /** Path inside the archive (`a/b`; no leading `/`). Directories get a trailing `/` in the header. */
  name: string;
  /** Kind (not `other`). */
  type: Exclude<TarEntryType, "other">;
  /** Permission and special bits. */
  mode: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Modification time. */
  mtime: TarTime;
  /** Body size (regular files only). */
  size?: number;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  /** Device numbers (char/block). */
  devmajor?: number;
  /** Device numbers (char/block). */
  devminor?: number;
  /** Owner names (informational). */
  uname?: string;
  /** Owner names (informational). */
  gname?: string;
  /** Body of a regular file: bytes, or a function returning chunks (opened only when the entry is written). */
  body?: Uint8Array | (() => AsyncIterable<Uint8Array>);
}

const BLOCK = 512;
const enc = new TextEncoder();
const TYPEFLAG: Record<TarWriteEntry["type"], string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

function isAscii(s: string): boolean {
  // deno-lint-ignore no-control-regex
  return /^[\x01-\x7f]*$/.test(s);
}

function putString(b: Uint8Array, off: number, len: number, s: string): void {
  // ASCII (every field but some names) is copied without an encoder: a header is written per entry,
  // thousands of them per commit
  const n = Math.min(len, s.length);
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    b[off + i] = c;
  }
  if (i === n) return;
  const bytes = enc.encode(s);
  b.set(bytes.subarray(0, len), off);
}

/** Writes `v` as a NUL-terminated octal field of `len` bytes (caller checks it fits). */
function putOctal(b: Uint8Array, off: number, len: number, v: number): void {
  // right-aligned zero-filled digits, then the NUL (as padStart + encode wrote them, without the strings)
  let x = Math.max(0, Math.trunc(v));
  for (let i = off + len - 2; i >= off; i--) {
    b[i] = 0x30 + (x % 8);
    x = Math.floor(x / 8);
  }
  b[off + len - 1] = 0;
}

function fitsOctal(v: number, len: number): boolean {
  return v >= 0 && Number.isSafeInteger(v) && v < 8 ** (len - 1);
}

/** One pax record: `"<len> key=value\n"` where len counts the whole record. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const blen = enc.encode(body).length;
  let len = blen + 1;
  while (blen + String(len).length !== len) len = blen + String(len).length;
  return `${len}${body}`;
}

/** Splits a long name into ustar prefix (≤155) and name (≤100) at a `/`, or undefined. */
function splitUstar(name: string): { prefix: string; name: string } | undefined {
  if (name.length <= 100) return { prefix: "", name };
  for (let i = Math.max(1, name.length - 101); i <= Math.min(155, name.length - 2); i++) {
    if (name[i] === "/") return { prefix: name.slice(0, i), name: name.slice(i + 1) };
  }
  return undefined;
}

function header(
  name: string,
  typeflag: string,
  e: { mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string },
  extra: { uname?: string; gname?: string; devmajor?: number; devminor?: number; prefix?: string } = {},
): Uint8Array {
  const b = new Uint8Array(BLOCK);
  putString(b, 0, 100, name);
  putOctal(b, 100, 8, e.mode & 0o7777);
  putOctal(b, 108, 8, fitsOctal(e.uid, 8) ? e.uid : 0);
  putOctal(b, 116, 8, fitsOctal(e.gid, 8) ? e.gid : 0);
  putOctal(b, 124, 12, fitsOctal(e.size, 12) ? e.size : 0);
  putOctal(b, 136, 12, fitsOctal(e.mtime, 12) ? e.mtime : 0);
  b[156] = typeflag.charCodeAt(0);
  putString(b, 157, 100, e.linkname);
  putString(b, 257, 6, "ustar");
  b[263] = 0x30;
  b[264] = 0x30;
  if (extra.uname && isAscii(extra.uname)) putString(b, 265, 31, extra.uname);
  if (extra.gname && isAscii(extra.gname)) putString(b, 297, 31, extra.gname);
  putOctal(b, 329, 8, extra.devmajor ?? 0);
  putOctal(b, 337, 8, extra.devminor ?? 0);
  if (extra.prefix) putString(b, 345, 155, extra.prefix);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  putString(b, 148, 7, sum.toString(8).padStart(6, "0") + "\0");
  b[155] = 0x20;
  return b;
}

/** The zero bytes that pad a body of `n` bytes to a whole 512-byte block. */
export function padding(n: number): Uint8Array {
  return new Uint8Array((BLOCK - (n % BLOCK)) % BLOCK);
}

/** The header block(s) of an entry: a pax header when needed, then the ustar header. */
export function encodeHeader(e: TarWriteEntry): Uint8Array {
  const size = e.type === "file" ? e.size ?? (e.body instanceof Uint8Array ? e.body.length : 0) : 0;
  let name = e.name.replace(/^\/+/, "");
  if (e.type === "dir" && !name.endsWith("/")) name += "/";
  const linkname = e.linkname ?? "";
  const pax: string[] = [];
  let split = isAscii(name) ? splitUstar(name) : undefined;
  if (!split) {
    pax.push(paxRecord("path", name));
    split = { prefix: "", name: name.slice(0, 99) };
  }
  if (linkname.length > 100 || !isAscii(linkname)) pax.push(paxRecord("linkpath", linkname));
  if (!fitsOctal(e.uid, 8)) pax.push(paxRecord("uid", String(e.uid)));
  if (!fitsOctal(e.gid, 8)) pax.push(paxRecord("gid", String(e.gid)));
  if (!fitsOctal(size, 12)) pax.push(paxRecord("size", String(size)));
  if (e.mtime.nsec !== 0 || !fitsOctal(e.mtime.sec, 12)) {
    const frac = e.mtime.nsec ? "." + String(e.mtime.nsec).padStart(9, "0").replace(/0+$/, "") : "";
    pax.push(paxRecord("mtime", `${e.mtime.sec}${frac}`));
  }
  if (e.uname && !isAscii(e.uname)) pax.push(paxRecord("uname", e.uname));
  if (e.gname && !isAscii(e.gname)) pax.push(paxRecord("gname", e.gname));
  const main = header(split.name, TYPEFLAG[e.type], {
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size,
    mtime: e.mtime.sec,
    linkname: linkname.length > 100 || !isAscii(linkname) ? "" : linkname,
  }, {
    uname: e.uname,
    gname: e.gname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    prefix: split.prefix,
  });
  if (!pax.length) return main;
  const body = enc.encode(pax.join(""));
  const phdr = header(`PaxHeaders/${split.name}`.slice(0, 99), "x", {
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: Math.max(0, e.mtime.sec),
    linkname: "",
  });
  const out = new Uint8Array(BLOCK + body.length + padding(body.length).length + BLOCK);
  out.set(phdr, 0);
  out.set(body, BLOCK);
  out.set(main, out.length - BLOCK);
  return out;
}

/** The end-of-archive marker: two zero blocks. */
export function endOfArchive(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

/** Encodes one entry: its header(s), its body (cut or zero-filled to the declared size) and the padding. */
export async function* tarEntryChunks(e: TarWriteEntry): AsyncGenerator<Uint8Array, void, undefined> {
  const size = e.type === "file" ? e.size ?? (e.body instanceof Uint8Array ? e.body.length : 0) : 0;
  yield encodeHeader({ ...e, size });
  if (e.type !== "file" || size === 0) return;
  let left = size;
  if (e.body instanceof Uint8Array) {
    yield e.body.subarray(0, size);
    left -= Math.min(size, e.body.length);
  } else if (e.body) {
    for await (const chunk of e.body()) {
      if (left <= 0) break;
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      yield part;
    }
  }
  if (left > 0) yield new Uint8Array(left); // the file shrank while it was read
  const pad = padding(size);
  if (pad.length) yield pad;
}

/** Encodes entries as a tar stream (headers, bodies, padding, end marker). */
export async function* writeTar(
  entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const e of entries) yield* tarEntryChunks(e);
  yield endOfArchive();
}

/**
 * {@link writeTar}'s bytes in blocks of `blockSize` (the last one shorter), each a view of ONE reused buffer
 * valid only until the next is requested: a tar of thousands of small files makes no buffer and no
 * generator round per header, body and padding (`commit`'s memory and CPU).
 */
export async function* writeTarBlocks(
  entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>,
  blockSize = 256 * 1024,
): AsyncGenerator<Uint8Array, void, undefined> {
  const buf = new Uint8Array(blockSize);
  let n = 0;
  /** Copies `b` in; true when the buffer is full (to be yielded) with `rest` of `b` still to copy. */
  let rest: Uint8Array | undefined;
  const put = (b: Uint8Array): boolean => {
    const take = Math.min(b.length, blockSize - n);
    buf.set(take === b.length ? b : b.subarray(0, take), n);
    n += take;
    rest = take < b.length ? b.subarray(take) : undefined;
    return n === blockSize;
  };
  /** Zero bytes: `zeros` of them still to add. */
  const zero = (count: number): number => {
    const take = Math.min(count, blockSize - n);
    buf.fill(0, n, n + take);
    n += take;
    return count - take;
  };
  for await (const e of entries) {
    const size = e.type === "file" ? e.size ?? (e.body instanceof Uint8Array ? e.body.length : 0) : 0;
    const parts: (Uint8Array | AsyncIterable<Uint8Array>)[] = [encodeHeader({ ...e, size })];
    if (e.type === "file" && size > 0) {
      if (e.body instanceof Uint8Array) parts.push(e.body.subarray(0, size));
      else if (e.body) parts.push(e.body());
    }
    let left = size;
    for (const p of parts) {
      const chunks = p instanceof Uint8Array ? [p] : p;
      const isBody = p !== parts[0];
      for await (const c0 of chunks) {
        let c = c0;
        if (isBody) {
          if (left <= 0) break;
          if (c.length > left) c = c.subarray(0, left);
          left -= c.length;
        }
        while (put(c)) {
          yield buf;
          n = 0;
          if (!rest) break;
          c = rest;
        }
      }
    }
    // the file shrank while it was read: zero-filled to its declared size; then the padding to 512
    let zeros = e.type === "file" && size > 0 ? left + (BLOCK - (size % BLOCK)) % BLOCK : 0;
    while ((zeros = zero(zeros)) > 0 || n === blockSize) {
      yield buf;
      n = 0;
      if (zeros === 0) break;
    }
  }
  let end = 2 * BLOCK;
  while ((end = zero(end)) > 0 || n === blockSize) {
    yield buf;
    n = 0;
    if (end === 0) break;
  }
  if (n) yield buf.subarray(0, n);
}
