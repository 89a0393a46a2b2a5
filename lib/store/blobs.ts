/**
 * Content-addressed blobs in `<root>/blobs/sha256/<hex>`. Every write goes to a temp file in `<root>/tmp/`,
 * is checked for size and sha256, fsynced and renamed into place, so a blob file is always complete and
 * correct. node:crypto is loaded lazily (only writers and verifiers hash).
 * @module
 */

import { PodError } from "../errors.ts";
import { tempName } from "./atomic.ts";
import { blobPath as pathOfBlob, storePaths } from "./paths.ts";

/** The path of a blob given `sha256:<hex>` (throws on an invalid digest). */
export function blobPath(root: string, digest: string): string {
  return pathOfBlob(root, digest);
}

/** True when the blob exists in the store (a regular file). */
export async function hasBlob(root: string, digest: string): Promise<boolean> {
  try {
    return (await Deno.stat(blobPath(root, digest))).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Read size of {@link BlobWriter.follow}. */
const FOLLOW_CHUNK = 128 * 1024;

type NodeHash = { update(b: Uint8Array): NodeHash; digest(enc: "hex"): string };

async function newHash(): Promise<NodeHash> {
  const { createHash } = await import("node:crypto");
  return createHash("sha256") as unknown as NodeHash;
}

/** A blob size or digest did not match its descriptor. */
export class BlobVerifyError extends PodError {
  /** A one-line message naming the blob. */
  constructor(message: string) {
    super(message, { code: "DIGEST_MISMATCH" });
    this.name = "BlobVerifyError";
  }
}

/**
 * An in-progress blob write: append chunks, then {@link BlobWriter.commit} (verifies size and digest, fsyncs,
 * renames) or {@link BlobWriter.abort}. Writing more than the expected size fails at once.
 */
export class BlobWriter {
  /** Store root. */
  readonly root: string;
  /** Expected digest. */
  readonly digest: string;
  /** Expected size (bytes). */
  readonly size: number;
  /** Temp file path. */
  readonly tmpPath: string;
  #file: Deno.FsFile;
  #hash: NodeHash;
  #written = 0;
  #done = false;
  #state: "open" | "committed" | "aborted" = "open";
  #waiters: (() => void)[] = [];

  private constructor(
    root: string,
    digest: string,
    size: number,
    tmpPath: string,
    file: Deno.FsFile,
    hash: NodeHash,
  ) {
    this.root = root;
    this.digest = digest;
    this.size = size;
    this.tmpPath = tmpPath;
    this.#file = file;
    this.#hash = hash;
  }

  /** Opens a writer for a blob of `digest` and `size`. */
  static async open(root: string, digest: string, size: number): Promise<BlobWriter> {
    blobPath(root, digest); // validates the digest
    const p = storePaths(root);
    await Deno.mkdir(p.tmp, { recursive: true, mode: 0o700 });
    const tmpPath = `${p.tmp}/${tempName("blob")}`;
    const file = await Deno.open(tmpPath, { write: true, createNew: true, mode: 0o600 });
    return new BlobWriter(root, digest, size, tmpPath, file, await newHash());
  }

  /** Bytes written so far. */
  get written(): number {
    return this.#written;
  }

  /** Appends a chunk; throws when the total would exceed the expected size. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#written + chunk.length > this.size) {
      throw new BlobVerifyError(
        `blob ${this.digest}: more data than the expected ${this.size} bytes`,
      );
    }
    this.#hash.update(chunk);
    let off = 0;
    while (off < chunk.length) off += await this.#file.write(chunk.subarray(off));
    this.#written += chunk.length;
    this.#notify();
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const wake of w) wake();
  }

  /**
   * Reads the blob while it is being written: chunks of the bytes written so far, waiting for more; ends after
   * all `size` bytes once the blob is committed (verified), throws when the write is aborted or fails to
   * verify. The bytes are not verified yet when they are read (the reader must check what it makes of them:
   * the unpacker checks the diff_id); after a {@link reset} the rest is read from the new attempt. With `reuse`, every chunk is a view
   * of one buffer, valid until the next is requested.
   */
  async *follow(reuse = false): AsyncGenerator<Uint8Array> {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(this.tmpPath, { read: true }); // sync: commit and abort change state before the path
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) || this.#state !== "committed") {
        throw new PodError(`blob ${this.digest}: its download failed`);
      }
      file = Deno.openSync(blobPath(this.root, this.digest), { read: true });
    }
    let buf = new Uint8Array(FOLLOW_CHUNK);
    try {
      for (let pos = 0; pos < this.size;) {
        if (this.#state === "aborted") throw new PodError(`blob ${this.digest}: its download failed`);
        const avail = this.#written - pos;
        if (avail <= 0) {
          await new Promise<void>((wake) => this.#waiters.push(wake));
          continue;
        }
        const n = file.readSync(avail < buf.length ? buf.subarray(0, avail) : buf); // page-cached: no thread trip
        if (n === null || n === 0) continue; // truncated meanwhile by a reset: wait for the new bytes
        pos += n;
        yield n === buf.length ? buf : buf.subarray(0, n);
        if (!reuse) buf = new Uint8Array(FOLLOW_CHUNK);
      }
      // the end only once the blob verified
      while (this.#state === "open") await new Promise<void>((wake) => this.#waiters.push(wake));
      if (this.#state === "aborted") throw new PodError(`blob ${this.digest}: its download failed`);
    } finally {
      file.close();
    }
  }

  /** Discards what was written (start again from byte 0). */
  async reset(): Promise<void> {
    await this.#file.truncate(0);
    await this.#file.seek(0, Deno.SeekMode.Start);
    this.#hash = await newHash();
    this.#written = 0;
    this.#notify();
  }

  /** Verifies size and digest, fsyncs and renames into `blobs/`. The writer is closed afterwards. */
  async commit(): Promise<string> {
    if (this.#done) throw new Error("blob writer already finished");
    this.#done = true;
    try {
      if (this.#written !== this.size) {
        throw new BlobVerifyError(`blob ${this.digest}: got ${this.#written} bytes, want ${this.size}`);
      }
      const got = `sha256:${this.#hash.digest("hex")}`;
      if (got !== this.digest) throw new BlobVerifyError(`blob ${this.digest}: digest mismatch (got ${got})`);
      await this.#file.syncData();
      this.#file.close();
      const dest = blobPath(this.root, this.digest);
      await Deno.mkdir(storePaths(this.root).blobs, { recursive: true, mode: 0o700 });
      this.#state = "committed";
      await Deno.rename(this.tmpPath, dest);
      this.#notify();
      return dest;
    } catch (e) {
      this.#state = "aborted";
      this.#notify();
      try {
        this.#file.close();
      } catch { /* already closed */ }
      await Deno.remove(this.tmpPath).catch(() => {});
      throw e;
    }
  }

  /** Closes and removes the temp file. Safe to call after commit. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#state = "aborted";
    this.#notify();
    try {
      this.#file.close();
    } catch { /* already closed */ }
    await Deno.remove(this.tmpPath).catch(() => {});
  }
}

/** Opens a {@link BlobWriter}. */
export function openBlobWriter(root: string, digest: string, size: number): Promise<BlobWriter> {
  return BlobWriter.open(root, digest, size);
}

/**
 * Writes a blob from a stream, verifying `size` and `digest`. A blob that already exists is not written
 * again (the stream is cancelled). Returns the blob path.
 */
export async function writeBlobFromStream(
  root: string,
  digest: string,
  size: number,
  stream: ReadableStream<Uint8Array>,
): Promise<string> {
  if (await hasBlob(root, digest)) {
    await stream.cancel().catch(() => {});
    return blobPath(root, digest);
  }
  const w = await openBlobWriter(root, digest, size);
  try {
    for await (const chunk of stream) await w.write(chunk);
    return await w.commit();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/** Stores bytes as a blob (no-op when it exists) and returns its digest. */
export async function putBlobBytes(root: string, bytes: Uint8Array): Promise<string> {
  const h = await newHash();
  const digest = `sha256:${h.update(bytes).digest("hex")}`;
  if (await hasBlob(root, digest)) return digest;
  const w = await openBlobWriter(root, digest, bytes.length);
  try {
    await w.write(bytes);
    await w.commit();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return digest;
}

/** Reads a stored blob, refusing one larger than `maxBytes`. Throws NotFound when absent. */
export async function readBlob(
  root: string,
  digest: string,
  maxBytes = 64 * 1024 * 1024,
): Promise<Uint8Array> {
  const path = blobPath(root, digest);
  const st = await Deno.stat(path);
  if (st.size > maxBytes) {
    throw new PodError(`blob ${digest} is too large (${st.size} bytes, limit ${maxBytes})`);
  }
  return await Deno.readFile(path);
}

/** Re-hashes a stored blob; true when its content matches its digest. */
export async function verifyBlob(root: string, digest: string): Promise<boolean> {
  const h = await newHash();
  let f: Deno.FsFile;
  try {
    f = await Deno.open(blobPath(root, digest), { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  const buf = new Uint8Array(1 << 20);
  try {
    while (true) {
      const n = await f.read(buf);
      if (n === null) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    f.close();
  }
  return `sha256:${h.digest("hex")}` === digest;
}

/** What {@link storeBlobStream} stored. */
export interface StoredBlob {
  /** `sha256:` digest of the bytes. */
  digest: string;
  /** Size in bytes. */
  size: number;
  /** True when this call created the blob (it was not in the store before). */
  created: boolean;
}

/**
 * Stores a stream whose digest is not known beforehand (an archive member): written to a temp file while
 * hashed, then fsynced and renamed to its digest. `expect` (a digest) must match or nothing is stored;
 * more than `maxBytes` fails at once. The stream is never held in memory.
 */
export async function storeBlobStream(
  root: string,
  chunks: AsyncIterable<Uint8Array>,
  opts: {
    expect?: string;
    maxBytes?: number;
    what?: string;
    /**
     * Hand the fsync and rename of a new blob to the caller instead of waiting for them: `later` gets the
     * promise, and the blob is in the store once it resolves (the caller awaits it before reading the blob
     * or registering anything). The next write then overlaps this one's flush to disk. On failure the temp
     * file is removed and the promise rejects.
     */
    later?: (done: Promise<void>) => void;
  } = {},
): Promise<StoredBlob> {
  const what = opts.what ?? "blob";
  if (opts.expect) blobPath(root, opts.expect); // validates
  const p = storePaths(root);
  await Deno.mkdir(p.tmp, { recursive: true, mode: 0o700 });
  const tmpPath = `${p.tmp}/${tempName("blob")}`;
  const file = await Deno.open(tmpPath, { write: true, createNew: true, mode: 0o600 });
  const h = await newHash();
  let size = 0;
  let closed = false;
  try {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes) {
        throw new PodError(`${what} is larger than the limit of ${opts.maxBytes} bytes`);
      }
      h.update(chunk);
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
    }
    const digest = `sha256:${h.digest("hex")}`;
    if (opts.expect && opts.expect !== digest) {
      throw new BlobVerifyError(`${what}: digest mismatch (want ${opts.expect}, got ${digest})`);
    }
    const dest = blobPath(root, digest);
    if (await hasBlob(root, digest)) {
      file.close();
      closed = true;
      await Deno.remove(tmpPath).catch(() => {});
      return { digest, size, created: false };
    }
    closed = true; // from here on `settle` owns the file
    const settle = async () => {
      let open = true;
      try {
        await file.syncData();
        file.close();
        open = false;
        await Deno.mkdir(p.blobs, { recursive: true, mode: 0o700 });
        await Deno.rename(tmpPath, dest);
      } catch (e) {
        if (open) file.close();
        await Deno.remove(tmpPath).catch(() => {});
        throw e;
      }
    };
    if (opts.later) {
      const done = settle();
      done.catch(() => {}); // the caller awaits it; never an unhandled rejection meanwhile
      opts.later(done);
    } else await settle();
    return { digest, size, created: true };
  } catch (e) {
    if (!closed) file.close();
    await Deno.remove(tmpPath).catch(() => {});
    throw e;
  }
}

/**
 * Reads a stored blob in chunks of up to 256 KiB: fresh buffers the caller may keep, or with `reuse` views of
 * one buffer, each valid only until the next chunk is requested (no garbage per chunk).
 */
export async function* blobChunks(root: string, digest: string, reuse = false): AsyncGenerator<Uint8Array> {
  const f = await Deno.open(blobPath(root, digest), { read: true });
  let buf = new Uint8Array(256 * 1024);
  try {
    while (true) {
      const n = await f.read(buf);
      if (n === null) return;
      yield buf.subarray(0, n);
      if (!reuse) buf = new Uint8Array(256 * 1024);
    }
  } finally {
    f.close();
  }
}
