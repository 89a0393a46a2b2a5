/**
 * A pull-based reader over an async stream of byte chunks: exact reads for headers (copied only when they span
 * chunks) and zero-copy views for bulk data.
 * @module
 */

const EMPTY = new Uint8Array(0);

/** Thrown when the stream ends inside a structure that needs more bytes. */
export class TruncatedError extends Error {
  constructor(what: string) {
    super(`unexpected end of stream inside ${what} (truncated layer)`);
    this.name = "TruncatedError";
  }
}

/** Reads an async iterable of chunks with exact and bulk reads. */
export class ChunkReader {
  #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #eof = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Makes sure some bytes are buffered; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#buf.length) {
      if (this.#eof) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#eof = true;
        this.#buf = EMPTY;
        this.#pos = 0;
        return false;
      }
      this.#buf = r.value;
      this.#pos = 0;
    }
    return true;
  }

  /**
   * Returns exactly `n` bytes, or null when the stream ends before the first byte; throws
   * {@link TruncatedError} naming `what` when it ends part-way. The result may be a view of the internal
   * chunk: use it before the next read.
   */
  async readExact(n: number, what: string): Promise<Uint8Array | null> {
    if (!(await this.#fill())) return null;
    const avail = this.#buf.length - this.#pos;
    if (avail >= n) {
      const out = this.#buf.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (!(await this.#fill())) throw new TruncatedError(what);
      const take = Math.min(n - got, this.#buf.length - this.#pos);
      out.set(this.#buf.subarray(this.#pos, this.#pos + take), got);
      this.#pos += take;
      got += take;
    }
    return out;
  }

  /**
   * Returns a view of between 1 and `max` bytes without copying; throws {@link TruncatedError} naming `what`
   * at the end of the stream. The view is valid until the next read.
   */
  async readSome(max: number, what: string): Promise<Uint8Array> {
    if (!(await this.#fill())) throw new TruncatedError(what);
    const take = Math.min(max, this.#buf.length - this.#pos);
    const out = this.#buf.subarray(this.#pos, this.#pos + take);
    this.#pos += take;
    return out;
  }

  /** Skips `n` bytes; throws {@link TruncatedError} naming `what` if the stream ends first. */
  async skip(n: number, what: string): Promise<void> {
    while (n > 0) {
      if (!(await this.#fill())) throw new TruncatedError(what);
      const take = Math.min(n, this.#buf.length - this.#pos);
      this.#pos += take;
      n -= take;
    }
  }

  /** Reads and discards everything up to the end of the stream. */
  async drain(): Promise<void> {
    this.#pos = this.#buf.length;
    while (await this.#fill()) this.#pos = this.#buf.length;
  }
}

/**
 * The chunks of a byte stream (a child's stdout…) read into one reused buffer of `size` bytes (a BYOB
 * reader): each chunk is a view valid only until the next one is asked for, so a long stream makes no
 * garbage. A stream that is not a byte stream is read chunk by chunk as it comes.
 */
export async function* reusedChunks(
  stream: ReadableStream<Uint8Array>,
  size = 256 * 1024,
): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    yield* stream;
    return;
  }
  let buf = new Uint8Array(size);
  try {
    for (;;) {
      const r = await byob.read(buf);
      if (r.done) return;
      // the read transferred the buffer: its memory comes back through the view's buffer
      buf = new Uint8Array(r.value.buffer as ArrayBuffer);
      if (r.value.length) yield r.value;
    }
  } finally {
    byob.releaseLock();
  }
}
