/**
 * The CLI's one way to write text: stdout and stderr, errors as podman prints them (`Error: …` and a hint line),
 * aligned tables, JSON and `--format` templates.
 *
 * Writes are blocking and complete. When the reader of a stream goes away (`pod ps | head -1`: EPIPE), the
 * rest of the output to that stream is dropped quietly; long-running writers (`logs -f`) stop early by
 * checking {@link stdoutClosed}. Loads nothing heavy: the table aligner is small, the template engine is
 * imported only when a `--format` template is printed.
 * @module
 */

import { alignColumns, renderTable } from "../format/table.ts";
import { PodError } from "../errors.ts";
import { isDebug } from "../log.ts";

const enc = new TextEncoder();

/** A stream the CLI writes, and whether its reader has gone. */
interface Sink {
  file: { writeSync(p: Uint8Array): number };
  closed: boolean;
}

// cli.ts leaves a file here for `--out FILE` / `--noout` (it does not load this module itself)
const redirected = (globalThis as Record<symbol, unknown>)[Symbol.for("pod.cli.stdoutFile")] as
  | Sink["file"]
  | undefined;
const stdout: Sink = { file: redirected ?? Deno.stdout, closed: false };
const stderr: Sink = { file: Deno.stderr, closed: false };

function write(sink: Sink, bytes: Uint8Array): void {
  if (sink.closed) return;
  try {
    let off = 0;
    while (off < bytes.length) off += sink.file.writeSync(bytes.subarray(off));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    sink.closed = true;
  }
}

/** Writes text to stdout. */
export function out(text: string): void {
  write(stdout, enc.encode(text));
}

/** Writes bytes to stdout (a container's output passed through). */
export function outBytes(bytes: Uint8Array): void {
  write(stdout, bytes);
}

/** Writes text to stderr. */
export function err(text: string): void {
  write(stderr, enc.encode(text));
}

/** Writes bytes to stderr. */
export function errBytes(bytes: Uint8Array): void {
  write(stderr, bytes);
}

/** Writes each value on a line of its own to stdout (nothing for none). */
export function println(...lines: string[]): void {
  if (lines.length) out(lines.join("\n") + "\n");
}

/** The older name of {@link out}. */
export const writeOut: (text: string) => void = out;

/** True once stdout's reader has gone: nothing more will be written there. */
export function stdoutClosed(): boolean {
  return stdout.closed;
}

/** The lines podman prints for an error: `Error: <first line of the message>` and the hint, if any. */
export function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message || e.name : String(e);
  const hint = e instanceof PodError ? e.hint : undefined;
  return `Error: ${message.split("\n")[0]}\n${hint ? `${hint}\n` : ""}`;
}

/** Prints an error on stderr as podman does (plus its stack trace with `POD_DEBUG`). */
export function printError(e: unknown): void {
  err(errorText(e));
  if (isDebug() && e instanceof Error && e.stack) err(e.stack + "\n");
}

/** Prints rows under a header (none when `headers` is undefined), aligned like podman's tabwriter. */
export function printTable(headers: string[] | undefined, rows: string[][]): void {
  if (headers) out(renderTable(headers, rows));
  else if (rows.length) out(alignColumns(rows.map((r) => r.join("\t") + "\n").join("")));
}

/** Prints JSON the way podman's inspect does (four-space indent). */
export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 4) + "\n");
}

const pending = new Set<Promise<void>>();

/**
 * Prints `items` through a `--format` value: `json` (a JSON array), or a Go template applied to each item
 * (`table …` adds a header row; `headers` maps field names to podman's header texts). The template engine
 * loads on first use; {@link flushOutput} waits for a call that was not awaited.
 */
export function printFormatted(
  format: string,
  items: unknown[],
  headers?: Record<string, string>,
): Promise<void> {
  if (format === "json") {
    printJson(items);
    return Promise.resolve();
  }
  const p = import("../format/template/mod.ts").then(({ renderTemplateRows, TemplateError }) => {
    try {
      out(renderTemplateRows(format, items, { headers }));
    } catch (e) {
      if (e instanceof TemplateError) throw new PodError(e.message.split("\n")[0], { code: "USAGE" });
      throw e;
    }
  });
  pending.add(p);
  return p.finally(() => pending.delete(p));
}

/** Waits for output still being rendered (a {@link printFormatted} nobody awaited). */
export async function flushOutput(): Promise<void> {
  while (pending.size) await Promise.all(pending);
}

// cli.ts calls it before exiting, without loading this module when no command did
(globalThis as { [k: symbol]: unknown })[Symbol.for("pod.cli.flushOutput")] = flushOutput;
