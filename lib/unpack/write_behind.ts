/**
 * Write-behind for the unpacker's larger files: the bytes of an entry are copied into one of a few pooled
 * buffers and written with `pwrite` on Deno's blocking threads while the main thread goes on decompressing,
 * hashing and parsing. Each file's descriptor is closed (after its owner, mode, times and xattrs are set
 * through it) once its last write finished. Memory stays bounded: at most {@link POOL} buffers exist, and a
 * writer that finds none free waits for the oldest write in flight.
 * @module
 */

import { closeFd, pwrite, pwriteAsync } from "../ns/fs.ts";

/** Size of one pooled buffer (and of the largest single write). */
export const BUFFER_BYTES = 256 * 1024;
/** Most buffers in existence (and writes in flight) at once: 1 MiB (more were not faster, and cost RSS). */
export const POOL = 4;

/** Writes `len` bytes of `buf` at `offset`, retrying short writes; a failed write is repeated synchronously for its errno. */
async function writeAll(fd: number, buf: Uint8Array<ArrayBuffer>, len: number, offset: number, path: string) {
  for (let done = 0; done < len;) {
    const part = buf.subarray(done, len);
    let n = await pwriteAsync(fd, part, offset + done);
    if (n < 0) n = pwrite(fd, part, offset + done, path); // throws with the errno when it fails again
    if (n === 0) throw new Error(`write ${path}: no progress`);
    done += n;
  }
}

/** The pooled buffers and every write in flight of one extraction. */
export class WriteBehind {
  #free: Uint8Array<ArrayBuffer>[] = [];
  #made = 0;
  #inFlight = new Set<Promise<unknown>>();
  #failure: { err: unknown } | undefined;

  /** Starts filling the descriptor `fd` (created empty for `path`); it belongs to the returned sink now. */
  file(fd: number, path: string): FileSink {
    return new FileSink(this, fd, path);
  }

  /** Throws the first failure of a write or of a file's finishing step. */
  check(): void {
    if (this.#failure) throw this.#failure.err;
  }

  /** A free buffer, waiting for a write to finish when all {@link POOL} are in use. */
  async acquire(): Promise<Uint8Array<ArrayBuffer>> {
    for (;;) {
      this.check();
      const b = this.#free.pop();
      if (b) return b;
      if (this.#made < POOL) {
        this.#made++;
        return new Uint8Array(BUFFER_BYTES);
      }
      await Promise.race(this.#inFlight);
    }
  }

  /** Returns a buffer to the pool. */
  release(b: Uint8Array<ArrayBuffer>): void {
    this.#free.push(b);
  }

  /** Tracks `p` until it settles; its failure (the first one) is kept for {@link check} and {@link drain}. */
  track(p: Promise<unknown>): Promise<void> {
    const t = p.then(() => {}, (err) => {
      this.#failure ??= { err };
    }).finally(() => this.#inFlight.delete(t));
    this.#inFlight.add(t);
    return t;
  }

  /** Waits for every write and file in flight; throws the first failure. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    this.check();
  }
}

/** The contents of one file on their way to its descriptor. */
export class FileSink {
  #wb: WriteBehind;
  #fd: number;
  #path: string;
  #offset = 0;
  #buf: Uint8Array<ArrayBuffer> | undefined;
  #fill = 0;
  #writes: Promise<unknown>[] = [];

  constructor(wb: WriteBehind, fd: number, path: string) {
    this.#wb = wb;
    this.#fd = fd;
    this.#path = path;
  }

  /** Appends `data` (copied: the caller may reuse it once this resolves). */
  async write(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length;) {
      this.#buf ??= await this.#wb.acquire();
      const take = Math.min(data.length - off, BUFFER_BYTES - this.#fill);
      this.#buf.set(off === 0 && take === data.length ? data : data.subarray(off, off + take), this.#fill);
      this.#fill += take;
      off += take;
      if (this.#fill === BUFFER_BYTES) this.#submit();
    }
  }

  #submit(): void {
    const buf = this.#buf!;
    const len = this.#fill;
    const offset = this.#offset;
    this.#buf = undefined;
    this.#fill = 0;
    this.#offset += len;
    const w = writeAll(this.#fd, buf, len, offset, this.#path).finally(() => this.#wb.release(buf));
    this.#writes.push(w);
    this.#wb.track(w);
  }

  /**
   * Ends the file: once its writes are done, `finish(fd)` runs (owner, mode, times through the descriptor)
   * and the descriptor is closed; failures surface from {@link WriteBehind.drain}.
   */
  end(finish: (fd: number) => void): void {
    if (this.#fill > 0) this.#submit();
    else if (this.#buf) this.#wb.release(this.#buf);
    this.#buf = undefined;
    const fd = this.#fd;
    const path = this.#path;
    this.#wb.track(
      Promise.all(this.#writes).then(() => finish(fd)).finally(() => closeFd(fd, path)),
    );
  }

  /** Gives up the file (the entry failed): closes the descriptor once the writes in flight settled. */
  abort(): void {
    if (this.#buf) this.#wb.release(this.#buf);
    this.#buf = undefined;
    const fd = this.#fd;
    const path = this.#path;
    this.#wb.track(
      Promise.allSettled(this.#writes).then(() => {
        try {
          closeFd(fd, path);
        } catch { /* the entry's own error is what is reported */ }
      }),
    );
  }
}
