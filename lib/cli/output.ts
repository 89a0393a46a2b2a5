/**
 * Printing listings the way podman does: aligned tables, `--format` Go templates (`table` prefix, `json`),
 * and inspect's indented JSON.
 * @module
 */

import { alignColumns, renderTable } from "../format/table.ts";
import { renderTemplateRows, TemplateError } from "../format/template/mod.ts";
import { PodError } from "../errors.ts";

const enc = new TextEncoder();

/** Writes text to stdout, all of it (blocking), ignoring a closed pipe. */
export function writeOut(text: string): void {
  const bytes = enc.encode(text);
  try {
    let off = 0;
    while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}

/** Prints rows under a header (none when `headers` is undefined), aligned like podman's tabwriter. */
export function printTable(headers: string[] | undefined, rows: string[][]): void {
  if (headers) writeOut(renderTable(headers, rows));
  else if (rows.length) writeOut(alignColumns(rows.map((r) => r.join("\t") + "\n").join("")));
}

/** Prints JSON the way podman's inspect does (four-space indent). */
export function printJson(value: unknown): void {
  writeOut(JSON.stringify(value, null, 4) + "\n");
}

/**
 * Prints `items` through a `--format` value: `json` (a JSON array), or a Go template applied to each item
 * (`table …` adds a header row; `headers` maps field names to podman's header texts).
 */
export function printFormatted(format: string, items: unknown[], headers?: Record<string, string>): void {
  if (format === "json") {
    printJson(items);
    return;
  }
  try {
    writeOut(renderTemplateRows(format, items, { headers }));
  } catch (e) {
    if (e instanceof TemplateError) throw new PodError(e.message.split("\n")[0]);
    throw e;
  }
}
