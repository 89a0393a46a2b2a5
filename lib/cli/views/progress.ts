/**
 * Pull progress on stderr, like podman: per-blob progress bars on a terminal, plain lines otherwise
 * (`Copying blob 4abcf2066143 done`), nothing with `--quiet`.
 * @module
 */

import { shortDigest } from "../../oci/digest.ts";
import type { PullEvent } from "../../image/events.ts";

/** Human size with binary units, as podman's progress shows (`1.2MiB`). */
export function humanBytes(n: number): string {
  const units = ["b", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}b` : `${v.toFixed(1)}${units[i]}`;
}

interface Bar {
  kind: string;
  digest: string;
  size: number;
  done: number;
  state: "running" | "done" | "skipped";
}

/** Renders {@link PullEvent}s to a writer (stderr by default). */
export class ProgressPrinter {
  readonly #tty: boolean;
  readonly #quiet: boolean;
  readonly #write: (s: string) => void;
  readonly #bars: Bar[] = [];
  #drawn = 0;
  #lastDraw = 0;
  #timer?: ReturnType<typeof setTimeout>;

  /** `tty` defaults to whether stderr is a terminal; `write` to writing stderr. */
  constructor(opts: { quiet?: boolean; tty?: boolean; write?: (s: string) => void } = {}) {
    this.#quiet = opts.quiet ?? false;
    this.#tty = opts.tty ?? Deno.stderr.isTerminal();
    const enc = new TextEncoder();
    this.#write = opts.write ?? ((s) => {
      try {
        Deno.stderr.writeSync(enc.encode(s));
      } catch { /* stderr gone */ }
    });
  }

  /** The event handler to pass as `onEvent`. */
  readonly handle = (e: PullEvent): void => {
    if (this.#quiet) return;
    switch (e.type) {
      case "resolving":
        this.#line(`Trying to pull ${e.ref}...`);
        break;
      case "signatures":
        this.#line("Getting image source signatures");
        break;
      case "blob-start":
        this.#bars.push({ kind: e.kind, digest: e.digest, size: e.size, done: 0, state: "running" });
        if (this.#tty) this.#redraw(true);
        break;
      case "blob-skipped": {
        if (this.#tty) {
          this.#bars.push({ kind: e.kind, digest: e.digest, size: e.size, done: e.size, state: "skipped" });
          this.#redraw(true);
        } else this.#line(`Copying ${e.kind} ${shortDigest(e.digest)} skipped: already exists`);
        break;
      }
      case "blob-progress": {
        const b = this.#bars.find((x) => x.digest === e.digest && x.state === "running");
        if (b) b.done = e.done;
        if (this.#tty) this.#redraw(false);
        break;
      }
      case "blob-done": {
        const b = this.#bars.find((x) => x.digest === e.digest && x.state === "running");
        if (b) {
          b.done = b.size;
          b.state = "done";
        }
        if (this.#tty) this.#redraw(true);
        else this.#line(`Copying ${e.kind} ${shortDigest(e.digest)} done`);
        break;
      }
      case "retry":
        this.#line(`Retrying ${e.what}: ${e.why}`);
        break;
      case "writing-manifest":
        if (this.#tty) this.#freeze();
        this.#line("Writing manifest to image destination");
        break;
      case "done":
        this.finish();
        break;
    }
  };

  /** Stops pending redraws (call when the pull ends, also on failure). */
  finish(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#tty) this.#draw();
    }
  }

  /** Draws the bars a last time and leaves them on screen; later lines go below them. */
  #freeze(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#bars.length) this.#draw();
    this.#bars.length = 0;
    this.#drawn = 0;
  }

  #line(s: string): void {
    if (this.#tty && this.#drawn > 0) {
      // keep the bars at the bottom: print above them
      this.#write(`\x1b[${this.#drawn}A\x1b[J${s}\n`);
      this.#drawn = 0;
      this.#draw();
      return;
    }
    this.#write(s + "\n");
  }

  #redraw(force: boolean): void {
    const now = Date.now();
    if (force || now - this.#lastDraw >= 100) {
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      this.#draw();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
    }, 100);
  }

  #draw(): void {
    this.#lastDraw = Date.now();
    let out = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    const width = 30;
    for (const b of this.#bars) {
      const name = `Copying ${b.kind} ${shortDigest(b.digest)}`;
      let status: string;
      if (b.state === "skipped") status = "skipped: already exists";
      else {
        const frac = b.size > 0 ? Math.min(1, b.done / b.size) : 1;
        const fill = Math.round(frac * width);
        const bar = "=".repeat(Math.max(0, fill - 1)) + (fill > 0 ? (fill === width ? "=" : ">") : "") +
          " ".repeat(width - fill);
        status = b.state === "done"
          ? `done   | ${humanBytes(b.size)}`
          : `[${bar}] ${humanBytes(b.done)} / ${humanBytes(b.size)}`;
      }
      out += `\x1b[2K${name} ${status}\n`;
    }
    this.#drawn = this.#bars.length;
    this.#write(out);
  }
}
