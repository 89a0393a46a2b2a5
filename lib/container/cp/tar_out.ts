/**
 * Reading a tree for `pod cp`: tar entries for a host or container tree, walked without following symlinks
 * below the top; out of a container every directory read is checked to still be inside its root.
 * @module
 */

import { PodError } from "../../errors.ts";
import { debug } from "../../log.ts";
import type { TarWriteEntry } from "../../unpack/tar_write.ts";
import { baseName, checkName, join, lstatOrNull } from "./paths.ts";
import { checkProcRoot, stillInside } from "./proc_root.ts";

/** How {@link walkTree} names owners and guards the walk. */
export interface WalkOptions {
  /** Ids to record for a file with these host ids. */
  owner: (st: Deno.FileInfo) => { uid: number; gid: number };
  /** Every directory read must still be inside this directory (a container's rootfs). */
  within?: string;
  /** Leave out the entry of the top directory itself (`dir/.`). */
  skipTop?: boolean;
}

function timeOf(st: Deno.FileInfo): { sec: number; nsec: number } {
  const ms = st.mtime?.getTime() ?? 0;
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1e6 };
}

async function* fileChunks(path: string, expect: Deno.FileInfo): AsyncGenerator<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    const st = await f.stat();
    if (st.ino !== expect.ino || st.dev !== expect.dev) throw new PodError(`"${path}" changed while copying`);
    for (;;) {
      const buf = new Uint8Array(1 << 20);
      const n = await f.read(buf);
      if (n === null) return;
      yield buf.subarray(0, n);
    }
  } finally {
    f.close();
  }
}

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const big = BigInt(rdev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { devmajor: major, devminor: minor };
}

/**
 * Tar entries for the tree at host path `abs` (already lstat'ed as `st`), named `name` and below. Symlinks
 * below the top are recorded as symlinks; sockets are skipped; files with several links become hardlinks.
 */
export async function* walkTree(
  abs: string,
  name: string,
  st: Deno.FileInfo,
  o: WalkOptions,
  links = new Map<string, string>(),
  top = true,
): AsyncGenerator<TarWriteEntry> {
  const leaf = baseName(name);
  if (leaf) checkName(leaf, name);
  const base = { name, mode: (st.mode ?? 0o644) & 0o7777, mtime: timeOf(st), ...o.owner(st) };
  if (o.within) checkProcRoot(o.within);
  if (st.isDirectory) {
    if (o.within && !stillInside(o.within, abs)) {
      throw new PodError(`"${abs}" left the container while copying`);
    }
    if (!(top && o.skipTop)) yield { ...base, type: "dir" };
    const names: string[] = [];
    for (const e of Deno.readDirSync(abs)) names.push(e.name);
    names.sort();
    for (const n of names) {
      const child = `${abs}/${n}`;
      const cst = lstatOrNull(child);
      if (!cst) continue; // removed meanwhile
      yield* walkTree(child, join(name, n), cst, o, links, false);
    }
    return;
  }
  if (st.isSymlink) {
    yield { ...base, type: "symlink", mode: 0o777, linkname: Deno.readLinkSync(abs) };
    return;
  }
  if (st.isFile) {
    if ((st.nlink ?? 1) > 1 && st.ino !== null) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        yield { ...base, type: "hardlink", linkname: first };
        return;
      }
      links.set(key, name);
    }
    yield { ...base, type: "file", size: st.size, body: () => fileChunks(abs, st) };
    return;
  }
  if (st.isFifo) {
    yield { ...base, type: "fifo" };
    return;
  }
  if (st.isCharDevice || st.isBlockDevice) {
    yield { ...base, type: st.isCharDevice ? "char" : "block", ...devNumbers(st.rdev ?? 0) };
    return;
  }
  debug(`cp: skipping ${abs} (socket or unknown type)`);
}
