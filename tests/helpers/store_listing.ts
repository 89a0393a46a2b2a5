/**
 * A deterministic listing of a store (or any tree) to assert "nothing changed" around a failing operation.
 *
 * ```ts
 * const before = await listStore(h.home);
 * const r = await pod(["pull", badRef], { home: h.home });
 * assertNotEquals(r.code, 0);
 * assertEquals(await listStore(h.home), before);
 * ```
 * @module
 */

/** Kind of a listed entry. */
export type EntryType = "file" | "dir" | "symlink" | "other";

/** One entry of {@linkcode listStore}. */
export interface StoreEntry {
  /** Path relative to the root, `/`-separated, no leading `./`. */
  path: string;
  /** Entry type (`lstat`, symlinks are not followed). */
  type: EntryType;
  /** Size in bytes (files), link text length (symlinks), 0 for dirs. */
  size: number;
  /** `sha256` hex of the content (files only). */
  sha256?: string;
  /** Link target (symlinks only). */
  target?: string;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
}

/** Options of {@linkcode listStore}. */
export interface ListStoreOptions {
  /** Skip paths (relative) for which this returns true; a skipped directory is not descended into. */
  ignore?: (path: string) => boolean;
  /** Leave out the lock file (`lock`), whose existence may change on any command. Default true. */
  ignoreLock?: boolean;
  /** Leave out `tmp/` contents (stale temp files are legal leftovers). Default false. */
  ignoreTmp?: boolean;
  /** Leave out the event log (`events/`), which every state change appends to. Default true. */
  ignoreEvents?: boolean;
  /** Include `mode` in the result (default true). */
  modes?: boolean;
}

async function sha256File(path: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const h = createHash("sha256");
  const f = await Deno.open(path, { read: true });
  for await (const chunk of f.readable) h.update(chunk);
  return h.digest("hex");
}

/**
 * List every entry under `root` sorted by path: type, size, sha256 for files, target for symlinks, mode. A missing
 * root lists as `[]`.
 */
export async function listStore(root: string, opts: ListStoreOptions = {}): Promise<StoreEntry[]> {
  const out: StoreEntry[] = [];
  const ignoreLock = opts.ignoreLock ?? true;
  const skip = (rel: string) =>
    (ignoreLock && rel === "lock") || (opts.ignoreTmp === true && rel.startsWith("tmp/")) ||
    ((opts.ignoreEvents ?? true) && (rel === "events" || rel.startsWith("events/"))) ||
    (opts.ignore?.(rel) ?? false);
  const walk = async (rel: string): Promise<void> => {
    const dir = rel ? `${root}/${rel}` : root;
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) names.push(e.name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound && rel === "") return;
      throw e;
    }
    names.sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      if (skip(r)) continue;
      const p = `${root}/${r}`;
      const st = await Deno.lstat(p);
      const mode = (st.mode ?? 0) & 0o7777;
      const entry: StoreEntry = st.isFile
        ? { path: r, type: "file", size: st.size, sha256: await sha256File(p), mode }
        : st.isDirectory
        ? { path: r, type: "dir", size: 0, mode }
        : st.isSymlink
        ? { path: r, type: "symlink", size: st.size, target: await Deno.readLink(p), mode }
        : { path: r, type: "other", size: st.size, mode };
      if (opts.modes === false) delete (entry as Partial<StoreEntry>).mode;
      out.push(entry);
      if (st.isDirectory) await walk(r);
    }
  };
  await walk("");
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** A readable diff of two listings (empty string when equal), for assertion messages. */
export function diffListings(before: StoreEntry[], after: StoreEntry[]): string {
  const key = (e: StoreEntry) => JSON.stringify(e);
  const a = new Map(before.map((e) => [e.path, e]));
  const b = new Map(after.map((e) => [e.path, e]));
  const lines: string[] = [];
  for (const [p, e] of a) {
    const o = b.get(p);
    if (!o) lines.push(`- ${p} (${e.type})`);
    else if (key(o) !== key(e)) lines.push(`~ ${p}: ${key(e)} -> ${key(o)}`);
  }
  for (const [p, e] of b) if (!a.has(p)) lines.push(`+ ${p} (${e.type})`);
  return lines.join("\n");
}

/**
 * Temp files anywhere in the store, named by `lib/store/atomic.ts` `tempName()` (`.<kind>-<pid>-…`): what a killed
 * process may leave behind. Relative paths, sorted.
 */
export async function strayTemps(root: string): Promise<string[]> {
  return (await listStore(root, { modes: false })).map((e) => e.path).filter((p) =>
    /(^|\/)\.[a-z]+-\d+-/.test(p)
  );
}
