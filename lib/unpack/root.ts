/**
 * Path containment for layer extraction: entry names are cleaned lexically, then resolved inside the root
 * directory component by component the way a chroot would (symlinks followed *within* the root, absolute
 * link targets taken from the root, `..` clamped at the root, at most 40 links per resolution).
 *
 * Only directories are ever resolved through; the last component of an entry is never followed, so every
 * file-system call the unpacker makes is on `<root>/<canonical parent>/<leaf>` where the canonical parent
 * consists of real directories only.
 * @module
 */

/** A broken containment or validity rule; the message states the rule. */
export class RuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuleError";
  }
}

/** Most symlinks followed while resolving one path (Linux's MAXSYMLINKS). */
export const MAX_LINKS = 40;

/**
 * Splits an entry name into clean components: empty and `.` components dropped, `..` applied lexically. A
 * leading `/` is ignored (absolute names are relative to the root). Throws {@link RuleError} when a `..`
 * climbs above the root.
 */
export function cleanName(name: string, what = "path"): string[] {
  if (name.includes("\0")) throw new RuleError(`${what} contains a NUL byte`);
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) throw new RuleError(`${what} escapes the root`);
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

/** Joins a canonical parent (`""` = root) and a leaf. */
export function joinRel(parent: string, leaf: string): string {
  return parent === "" ? leaf : parent + "/" + leaf;
}

/** A root directory with a cache of the canonical paths known to be real directories. */
export class Root {
  /** Absolute path of the root (already resolved by the caller). */
  readonly dir: string;
  #dirs = new Set<string>([""]);

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Absolute host path of a canonical root-relative path. */
  abs(rel: string): string {
    return rel === "" ? this.dir : this.dir + "/" + rel;
  }

  /** Records that `rel` is a real directory (just created or checked). */
  noteDir(rel: string): void {
    this.#dirs.add(rel);
  }

  /** Forgets every cached directory; call after removing or replacing a directory. */
  forgetDirs(): void {
    this.#dirs.clear();
    this.#dirs.add("");
  }

  /**
   * Resolves clean components to the canonical path of a real directory inside the root, following
   * symlinks within the root. Missing directories are created (mode 0755, reported to `onCreate`) when
   * `create` is set, otherwise null is returned. Throws {@link RuleError} when a component is not a
   * directory or there are too many links.
   */
  resolveDir(parts: readonly string[], create: boolean, onCreate?: (rel: string) => void): string | null {
    if (parts.length === 0) return "";
    const whole = parts.join("/");
    if (this.#dirs.has(whole)) return whole;
    const queue = parts.slice().reverse();
    let cur = "";
    let links = 0;
    while (queue.length > 0) {
      const c = queue.pop()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        const i = cur.lastIndexOf("/");
        cur = i < 0 ? "" : cur.slice(0, i);
        continue;
      }
      const rel = joinRel(cur, c);
      if (this.#dirs.has(rel)) {
        cur = rel;
        continue;
      }
      const abs = this.abs(rel);
      let st: Deno.FileInfo;
      try {
        st = Deno.lstatSync(abs);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        if (!create) return null;
        Deno.mkdirSync(abs, { mode: 0o755 });
        onCreate?.(rel);
        this.#dirs.add(rel);
        cur = rel;
        continue;
      }
      if (st.isSymlink) {
        if (++links > MAX_LINKS) throw new RuleError("too many levels of symbolic links");
        const target = Deno.readLinkSync(abs);
        if (target.startsWith("/")) cur = "";
        const tp = target.split("/");
        for (let i = tp.length - 1; i >= 0; i--) queue.push(tp[i]);
        continue;
      }
      if (!st.isDirectory) throw new RuleError(`"${rel}" is not a directory`);
      this.#dirs.add(rel);
      cur = rel;
    }
    return cur;
  }

  /** True when `rel` is still a real directory reached through real directories only (no symlinks). */
  isRealDir(rel: string): boolean {
    if (this.#dirs.has(rel)) return true;
    const parts = rel.split("/");
    let cur = "";
    for (const c of parts) {
      cur = joinRel(cur, c);
      if (this.#dirs.has(cur)) continue;
      try {
        if (!Deno.lstatSync(this.abs(cur)).isDirectory) return false;
      } catch {
        return false;
      }
      this.#dirs.add(cur);
    }
    return true;
  }
}
