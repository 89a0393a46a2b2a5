/**
 * Write-behind for one output file written front to back (`save`'s archive): chunks are copied into a few
 * pooled buffers and written by Deno's blocking threads, in order, one write at a time, while the main thread
 * goes on producing (decompressing the next chunk of a layer). Without it the main thread waits for every write
 * before it decompresses the next chunk, and a `save` spends as long idle as it spends working. Memory stays
 * bounded: at most {@link ORDERED_POOL} buffers of {@link ORDERED_BUFFER} bytes.
 * @module
 */

/** Size of one pooled buffer (and of a write). */
export const ORDERED_BUFFER = 1024 * 1024;
/** Most buffers (one being filled, the others written or waiting to be). */
export const ORDERED_POOL = 3;

async function writeAll(f: Deno.FsFile, c: Uint8Array): Promise<void> {
  let off = 0;
  while (off < c.length) {
    const n = await f.write(c.subarray(off));
    if (n === 0) throw new Error("write made no progress");
    off += n;
  }
}

/** Appends to `f` at its current position; {@link OrderedWriter.flush} before seeking or closing it. */
export class OrderedWriter {
  readonly #f: Deno.FsFile;
  #free: Uint8Array[] = [];
  #made = 0;
  #buf: Uint8Array | undefined;
  #fill = 0;
  /** The last write queued (each one starts when the one before it finished). */
  #tail: Promise<void> = Promise.resolve();
  /** Writes queued and not finished, oldest first. */
  #pending: Promise<void>[] = [];
  #failure: { err: unknown } | undefined;
  /** Bytes accepted so far (written or queued). */
  position = 0;

  /** Writes to `f` from its current position. */
  constructor(f: Deno.FsFile) {
    this.#f = f;
  }

  #check(): void {
    if (this.#failure) throw this.#failure.err;
  }

  async #acquire(): Promise<Uint8Array> {
    for (;;) {
      this.#check();
      const b = this.#free.pop();
      if (b) return b;
      if (this.#made < ORDERED_POOL) {
        this.#made++;
        return new Uint8Array(ORDERED_BUFFER);
      }
      await this.#pending[0];
    }
  }

  #submit(): void {
    const buf = this.#buf!;
    const len = this.#fill;
    this.#buf = undefined;
    this.#fill = 0;
    const w = this.#tail.then(() => this.#failure ? undefined : writeAll(this.#f, buf.subarray(0, len)))
      .catch((err) => {
        this.#failure ??= { err };
      })
      .finally(() => {
        this.#free.push(buf);
        this.#pending.shift();
      });
    this.#tail = w;
    this.#pending.push(w);
  }

  /** Appends `data` (copied: the caller may reuse it once this resolves). Throws an earlier write's failure. */
  async write(data: Uint8Array): Promise<void> {
    this.#check();
    for (let off = 0; off < data.length;) {
      this.#buf ??= await this.#acquire();
      const take = Math.min(data.length - off, ORDERED_BUFFER - this.#fill);
      this.#buf.set(off === 0 && take === data.length ? data : data.subarray(off, off + take), this.#fill);
      this.#fill += take;
      off += take;
      if (this.#fill === ORDERED_BUFFER) this.#submit();
    }
    this.position += data.length;
  }

  /** Writes out everything accepted; the file's position is then {@link position}. Throws a write's failure. */
  async flush(): Promise<void> {
    if (this.#fill > 0) this.#submit();
    await this.#tail;
    this.#check();
  }
}
