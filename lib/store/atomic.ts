/**
 * Crash-safe file writes: temp file in the same directory (or the store's tmp/), fsync, rename.
 * @module
 */

import { pidAlive } from "../proc.ts";

let seq = 0;

/** A unique temp name that embeds this process id, so leftovers of dead processes can be found. */
export function tempName(prefix = "tmp"): string {
  seq++;
  return `.${prefix}-${Deno.pid}-${Date.now().toString(36)}-${seq}`;
}

/**
 * Writes `data` to `path` atomically: a reader sees the old file or the whole new one, never a part.
 * `durable: false` skips the fsync (a file about to be deleted: the rename is still atomic).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  mode = 0o600,
  durable = true,
): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const tmp = `${dir}/${tempName("w")}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const f = await Deno.open(tmp, { write: true, createNew: true, mode });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    if (durable) await f.syncData();
  } catch (e) {
    f.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  f.close();
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes JSON atomically (two-space indented, trailing newline); `durable` as in {@link writeFileAtomic}. */
export function writeJsonAtomic(path: string, value: unknown, mode = 0o600, durable = true): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n", mode, durable);
}

/** Reads and parses a JSON file; `undefined` when it does not exist. */
// deno-lint-ignore require-await -- async for its callers: a parse error rejects rather than throws
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    // sync: a small file, and no trip through the blocking thread pool (the first one starts a thread)
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

/** The pid embedded in a {@link tempName}, or undefined. */
export function tempOwner(name: string): number | undefined {
  const m = /^\.[a-z]+-(\d+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes temp files in `dir` whose writing process is gone (crash leftovers).
 * Names not made by {@link tempName} are left alone.
 */
export async function cleanStaleTemps(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const pid = tempOwner(e.name);
      if (pid === undefined || pid === Deno.pid || pidAlive(pid)) continue;
      await Deno.remove(`${dir}/${e.name}`, { recursive: true }).catch(() => {});
      n++;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}
