/**
 * The input side of `pod attach`: the caller's stdin goes to the fifo a detached `-i` container reads from
 * (its supervisor made it, see lib/ns/supervisor.ts), with the terminal in raw mode when the container has a
 * tty, whose size then follows this terminal's (through the supervisor's `<fifo>-size`); the detach keys
 * (podman's default ctrl-p,ctrl-q) end the attach and leave the container running.
 * @module
 */

import { PodError } from "../errors.ts";

/** podman's default `--detach-keys`. */
export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/**
 * Parses a `--detach-keys` value (`ctrl-<a-z@[\]^_>` or single characters, comma-separated) into bytes; an
 * empty value disables detaching.
 */
export function parseDetachKeys(spec: string): Uint8Array {
  if (spec === "") return new Uint8Array(0);
  const out: number[] = [];
  for (const k of spec.split(",")) {
    const m = /^ctrl-(.)$/.exec(k);
    if (m) {
      const c = m[1].toLowerCase().charCodeAt(0);
      if (c >= 0x61 && c <= 0x7a) out.push(c - 0x60);
      else if ("@[\\]^_".includes(m[1])) out.push(m[1].charCodeAt(0) - 0x40);
      else throw new PodError(`invalid detach keys "${spec}": "${k}" is not a control key`);
    } else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw new PodError(`invalid detach keys "${spec}": "${k}" is neither a character nor ctrl-<key>`);
  }
  return new Uint8Array(out);
}

/**
 * Scans input for the detach sequence across chunk boundaries: {@link feed} returns the bytes to pass on
 * (a partial match is held back until it completes or breaks) and whether the sequence was typed.
 */
export class DetachScanner {
  #keys: Uint8Array;
  #held = 0;

  constructor(keys: Uint8Array) {
    this.#keys = keys;
  }

  /** The bytes of `chunk` to forward, and whether the detach sequence ended in it (what follows is dropped). */
  feed(chunk: Uint8Array): { forward: Uint8Array; detach: boolean } {
    const k = this.#keys;
    if (k.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === k[this.#held]) {
        if (++this.#held === k.length) return { forward: new Uint8Array(out), detach: true };
        continue;
      }
      for (let i = 0; i < this.#held; i++) out.push(k[i]); // a broken match is input after all
      this.#held = 0;
      if (b === k[0]) this.#held = 1;
      else out.push(b);
    }
    return { forward: new Uint8Array(out), detach: false };
  }
}

/** Opens the container's input fifo for writing, or null when nobody reads it (within `ms`). */
async function openFifo(path: string, ms: number): Promise<Deno.FsFile | null> {
  try {
    if (!Deno.lstatSync(path).isFifo) return null;
  } catch {
    return null;
  }
  // an open for writing waits for a reader: the supervisor holds the fifo open while the container runs
  const opened = Deno.open(path, { write: true });
  const timer = new Promise<null>((r) => setTimeout(() => r(null), ms));
  const f = await Promise.race([opened, timer]).catch(() => null);
  if (!f) opened.then((x) => x.close(), () => {});
  return f;
}

/**
 * Forwards stdin to the container's input fifo until stdin ends, the detach keys are typed (resolves
 * "detached") or {@link stop} is called. Without a fifo (the container was not started with `-i`) it
 * resolves "none" at once.
 */
export async function forwardInput(
  fifoPath: string,
  detachKeys: Uint8Array,
  raw: boolean,
  stop: Promise<void>,
): Promise<"detached" | "ended" | "none"> {
  const fifo = await openFifo(fifoPath, 2000);
  if (!fifo) return "none";
  const scan = new DetachScanner(detachKeys);
  const setRaw = raw && Deno.stdin.isTerminal();
  if (setRaw) Deno.stdin.setRaw(true);
  const size = setRaw ? await openFifo(`${fifoPath}-size`, 500) : null;
  const resize = () => {
    try {
      const { rows, columns } = Deno.consoleSize();
      size?.writeSync(new TextEncoder().encode(`${rows} ${columns}\n`));
    } catch { /* no size to pass on */ }
  };
  if (size) {
    resize();
    Deno.addSignalListener("SIGWINCH", resize);
  }
  const buf = new Uint8Array(4096);
  let stopped = false;
  const halt = stop.then(() => (stopped = true, null));
  try {
    while (!stopped) {
      const n = await Promise.race([Deno.stdin.read(buf), halt]);
      if (n === null) return "ended";
      const { forward, detach } = scan.feed(buf.subarray(0, n));
      for (let off = 0; off < forward.length;) off += await fifo.write(forward.subarray(off));
      if (detach) return "detached";
    }
    return "ended";
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) return "ended"; // the container ended meanwhile
    throw e;
  } finally {
    if (setRaw) Deno.stdin.setRaw(false);
    if (size) {
      Deno.removeSignalListener("SIGWINCH", resize);
      size.close();
    }
    try {
      fifo.close();
    } catch { /* closed */ }
  }
}
