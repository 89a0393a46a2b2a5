/**
 * Questions the CLI asks on the terminal: podman's `[y/N]` confirmation and the login prompts (the password
 * without echo), and reading all of stdin (`--password-stdin`).
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { debug } from "../log.ts";
import { err } from "./output.ts";

/**
 * Asks podman's question on stderr and reads one line from stdin; true only for `y`/`yes`. No stdin (EOF)
 * means no.
 */
export async function confirm(warning: string): Promise<boolean> {
  err(`${warning}\nAre you sure you want to continue? [y/N] `);
  const buf = new Uint8Array(1);
  let line = "";
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null || buf[0] === 0x0a) break;
      line += String.fromCharCode(buf[0]);
      if (line.length > 100) break;
    }
  } catch (e) {
    debug(`reading the answer: ${e instanceof Error ? e.message : e}`);
  }
  err("\n");
  return /^\s*y(es)?\s*$/i.test(line);
}

/** Prompts on stderr and reads a line from the terminal; without `echo` the typing is not shown. */
export async function readLine(promptText: string, echo: boolean): Promise<string> {
  err(promptText);
  if (!echo) Deno.stdin.setRaw(true);
  const buf = new Uint8Array(1);
  const bytes: number[] = [];
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const c = buf[0];
      if (c === 3) throw new PodError("interrupted", { code: "CANCELLED" });
      if (c === 10 || c === 13) break;
      if (c === 127 || c === 8) {
        bytes.pop();
        continue;
      }
      bytes.push(c);
    }
  } finally {
    if (!echo) {
      Deno.stdin.setRaw(false);
      err("\n");
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Reads all of stdin as text (at most `limit` bytes, else a {@link UsageError} naming `what`). */
export async function readAllStdin(what: string, limit = 1 << 20): Promise<string> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of Deno.stdin.readable) {
    chunks.push(c);
    n += c.length;
    if (n > limit) throw new UsageError(`${what}: input too large`);
  }
  const all = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}
