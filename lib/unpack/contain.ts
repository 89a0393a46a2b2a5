/**
 * Containment: the one path resolver of pod. Layer and `pod cp` archive entries, stage 2's mount targets,
 * `exec`'s command lookup and cwd, the container's user files and `cp`'s container paths all resolve here.
 *
 * Rules (one walk behind {@link Root.resolve}, {@link Root.resolveDir} and {@link resolveInRoot}):
 * 1. Chroot semantics: components are walked from the root; a symlink on the way is replaced by its
 *    target, inside the root (absolute targets restart at the root); `..` goes to the parent of the
 *    directory reached so far and stays at the root; empty and `.` components are skipped.
 * 2. At most {@link MAX_LINKS} (40) symlinks per resolution; a loop or a longer chain is a {@link RuleError}.
 * 3. A NUL byte is a RuleError.
 * 4. Every component but the last must be a directory (after links); anything else is a RuleError.
 * 5. The last component is not followed unless asked (`follow`, or a path ending in `/` or `/.`, which
 *    also requires a directory). A not-followed result may be a symlink: use it only with calls that do
 *    not follow one (lstat, unlink, mkdir, symlink, link, exclusive create). Callers that stat, open,
 *    mount on or chdir into the result pass `follow: true`.
 * 6. Missing components: `create` makes them (directories 0755; the last one a directory or an empty
 *    0644 file, created exclusively). Otherwise the missing tail is appended as plain names, but `..`
 *    below a missing name is ENOENT as in the kernel (`Deno.errors.NotFound`); `resolveDir` gives null.
 *
 * Where archive names and container paths differ (named options, not two walks):
 * - `dotdot`: `"clamp"` (container paths, default) walks `..` as in rule 1, so `link/..` is the parent of
 *   where `link` leads. `"refuse"` (archive names, {@link cleanName}) applies the name's `..` lexically
 *   first, as tar and containerd do, and refuses a name climbing above the root (a hostile layer). `..`
 *   in link targets always clamps.
 * - `follow`: container paths that are used follow the last component; the unpacker never does (it
 *   resolves the parent with `resolveDir` and writes the leaf with no-follow calls).
 * - A {@link Root} caches directories found real (the unpacker resolves thousands of entries under the
 *   same parents and calls `forgetDirs` after removing one); {@link resolveInRoot} uses a fresh Root.
 *
 * Limit: the answer is true when resolved. A live container can swap a directory for a link before the
 * caller uses it, so writers into a live root re-resolve per entry (the unpacker) and recheck the root
 * (`cp`). No imports, no FFI: `pod exec` loads this on its hot path.
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

/** What to create for a missing last component (missing parents are always directories). */
export type CreateKind = "dir" | "file";

/**
 * How `..` in the given path is treated: `"clamp"` walks it (stops at the root, chroot semantics);
 * `"refuse"` applies it lexically first and refuses a path that climbs above the root.
 */
export type DotDot = "clamp" | "refuse";

/** Options of {@link Root.resolve} and {@link resolveInRoot}. */
export interface ResolveOptions {
  /** Follow a symlink in the last component too (inside the root). Default: the link itself. */
  follow?: boolean;
  /** Create what is missing: parents as directories, the last component as this kind. Default: nothing. */
  create?: CreateKind;
  /** `..` in the path: `"clamp"` (default, container paths) or `"refuse"` (archive names). */
  dotdot?: DotDot;
}

function refuseNul(name: string, what: string): void {
  if (name.includes("\0")) throw new RuleError(`${what} contains a NUL byte`);
}

/** Pushes the components of `path` onto the stack `todo`, first component on top; `""` and `.` skipped. */
function pushParts(todo: string[], path: string): void {
  const parts = path.split("/");
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== "" && parts[i] !== ".") todo.push(parts[i]);
}

/**
 * Splits an archive entry name into clean components (`dotdot: "refuse"`): empty and `.` components
 * dropped, `..` applied lexically; a leading `/` is ignored (absolute names are relative to the root).
 * Throws {@link RuleError} for a NUL byte or when a `..` climbs above the root. `what` names the name in
 * messages.
 */
export function cleanName(name: string, what = "path"): string[] {
  refuseNul(name, what);
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

/**
 * Where a walk ended: the canonical existing part, the missing names below it (null: the path does not
 * exist, a `..` came below a missing name), and whether `rel` is a directory.
 */
interface Walked {
  rel: string;
  missing: string[] | null;
  isDir: boolean;
}

/** A root directory with a cache of the canonical paths known to be real directories. */
export class Root {
  /** Absolute path of the root, without a trailing `/` (`/` itself stays `/`). */
  readonly dir: string;
  #base: string;
  #dirs = new Set<string>([""]);

  /** `dir`: absolute path of the root, taken as it is (canonicalizing it is the caller's business). */
  constructor(dir: string) {
    this.dir = dir.replace(/\/+$/, "") || "/";
    this.#base = this.dir === "/" ? "" : this.dir;
  }

  /** Absolute host path of a canonical root-relative path (`""` = the root). */
  abs(rel: string): string {
    return rel === "" ? this.dir : this.#base + "/" + rel;
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
   * The host path of `path` inside the root, by the module's rules: symlinks on the way followed inside
   * the root, the last one only with `follow`; missing components created with `create`, else appended as
   * they are. Throws {@link RuleError} for a NUL byte, a non-directory on the way, too many links, and (with
   * `dotdot: "refuse"`) a `..` above the root.
   */
  resolve(path: string, opts: ResolveOptions = {}): string {
    const todo: string[] = [];
    if (opts.dotdot === "refuse") todo.push(...cleanName(path).reverse());
    else {
      refuseNul(path, "path");
      pushParts(todo, path);
    }
    const dirOnly = /\/\.?$/.test(path); // `dir/`, `dir/.`: followed, and must be a directory
    const create = dirOnly && opts.create ? "dir" : opts.create;
    const w = this.#walk(todo, opts.follow || dirOnly, create);
    if (w.missing === null) throw new Deno.errors.NotFound(`no such file or directory: ${path}`);
    if (dirOnly && !w.isDir && w.missing.length === 0) throw new RuleError(`"${w.rel}" is not a directory`);
    return this.abs(w.missing.length === 0 ? w.rel : joinRel(w.rel, w.missing.join("/")));
  }

  /**
   * Resolves clean components (from {@link cleanName}) to the canonical path of a real directory inside
   * the root, every component followed. Missing directories are created (mode 0755, each reported to
   * `onCreate`) when `create` is set, otherwise null is returned. Throws {@link RuleError} when a component
   * is not a directory or there are too many links.
   */
  resolveDir(parts: readonly string[], create: boolean, onCreate?: (rel: string) => void): string | null {
    if (parts.length === 0) return "";
    const whole = parts.join("/");
    if (this.#dirs.has(whole)) return whole;
    const todo: string[] = [];
    for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== "" && parts[i] !== ".") todo.push(parts[i]);
    const w = this.#walk(todo, true, create ? "dir" : undefined, onCreate);
    if (w.missing === null || w.missing.length > 0) return null;
    if (!w.isDir) throw new RuleError(`"${w.rel}" is not a directory`);
    return w.rel;
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

  /** The walk of the module's rules over the stack `todo` (next component on top, no `""`/`.`). */
  #walk(todo: string[], follow: boolean, create?: CreateKind, onCreate?: (rel: string) => void): Walked {
    let cur = "";
    let isDir = true;
    let links = 0;
    const missing: string[] = [];
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (c === "..") {
        if (missing.length > 0) return { rel: cur, missing: null, isDir: false };
        cur = cur.slice(0, Math.max(cur.lastIndexOf("/"), 0));
        isDir = true;
        continue;
      }
      if (missing.length > 0) {
        missing.push(c);
        continue;
      }
      const last = todo.length === 0;
      const rel = joinRel(cur, c);
      if (this.#dirs.has(rel)) {
        cur = rel;
        isDir = true;
        continue;
      }
      const abs = this.abs(rel);
      let st: Deno.FileInfo;
      try {
        st = Deno.lstatSync(abs);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        if (!create) {
          missing.push(c);
          continue;
        }
        isDir = !last || create === "dir";
        if (isDir) {
          Deno.mkdirSync(abs, { mode: 0o755 });
          this.#dirs.add(rel);
        } else {
          Deno.openSync(abs, { write: true, createNew: true, mode: 0o644 }).close();
        }
        onCreate?.(rel);
        cur = rel;
        continue;
      }
      if (st.isSymlink && (follow || !last)) {
        if (++links > MAX_LINKS) throw new RuleError("too many levels of symbolic links");
        const target = Deno.readLinkSync(abs);
        if (target.startsWith("/")) cur = "";
        pushParts(todo, target);
        isDir = true; // `cur` is a directory: a link to "." ends there
        continue;
      }
      isDir = st.isDirectory;
      if (!last && !isDir) throw new RuleError(`"${rel}" is not a directory`);
      if (isDir) this.#dirs.add(rel);
      cur = rel;
    }
    return { rel: cur, missing, isDir };
  }
}

/**
 * The host path of the container path `path` inside `root` ({@link Root.resolve} with a fresh cache):
 * chroot semantics, `..` clamped at the root unless `opts.dotdot` says otherwise, the last component
 * followed only with `opts.follow`.
 */
export function resolveInRoot(root: string, path: string, opts: ResolveOptions = {}): string {
  return new Root(root).resolve(path, opts);
}
