/**
 * A container's overlay upper dir → one OCI layer (gzip), stored as a blob.
 *
 * GNU tar reads the upper dir (`--xattrs`, numeric owners); rootless it runs inside a user namespace with the
 * user's subordinate ranges (`unshare --user --map-auto --map-root-user`, the layout rootless containers use:
 * container 0 → the user, 1… → the subuid range), so the owners it records are the ones the container sees,
 * never host subuids. Its archive is then rewritten with pod's tar reader and writer: overlayfs whiteouts (char
 * devices 0:0, and hard links to them) become `.wh.<name>` entries, directories marked opaque
 * (`trusted.overlay.opaque` / `user.overlay.opaque`) get a `.wh..wh..opq` marker, overlay's own xattrs and the
 * mount points pod manages (`/etc/hosts`…) are left out. The result is hashed (diff_id), gzip-compressed and
 * streamed into the store: nothing is held in memory.
 * @module
 */

import { PodError } from "../errors.ts";
import { reusedChunks } from "../unpack/chunks.ts";
import { readTar, type TarEntry } from "../unpack/tar.ts";
import { type TarWriteEntry, writeTar } from "../unpack/tar_write.ts";
import { type StoredLayer, storeGzipEntries, storeGzipLayer, storeTarLayer } from "./layer_blob.ts";
import { exportContainer } from "./export.ts";

/** Files pod mounts over at start; their stubs in the upper dir are not the container's changes. */
const MANAGED = new Set(["etc/hosts", "etc/hostname", "etc/resolv.conf", "run/.containerenv"]);

/** An archive path without `./` or `/` in front and `/` behind; the root itself is "". */
function clean(name: string): string {
  const n = name.replace(/^(\.\/)+/, "").replace(/^\/+/, "").replace(/\/+$/, "");
  return n === "." ? "" : n;
}

function whiteoutName(name: string): string {
  const i = name.lastIndexOf("/");
  return i < 0 ? `.wh.${name}` : `${name.slice(0, i)}/.wh.${name.slice(i + 1)}`;
}

function isOpaque(e: TarEntry): boolean {
  for (const k of ["trusted.overlay.opaque", "user.overlay.opaque"]) {
    const v = e.xattrs.get(k);
    if (v && v.length && v[0] === 0x79 /* y */) return true;
  }
  return false;
}

/** Rewrites GNU tar's view of an upper dir into OCI layer entries (see the module notes). */
export async function* layerEntries(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarWriteEntry> {
  const whiteouts = new Set<string>();
  for await (const e of readTar(source)) {
    const name = clean(e.name);
    if (!name || MANAGED.has(name)) continue;
    const base = name.slice(name.lastIndexOf("/") + 1);
    if (base.startsWith(".wh.")) continue; // reserved names: never the container's own file
    const common = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    const wh = (n: string): TarWriteEntry => ({
      ...common,
      name: whiteoutName(n),
      type: "file",
      size: 0,
      mode: 0o644,
    });
    if (e.type === "char" && e.devmajor === 0 && e.devminor === 0) {
      whiteouts.add(name);
      yield wh(name);
    } else if (e.type === "hardlink" && whiteouts.has(clean(e.linkname))) {
      whiteouts.add(name);
      yield wh(name);
    } else if (e.type === "dir") {
      yield { ...common, name, type: "dir" };
      if (isOpaque(e)) yield { ...common, name: `${name}/.wh..wh..opq`, type: "file", size: 0, mode: 0o644 };
    } else if (e.type === "file") {
      yield { ...common, name, type: "file", size: e.size, body: () => e.body() };
    } else if (e.type === "symlink") {
      yield { ...common, name, type: "symlink", linkname: e.linkname }; // a target is not an archive path
    } else if (e.type === "hardlink") {
      yield { ...common, name, type: "hardlink", linkname: clean(e.linkname) };
    } else if (e.type === "char" || e.type === "block" || e.type === "fifo") {
      yield { ...common, name, type: e.type, devmajor: e.devmajor, devminor: e.devminor };
    }
    // sockets and other types are not part of an image
  }
}

async function* tapped(
  entries: AsyncIterable<TarWriteEntry>,
  onEntry: (e: TarWriteEntry) => void,
): AsyncGenerator<TarWriteEntry> {
  for await (const e of entries) {
    onEntry(e);
    yield e;
  }
}

/** Starts GNU tar on `upper` (inside the user's subuid namespace when `userns`), archive on stdout. */
export function spawnUpperTar(upper: string, userns: boolean): Deno.ChildProcess {
  const tar = [
    "tar",
    "--xattrs",
    "--xattrs-include=*",
    "--numeric-owner",
    "--sort=name",
    "-C",
    upper,
    "-cf",
    "-",
    ".",
  ];
  const [cmd, ...args] = userns ? ["unshare", "--user", "--map-auto", "--map-root-user", ...tar] : tar;
  return new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
}

/**
 * Turns the container's upper dir into a gzip layer blob in the store (with `uncompressed`, the plain tar:
 * `pod build`'s layers). `onEntry` sees every entry written (`pod build` keeps their headers); `filter` may
 * leave entries out (`pod build`'s RUN mount points).
 */
export async function commitUpperDir(
  root: string,
  upper: string,
  userns: boolean,
  onEntry?: (e: TarWriteEntry) => void,
  filter?: (entries: AsyncIterable<TarWriteEntry>) => AsyncIterable<TarWriteEntry>,
  uncompressed = false,
): Promise<StoredLayer> {
  let tar: AsyncIterable<Uint8Array>;
  let child: Deno.ChildProcess | undefined;
  let stderr: Promise<string> = Promise.resolve("");
  try {
    await Deno.lstat(upper);
    child = spawnUpperTar(upper, userns);
    stderr = new Response(child.stderr).text(); // drained alongside, so tar never blocks on it
    // one reused buffer: the tar reader and the writer are done with a chunk before they ask for the next
    tar = reusedChunks(child.stdout);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    tar = (async function* () { // never started: no changes, an empty archive (its two zero blocks)
      yield new Uint8Array(1024);
    })();
  }
  try {
    const all = filter ? filter(layerEntries(tar)) : layerEntries(tar);
    const entries = onEntry ? tapped(all, onEntry) : all;
    const layer = uncompressed
      ? await storeTarLayer(root, writeTar(entries), "committed layer")
      : await storeGzipEntries(root, entries, "committed layer");
    if (child) {
      const st = await child.status;
      const err = (await stderr).trim();
      if (!st.success) {
        throw new PodError(
          `reading the container's changes: ${err.split("\n")[0] || `tar exited ${st.code}`}`,
        );
      }
    }
    return layer;
  } catch (e) {
    try {
      child?.kill("SIGKILL");
    } catch { /* ended */ }
    throw e;
  }
}

/**
 * `commit --squash`: the container's whole file system (its image tree with its changes on top, read through
 * {@link exportContainer}'s private read-only overlay, xattrs kept; rootless with the container's owners) as one
 * gzip layer blob in the store. pod's own mount-point stubs are left out as in a plain commit.
 */
export async function commitSquashed(root: string, name: string, id: string): Promise<StoredLayer> {
  const ex = await exportContainer(root, id, { xattrs: true });
  try {
    const layer = await storeGzipLayer(root, writeTar(layerEntries(ex.chunks)), "squashed layer");
    await ex.done;
    return layer;
  } catch (e) {
    await ex.done.catch(() => {});
    throw e instanceof PodError
      ? e
      : new PodError(`squashing ${name}: ${e instanceof Error ? e.message : e}`);
  }
}
