/**
 * Applies the entries of one layer to a root directory: regular files, directories, symlinks, hardlinks,
 * fifos and devices with ownership, modes, xattrs and times; whiteouts and opaque directories. Every path is
 * resolved through {@link Root}, so nothing outside the root is created, changed or deleted.
 * @module
 */

import { debug, warn } from "../log.ts";
import {
  closeFd,
  createFile,
  fchmod,
  fchown,
  FileType,
  fsetxattr,
  futimes,
  lchown,
  lsetxattr,
  lutimes,
  mknod,
  pwrite,
  type Timespec,
} from "../ns/fs.ts";
import { SysError } from "../ns/libc.ts";
import { cleanName, joinRel, type Root, RuleError } from "./contain.ts";
import type { TarEntry } from "./tar.ts";
import { WriteBehind } from "./write_behind.ts";

/** Files up to this size are written on the main thread; larger ones through {@link WriteBehind}. */
const SYNC_FILE_BYTES = 32 * 1024;

/** State shared by all layers of one extraction (one warning of each kind per extraction). */
export class Extraction {
  /** The root being built. */
  readonly root: Root;
  /** Writes of larger files in flight; drained at the end of every layer. */
  readonly writer = new WriteBehind();
  #warned = new Set<string>();

  constructor(root: Root) {
    this.root = root;
  }

  /** Prints a warning once per extraction for `key`. */
  warnOnce(key: string, msg: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    warn(msg);
  }
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

interface DeferredDir {
  rel: string;
  mode: number;
  atime: Timespec;
  mtime: Timespec;
}

/** Applies the entries of one layer; call {@link LayerApplier.finish} after the last one. */
export class LayerApplier {
  #x: Extraction;
  #root: Root;
  /** Canonical paths this layer created or replaced (whiteouts and opaque dirs spare them). */
  #added = new Set<string>();
  /** Ancestors of paths in `#added`. */
  #addedParents = new Set<string>();
  #dirs: DeferredDir[] = [];
  #markAdded = (rel: string): void => this.#mark(rel);

  constructor(x: Extraction) {
    this.#x = x;
    this.#root = x.root;
  }

  #mark(rel: string): void {
    this.#added.add(rel);
    for (let i = rel.lastIndexOf("/"); i > 0; i = rel.lastIndexOf("/", i - 1)) {
      const p = rel.slice(0, i);
      if (this.#addedParents.has(p)) break;
      this.#addedParents.add(p);
    }
  }

  /** Applies one entry, reading its body. Throws {@link RuleError} for refused entries. */
  async apply(e: TarEntry): Promise<void> {
    if (e.type === "other") {
      if (e.typeflag === "V") return; // GNU volume label: no file
      throw new RuleError(`unsupported entry type ${JSON.stringify(e.typeflag)}`);
    }
    for (const k of e.pax.keys()) {
      if (k.startsWith("GNU.sparse.")) throw new RuleError("sparse files are not supported");
    }
    const parts = cleanName(e.name);
    const leaf = parts.at(-1);
    if (leaf !== undefined && leaf.startsWith(WHITEOUT)) return this.#whiteout(parts);
    if (leaf === undefined) {
      if (e.type !== "dir") throw new RuleError("entry would replace the root directory");
      this.#pathOwnAndXattrs(this.#root.abs(""), e);
      this.#dirs.push({ rel: "", mode: e.mode, atime: e.atime ?? e.mtime, mtime: e.mtime });
      return;
    }
    const parent = this.#root.resolveDir(parts.slice(0, -1), true, this.#markAdded)!;
    const rel = joinRel(parent, leaf);
    const abs = this.#root.abs(rel);
    switch (e.type) {
      case "dir":
        return this.#dir(rel, abs, e);
      case "file":
        return await this.#file(rel, abs, e);
      case "symlink":
        if (e.linkname === "" || e.linkname.includes("\0")) throw new RuleError("invalid symlink target");
        this.#create(rel, abs, () => Deno.symlinkSync(e.linkname, abs));
        this.#meta(abs, e, false);
        return;
      case "hardlink":
        return this.#hardlink(rel, abs, e);
      case "fifo":
      case "char":
      case "block":
        return this.#node(rel, abs, e);
    }
  }

  /** Runs `make` to create `abs`; when something is in the way, removes it and tries again. */
  #create(rel: string, abs: string, make: () => void): void {
    try {
      make();
    } catch (err) {
      if (!isExists(err)) throw err;
      this.#remove(abs);
      make();
    }
    this.#mark(rel);
  }

  /** Removes `abs` (never following a symlink); a directory goes with its contents. */
  #remove(abs: string): void {
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(abs);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    if (st.isDirectory) {
      Deno.removeSync(abs, { recursive: true });
      this.#root.forgetDirs();
    } else {
      Deno.removeSync(abs);
    }
  }

  #dir(rel: string, abs: string, e: TarEntry): void {
    try {
      Deno.mkdirSync(abs, { mode: 0o700 });
    } catch (err) {
      if (!isExists(err)) throw err;
      if (!Deno.lstatSync(abs).isDirectory) {
        this.#remove(abs);
        Deno.mkdirSync(abs, { mode: 0o700 });
      }
    }
    this.#mark(rel);
    this.#root.noteDir(rel);
    this.#pathOwnAndXattrs(abs, e);
    this.#dirs.push({ rel, mode: e.mode, atime: e.atime ?? e.mtime, mtime: e.mtime });
  }

  /**
   * A regular file: created new (nothing at `abs` is followed), filled, then owner, xattrs, mode and times
   * set through its descriptor. Larger files are written behind (see {@link WriteBehind}).
   */
  async #file(rel: string, abs: string, e: TarEntry): Promise<void> {
    let fd = -1;
    this.#create(rel, abs, () => fd = createFile(abs));
    if (e.size > SYNC_FILE_BYTES) {
      const sink = this.#x.writer.file(fd, abs);
      try {
        for (let p = await e.read(); p !== null; p = await e.read()) await sink.write(p);
      } catch (err) {
        sink.abort();
        throw err;
      }
      sink.end((fd) => this.#fdMeta(fd, abs, e));
      return;
    }
    try {
      let offset = 0;
      for (let p = await e.read(); p !== null; p = await e.read()) {
        const data = p as Uint8Array<ArrayBuffer>;
        for (let done = 0; done < data.length;) {
          done += pwrite(fd, done === 0 ? data : data.subarray(done), offset + done, abs);
        }
        offset += data.length;
      }
      this.#fdMeta(fd, abs, e);
    } catch (err) {
      try {
        closeFd(fd, abs);
      } catch { /* the first error is the one reported */ }
      throw err;
    }
    closeFd(fd, abs);
  }

  /** Owner, xattrs, mode and times of a regular file, through its descriptor. */
  #fdMeta(fd: number, abs: string, e: TarEntry): void {
    this.#ownAndXattrs(e, (u, g) => fchown(fd, u, g, abs), (n, v) => fsetxattr(fd, n, v, abs));
    fchmod(fd, e.mode, abs);
    futimes(fd, e.atime ?? e.mtime, e.mtime, abs);
  }

  #hardlink(rel: string, abs: string, e: TarEntry): void {
    const tparts = cleanName(e.linkname, "hardlink target");
    if (tparts.length === 0) throw new RuleError("hardlink to the root directory");
    const tparent = this.#root.resolveDir(tparts.slice(0, -1), false);
    const missing = new RuleError(`hardlink target ${JSON.stringify(e.linkname)} does not exist`);
    if (tparent === null) throw missing;
    const tabs = this.#root.abs(joinRel(tparent, tparts.at(-1)!));
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(tabs);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw missing;
      throw err;
    }
    if (st.isDirectory) throw new RuleError("hardlink to a directory");
    if (tabs === abs) return; // a link to itself: nothing to do
    this.#create(rel, abs, () => Deno.linkSync(tabs, abs));
  }

  #node(rel: string, abs: string, e: TarEntry): void {
    const kind = e.type === "fifo"
      ? FileType.S_IFIFO
      : e.type === "char"
      ? FileType.S_IFCHR
      : FileType.S_IFBLK;
    try {
      this.#create(rel, abs, () => {
        try {
          mknod(abs, kind | (e.mode & 0o777), e.devmajor, e.devminor);
        } catch (err) {
          if (err instanceof SysError && err.errno === "EEXIST") throw new Deno.errors.AlreadyExists();
          throw err;
        }
      });
    } catch (err) {
      if (e.type !== "fifo" && err instanceof SysError && err.errno === "EPERM") {
        this.#x.warnOnce(
          "mknod",
          `cannot create device nodes here (${err.message}); skipping them, starting with "${e.name}"`,
        );
        return;
      }
      throw err;
    }
    this.#meta(abs, e, true);
  }

  /** {@link #ownAndXattrs} of `abs` itself (a symlink is not followed). */
  #pathOwnAndXattrs(abs: string, e: TarEntry): void {
    this.#ownAndXattrs(e, (u, g) => lchown(abs, u, g), (n, v) => lsetxattr(abs, n, v));
  }

  /** Owner then xattrs (chown clears security.capability, so xattrs come after it). */
  #ownAndXattrs(
    e: TarEntry,
    chown: (uid: number, gid: number) => void,
    setxattr: (name: string, value: Uint8Array) => void,
  ): void {
    try {
      chown(e.uid, e.gid);
    } catch (err) {
      if (!(err instanceof SysError) || (err.errno !== "EPERM" && err.errno !== "EINVAL")) throw err;
      this.#x.warnOnce("chown", `cannot set file ownership (${err.message}); keeping the current owner`);
    }
    for (const [name, value] of e.xattrs) {
      try {
        setxattr(name, value);
      } catch (err) {
        if (
          !(err instanceof SysError) ||
          (err.errno !== "EPERM" && err.errno !== "EOPNOTSUPP" && err.errno !== "EACCES")
        ) throw err;
        debug(`xattr ${name} on ${JSON.stringify(e.name)} not set: ${err.message}`);
      }
    }
  }

  /** Applies owner, xattrs, mode (`chmod` only for non-symlinks just created) and times. */
  #meta(abs: string, e: TarEntry, chmod: boolean): void {
    this.#pathOwnAndXattrs(abs, e);
    if (chmod) Deno.chmodSync(abs, e.mode);
    lutimes(abs, e.atime ?? e.mtime, e.mtime);
  }

  #whiteout(parts: string[]): void {
    const leaf = parts.at(-1)!;
    if (leaf === OPAQUE) {
      const dir = this.#root.resolveDir(parts.slice(0, -1), true, this.#markAdded)!;
      this.#opaque(dir);
      return;
    }
    if (leaf.startsWith(WHITEOUT + WHITEOUT)) {
      debug(`ignoring whiteout metadata entry ${parts.join("/")}`);
      return;
    }
    const name = leaf.slice(WHITEOUT.length);
    if (name === "" || name === "." || name === "..") throw new RuleError("invalid whiteout name");
    const dir = this.#root.resolveDir(parts.slice(0, -1), false);
    if (dir === null) return; // nothing below to hide
    const rel = joinRel(dir, name);
    if (this.#added.has(rel)) return; // whiteouts hide lower layers only
    this.#remove(this.#root.abs(rel));
  }

  /** Empties `dir` of everything lower layers put there, keeping what this layer added. */
  #opaque(dir: string): void {
    for (const ent of Deno.readDirSync(this.#root.abs(dir))) {
      const rel = joinRel(dir, ent.name);
      const keep = this.#added.has(rel) || this.#addedParents.has(rel);
      if (!keep) this.#remove(this.#root.abs(rel));
      else if (ent.isDirectory) this.#opaque(rel);
    }
  }

  /** Sets the deferred modes and times of directories (after their contents were written). */
  finish(): void {
    for (let i = this.#dirs.length - 1; i >= 0; i--) {
      const d = this.#dirs[i];
      if (!this.#root.isRealDir(d.rel)) continue; // replaced later in the layer
      const abs = this.#root.abs(d.rel);
      Deno.chmodSync(abs, d.mode);
      lutimes(abs, d.atime, d.mtime);
    }
    this.#dirs = [];
  }
}

function isExists(err: unknown): boolean {
  return err instanceof Deno.errors.AlreadyExists || (err instanceof SysError && err.errno === "EEXIST");
}
