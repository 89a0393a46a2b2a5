/**
 * `pod cp`: copying files between a container's root file system and the host (or a tar stream on
 * stdin/stdout), with podman's/docker's path rules.
 *
 * Containment: container paths are resolved inside the rootfs with chroot semantics (lib/ns/rootpath.ts), and
 * every write into a container goes through the unpacker: the source is packed as a tar stream
 * (lib/unpack/tar_write.ts) whose entry names are rootfs-relative, and applied with `applyLayer` on the
 * rootfs, so the unpacker's resolver re-resolves each path at write time and a symlink the container
 * planted can never lead a write outside its root. Reads from a container walk the tree without following
 * symlinks below the source and check that each directory is still inside the rootfs.
 *
 * Ownership: into a container, files become 0:0 inside (or keep their ids with `-a`); out of a container
 * they belong to the caller (or keep the container's ids with `-a`). A rootless container whose rootfs is
 * owned by subordinate ids is copied from inside a user namespace with the container's own id maps: pod
 * re-runs the same `cp` command there (as the mapped root), so ids are the container's ids.
 *
 * Overlay containers (`config.storage`) have no root on the host: their merged root exists only in a mount
 * namespace. A stopped one: pod re-runs the `cp` in a private mount namespace of its own (`unshare --mount`,
 * rootless with `--user` and the container's maps) that mounts the overlay (image tree + the container's
 * upper dir) on `rootfs/` first, holding the container's lock so no start mounts it meanwhile; a
 * never-started one gets its image tree built by stage 2 first. A running one is reached through
 * `/proc/<pid>/root`: directly as root, rootless from inside its own user namespace (`nsenter --user`). That
 * base is never canonicalized (realpath would turn the magic link into `/`): paths are resolved under it as a
 * string, and writes use the unpacker's applier on it directly.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { debug } from "../log.ts";
import { mapArgs, toContainer, toHost } from "../ns/idmap.ts";
import { resolveInRoot } from "../unpack/contain.ts";
import type { IdMapping } from "../ns/spec.ts";
import {
  containerPaths,
  type ContainerRecord,
  lookupContainerId,
  procStartTime,
  readContainer,
  withContainerLock,
} from "../store/containers.ts";
import { ensureTreesDir, treePath } from "../store/trees.ts";
import type { TarWriteEntry } from "../unpack/tar_write.ts";

/** Set in the environment of the `cp` pod re-runs inside a container's user namespace. */
export const USERNS_ENV = "POD_CP_IN_USERNS";

/**
 * Set in the environment of a re-run `cp` of an overlay container: `overlay:<mnt ns>` (mount the overlay on
 * the rootfs first, in the private mount namespace the process is in, never the caller's `<mnt ns>`) or
 * `proc:<pid>:<start>` (the running container's root, `/proc/<pid>/root`, of the process with that start time).
 */
export const ROOT_ENV = "POD_CP_ROOT";

/** Set with {@link USERNS_ENV}: the caller's ids as the container sees them (`uid:gid`), owner of copies out. */
export const OWNER_ENV = "POD_CP_OWNER";

/** `cp` options. */
export interface CopyOptions {
  /** `-a`: keep uid/gid (into a container) / the container's ids (out of it). */
  archive?: boolean;
  /** `--overwrite`: allow replacing a directory by a non-directory and the reverse. */
  overwrite?: boolean;
  /** Tar input for `-` as the source (default stdin). */
  stdin?: ReadableStream<Uint8Array>;
  /** Tar output for `-` as the destination (default stdout). */
  stdout?: WritableStream<Uint8Array>;
}

/** One side of a `cp`: a host path (`-` = the tar stream), or a path in a container. */
export interface CpLocation {
  /** Container name or id, when the path is in a container. */
  container?: string;
  /** The path as given. */
  path: string;
}

const myUid = (): number => Deno.uid() ?? 0;
const myGid = (): number => Deno.gid() ?? 0;

/** The owner of files copied out of a container: the caller (as the container's user namespace sees it). */
function callerIds(): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(Deno.env.get(OWNER_ENV) ?? "");
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : { uid: myUid(), gid: myGid() };
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * Splits a `cp` argument like podman/docker: `CONTAINER:PATH` when the part before the first `:` is a valid
 * container name or id; an absolute path, or one starting with `.`, is always local.
 */
export function parseCpArg(arg: string): CpLocation {
  if (arg.startsWith("/") || arg.startsWith(".")) return { path: arg };
  const i = arg.indexOf(":");
  if (i <= 0) return { path: arg };
  const name = arg.slice(0, i);
  if (!NAME_RE.test(name)) return { path: arg };
  return { container: name, path: arg.slice(i + 1) };
}

/** Lexically cleaned absolute container path (`..` clamped at `/`). */
export function cleanContainerPath(p: string): string {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return "/" + out.join("/");
}

/** True when a path names the contents of a directory (`dir/.`). */
function contentsOnly(p: string): boolean {
  return p === "." || p.endsWith("/.");
}

function baseName(p: string): string {
  const parts = p.split("/").filter((c) => c && c !== ".");
  return parts.at(-1) ?? "";
}

function dirName(abs: string): string {
  const i = abs.lastIndexOf("/");
  return i <= 0 ? "/" : abs.slice(0, i);
}

function hostAbs(p: string): string {
  const abs = p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  const clean = cleanContainerPath(abs);
  return clean;
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** A path of the container, resolved inside its rootfs (all symlinks, the last one too). */
interface Resolved {
  /** Host path (inside the rootfs). */
  host: string;
  /** Rootfs-relative canonical path (`""` = the root). */
  rel: string;
  /** lstat of `host`, or null when missing. */
  info: Deno.FileInfo | null;
}

function resolveContainerPath(rootfs: string, path: string): Resolved {
  let host: string;
  try {
    host = resolveInRoot(rootfs, cleanContainerPath(path), { follow: true });
  } catch (e) {
    throw new PodError(`resolving "${path}" in the container: ${e instanceof Error ? e.message : e}`);
  }
  if (host !== rootfs && !host.startsWith(rootfs + "/")) {
    throw new PodError(`"${path}" resolves outside the container`); // cannot happen: resolveInRoot clamps
  }
  const rel = host === rootfs ? "" : host.slice(rootfs.length + 1);
  if (rel === "") host = rootfs; // not `<rootfs>/`
  // the root itself is followed: a `/proc/<pid>/root` base is a (magic) symlink
  return { host, rel, info: rel === "" ? statOrNull(host) : lstatOrNull(host) };
}

const join = (a: string, b: string) => (a === "" ? b : b === "" ? a : `${a}/${b}`);

function timeOf(st: Deno.FileInfo): { sec: number; nsec: number } {
  const ms = st.mtime?.getTime() ?? 0;
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1e6 };
}

function checkName(leaf: string, whole: string): void {
  if (leaf.startsWith(".wh.")) {
    throw new PodError(`cannot copy "${whole}": names starting with ".wh." are reserved for layer whiteouts`);
  }
}

interface WalkOptions {
  /** Ids to record for a file with these host ids. */
  owner: (st: Deno.FileInfo) => { uid: number; gid: number };
  /** Every directory read must still be inside this directory (a container's rootfs). */
  within?: string;
  /** Leave out the entry of the top directory itself (`dir/.`). */
  skipTop?: boolean;
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
 * True when the directory `abs` (below the container root `base`) is still reached from `base` through real
 * directories only: resolving it again inside the root gives the same path. (Not `realpath`: a
 * `/proc/<pid>/root` base has no canonical host path.)
 */
function stillInside(base: string, abs: string): boolean {
  if (abs === base) return true;
  if (!abs.startsWith(base + "/")) return false;
  try {
    return resolveInRoot(base, abs.slice(base.length + 1), { follow: true }) === abs;
  } catch {
    return false;
  }
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

/** Re-encodes a tar stream read from `input` with names moved under `prefix` and ownership decided by `owner`. */
async function* retarUnder(
  input: ReadableStream<Uint8Array>,
  prefix: string,
  owner: (uid: number, gid: number) => { uid: number; gid: number },
): AsyncGenerator<TarWriteEntry> {
  const { readTar } = await import("../unpack/tar.ts");
  const { cleanName } = await import("../unpack/contain.ts");
  const under = (n: string, what: string): string => {
    let parts: string[];
    try {
      parts = cleanName(n, what);
    } catch (e) {
      throw new PodError(`invalid tar entry ${JSON.stringify(n)}: ${e instanceof Error ? e.message : e}`);
    }
    const leaf = parts.at(-1);
    if (leaf) checkName(leaf, n);
    return join(prefix, parts.join("/"));
  };
  for await (const e of readTar(input)) {
    if (e.type === "other") {
      debug(`cp: skipping tar entry ${e.name} of type ${JSON.stringify(e.typeflag)}`);
      continue;
    }
    const name = under(e.name, "path");
    if (name === prefix) {
      if (e.type !== "dir") throw new PodError("the tar stream would replace the destination directory");
      continue; // the destination itself keeps its owner and mode
    }
    yield {
      name,
      type: e.type,
      mode: e.mode,
      mtime: e.mtime,
      ...owner(e.uid, e.gid),
      linkname: e.type === "hardlink" ? under(e.linkname, "hardlink target") : e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: e.size,
      body: e.type === "file"
        ? async function* () {
          for await (const part of e.body()) yield part.slice();
        }
        : undefined,
    };
  }
}

/** True for a running container's root seen through procfs (`/proc/<pid>/root`). */
function isProcRoot(dir: string): boolean {
  return /^\/proc\/[1-9][0-9]*\/root$/.test(dir);
}

/** Start times of the processes whose `/proc/<pid>/root` this copy uses. */
const procRoots = new Map<number, number>();

/** The root of the running container whose init is `pid` (started at `start`), checked while copying. */
function procRoot(pid: number, start: number): string {
  procRoots.set(pid, start);
  checkProcRoot(`/proc/${pid}/root`);
  return `/proc/${pid}/root`;
}

/**
 * Throws when `base` is a `/proc/<pid>/root` whose process is no longer the container's init (it ended, and
 * the pid could name another process, with another root). Checked before each entry copied.
 */
function checkProcRoot(base: string): void {
  if (!isProcRoot(base)) return;
  const pid = Number(base.split("/")[2]);
  const start = procRoots.get(pid);
  if (start === undefined || procStartTime(pid) !== start) {
    throw new PodError("the container stopped while copying");
  }
}

/**
 * Applies entries (names relative to `dir`) onto `dir` through the unpacker. A `/proc/<pid>/root` target is
 * given to the unpacker's applier as it is: `applyLayer` canonicalizes its target, which would make that
 * magic link the host's `/`.
 */
async function applyEntries(dir: string, entries: AsyncIterable<TarWriteEntry>): Promise<void> {
  const { writeTar } = await import("../unpack/tar_write.ts");
  if (isProcRoot(dir)) {
    await applyUnder(dir, writeTar(entries));
    return;
  }
  const { applyLayer } = await import("../unpack/mod.ts");
  try {
    await applyLayer(dir, ReadableStream.from(writeTar(entries)), {
      digest: "cp",
      mediaType: "application/vnd.oci.image.layer.v1.tar",
    }, { maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (e) {
    if (e instanceof PodError) {
      throw new PodError(e.message.replace(/^layer cp: /, "copying: "), e.exitCode, { cause: e });
    }
    throw e;
  }
}

/** The unpacker's layer applier on the root `base` taken as it is (already a trusted root path). */
async function applyUnder(base: string, tar: AsyncIterable<Uint8Array>): Promise<void> {
  const [{ Extraction, LayerApplier }, { Root }, { readTar }] = await Promise.all([
    import("../unpack/apply.ts"),
    import("../unpack/contain.ts"),
    import("../unpack/tar.ts"),
  ]);
  const applier = new LayerApplier(new Extraction(new Root(base)));
  let current: string | undefined;
  try {
    for await (const e of readTar(tar)) {
      checkProcRoot(base);
      current = e.name;
      await applier.apply(e);
      current = undefined;
    }
    applier.finish();
  } catch (e) {
    if (e instanceof PodError) throw e;
    const where = current !== undefined ? `entry ${JSON.stringify(current)}: ` : "";
    throw new PodError(`copying: ${where}${e instanceof Error ? e.message : e}`, undefined, { cause: e });
  }
}

/** Container-side id translation (root with a user-namespaced container, rootless with one id). */
interface IdTranslation {
  /** Host ids of container ids. */
  toHost(uid: number, gid: number): { uid: number; gid: number };
  /** Container ids of host ids. */
  toContainer(uid: number, gid: number): { uid: number; gid: number };
}

function idTranslation(rec: ContainerRecord): IdTranslation {
  const u = rec.config.userns;
  if (u.mode === "host" || !u.uidMap?.length || !u.gidMap?.length || Deno.env.get(USERNS_ENV)) {
    return { toHost: (uid, gid) => ({ uid, gid }), toContainer: (uid, gid) => ({ uid, gid }) };
  }
  const um = u.uidMap as IdMapping[], gm = u.gidMap as IdMapping[];
  return {
    toHost: (uid, gid) => ({ uid: toHost(um, uid) ?? myUid(), gid: toHost(gm, gid) ?? myGid() }),
    toContainer: (uid, gid) => ({ uid: toContainer(um, uid) ?? 65534, gid: toContainer(gm, gid) ?? 65534 }),
  };
}

/** True when this copy must run inside the container's user namespace (rootless with subordinate ids). */
export function needsUserns(rec: ContainerRecord): boolean {
  if (Deno.env.get(USERNS_ENV) || myUid() === 0) return false;
  return rec.config.userns.mode !== "host" && (rec.config.userns.uidMap?.length ?? 0) > 1;
}

/** The command line that runs this pod again (`deno run … cli.ts`, or the compiled binary). */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  const main = new URL(Deno.mainModule);
  if (/\/deno$/.test(exe) && main.protocol === "file:") {
    return [exe, "run", "-A", "-q", "--no-config", decodeURIComponent(main.pathname)];
  }
  return [exe];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `argv` inside a new user namespace with the given maps (written with newuidmap/newgidmap while the
 * child waits on a fifo, like lib/ns/launch.ts), stdio inherited. Resolves to its exit code. `mount`: also
 * in a new mount namespace (util-linux makes every mount in it private, so nothing mounted there reaches the
 * host). When the user is not the namespace's root (`--userns=keep-id`), the capabilities are passed on
 * through the exec (`--keep-caps`).
 */
export async function runInUserns(
  uidMap: IdMapping[],
  gidMap: IdMapping[],
  argv: string[],
  stateDir: string,
  env: Record<string, string>,
  opts: { mount?: boolean } = {},
): Promise<number> {
  const { mkfifo } = await import("../ns/libc.ts");
  await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const fifo = `${stateDir}/cp-${Deno.pid}.fifo`;
  await Deno.remove(fifo).catch(() => {});
  mkfifo(fifo, 0o600);
  const flags = ["--user"];
  if (toContainer(uidMap, myUid()) !== 0) flags.push("--keep-caps");
  if (opts.mount) flags.push("--mount", "--propagation", "private");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("unshare", {
      args: [...flags, "--", "/bin/sh", "-c", 'read _ < "$0" || exit 125; exec "$@"', fifo, ...argv],
      env,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    await Deno.remove(fifo).catch(() => {});
    if (e instanceof Deno.errors.NotFound) throw new PodError("unshare not found: install util-linux");
    throw e;
  }
  let done = false;
  const status = child.status.then((s) => {
    done = true;
    return s.code;
  });
  try {
    const own = Deno.readLinkSync("/proc/self/ns/user");
    for (let i = 0;; i++) {
      let ns: string | undefined;
      try {
        ns = Deno.readLinkSync(`/proc/${child.pid}/ns/user`);
      } catch { /* not yet */ }
      if (ns && ns !== own) break;
      if (done) throw new PodError("the copy helper exited before its user namespace was set up");
      await sleep(i < 20 ? 1 : 5);
    }
    for (const [tool, maps] of [["newuidmap", uidMap], ["newgidmap", gidMap]] as const) {
      const out = await new Deno.Command(tool, {
        args: [String(child.pid), ...mapArgs(maps)],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!out.success) {
        const msg = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
        throw new PodError(`${tool} ${child.pid}: ${msg || `exit ${out.code}`}`);
      }
    }
    const w = await Deno.open(fifo, { write: true });
    await w.write(new TextEncoder().encode("go\n"));
    w.close();
    return await status;
  } catch (e) {
    if (!done) child.kill("SIGKILL");
    await status;
    throw e;
  } finally {
    await Deno.remove(fifo).catch(() => {});
  }
}

function notInContainer(path: string, name: string): PodError {
  return new PodError(`"${path}" could not be found on container ${name}: no such file or directory`);
}

function overwriteCheck(existing: Deno.FileInfo | null, srcIsDir: boolean, shown: string, allowed: boolean) {
  if (!existing || allowed) return;
  if (existing.isDirectory && !srcIsDir) {
    throw new PodError(`cannot overwrite directory "${shown}" with non-directory (use --overwrite)`);
  }
  if (!existing.isDirectory && srcIsDir) {
    throw new PodError(`cannot overwrite non-directory "${shown}" with directory (use --overwrite)`);
  }
}

/**
 * Where a copy lands: the destination directory the entries are applied on (`dir`), the name of the top
 * entry relative to it (`name`, `""` when the contents of a source directory are merged into `dir`).
 */
interface Target {
  dir: string;
  name: string;
}

/**
 * Decides the target by podman's rules. `dst` = the destination as given, `dstInfo` its (followed) stat,
 * `parentOk` whether its parent is an existing directory, `dstDir` its resolved path, `srcName` the
 * source's base name.
 */
export function decideTarget(
  srcIsDir: boolean,
  srcContents: boolean,
  srcName: string,
  dst: string,
  dstInfo: { isDirectory: boolean } | null,
  parentOk: boolean,
): { into: boolean; name: string; merge: boolean } {
  if (dstInfo?.isDirectory) {
    if (srcIsDir && srcContents) return { into: true, name: "", merge: true };
    return { into: true, name: srcName, merge: false };
  }
  if (dstInfo) {
    if (srcIsDir) throw new PodError(`cannot copy directory to non-directory "${dst}"`);
    return { into: false, name: "", merge: false };
  }
  if (!srcIsDir && dst.endsWith("/")) throw new PodError(`"${dst}": destination directory must exist`);
  if (!parentOk) throw new PodError(`"${dst}": parent directory does not exist`);
  return { into: false, name: "", merge: false };
}

/** Copies between a container and the host (or a tar stream). Resolves to the exit code. */
export async function copyPaths(
  root: string,
  src: string,
  dst: string,
  opts: CopyOptions = {},
): Promise<number> {
  const s = src === "-" ? { path: "-" } : parseCpArg(src);
  const d = dst === "-" ? { path: "-" } : parseCpArg(dst);
  if (s.container && d.container) throw new UsageError("copying between containers is not supported");
  if (!s.container && !d.container) {
    throw new UsageError("invalid arguments: one of SRC and DST must be a container path (CONTAINER:PATH)");
  }
  if (s.path === "-" && d.path === "-") throw new UsageError("SRC and DST cannot both be -");
  const name = (s.container ?? d.container)!;
  const id = await lookupContainerId(root, name);
  let rec = await readContainer(root, id);
  const cp = containerPaths(root, id);
  const copy = async (base: string) => {
    const ids = idTranslation(rec);
    if (d.container) await copyIn(base, rec, ids, s.path, d.path, opts);
    else await copyOut(base, rec, ids, s.path, d.path, opts);
    return 0;
  };
  const rootEnv = Deno.env.get(ROOT_ENV);
  if (rootEnv !== undefined) return await copy(await overlayBaseHere(root, rec, rootEnv)); // re-run
  if (rec.config.storage) return await copyOverlay(root, id, copy);
  if (!Deno.env.get(USERNS_ENV)) {
    const { ensureRootfs } = await import("./start.ts");
    await withContainerLock(root, id, async () => {
      rec = await readContainer(root, id);
      await ensureRootfs(root, rec);
    });
  }
  if (needsUserns(rec)) {
    const env = { [USERNS_ENV]: "1" };
    const u = rec.config.userns;
    return await runInUserns(u.uidMap!, u.gidMap!, [...selfCommand(), ...Deno.args], `${cp.dir}/run`, env);
  }
  return await copy(Deno.realPathSync(cp.rootfs));
}

/** The running container's init process (pid and start time) while it lives, else undefined. */
function liveInit(rec: ContainerRecord): { pid: number; start: number } | undefined {
  const s = rec.state;
  if (s.status !== "running" && s.status !== "paused" && s.status !== "stopping") return undefined;
  const start = procStartTime(s.pid);
  if (start === undefined || (s.pidStart !== undefined && start !== s.pidStart)) return undefined;
  return { pid: s.pid, start };
}

/** Environment of a re-run `cp` in the container's user namespace (rootless). */
function usernsEnv(rec: ContainerRecord): Record<string, string> {
  const u = rec.config.userns;
  const uid = toContainer(u.uidMap ?? [], myUid()) ?? 65534;
  const gid = toContainer(u.gidMap ?? [], myGid()) ?? 65534;
  return { [USERNS_ENV]: "1", [OWNER_ENV]: `${uid}:${gid}` };
}

/** {@link ROOT_ENV} for a re-run that mounts the overlay: names this (the caller's) mount namespace. */
function overlayMode(): string {
  return `overlay:${Deno.readLinkSync("/proc/self/ns/mnt")}`;
}

/**
 * An overlay container's copy: through `/proc/<pid>/root` while it runs; stopped, in a private mount
 * namespace that mounts its overlay (holding its lock, so no start mounts the same upper dir meanwhile).
 */
async function copyOverlay(
  root: string,
  id: string,
  copy: (base: string) => Promise<number>,
): Promise<number> {
  const running = async (rec: ContainerRecord, init: { pid: number; start: number }) => {
    if (Deno.uid() === 0 || rec.config.userns.mode === "host") {
      return await copy(procRoot(init.pid, init.start));
    }
    // rootless: in the container's own user namespace (the host's mount namespace stays), as its root; with
    // keep-id as the user's own id there, keeping the capabilities (setpriv: ambient), so files on the host
    // are reached as the user's own
    const env: Record<string, string> = { ...usernsEnv(rec), [ROOT_ENV]: `proc:${init.pid}:${init.start}` };
    const [uid, gid] = env[OWNER_ENV].split(":");
    const asUser = uid === "0" && gid === "0" ? [] : [
      "setpriv",
      `--reuid=${uid}`,
      `--regid=${gid}`,
      "--clear-groups",
      "--inh-caps=+all",
      "--ambient-caps=+all",
      "--",
    ];
    return await runProgram(
      "nsenter",
      ["--user", "--target", String(init.pid), "--", ...asUser, ...selfCommand(), ...Deno.args],
      env,
    );
  };
  const first = await readContainer(root, id);
  const init = liveInit(first);
  if (init) return await running(first, init);
  return await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    const again = liveInit(rec);
    if (again) return await running(rec, again); // started meanwhile
    await ensureTree(root, rec);
    const argv = [...selfCommand(), ...Deno.args];
    if (Deno.uid() === 0 || rec.config.userns.mode === "host") {
      return await runProgram(
        "unshare",
        ["--mount", "--propagation", "private", "--", ...argv],
        { [ROOT_ENV]: overlayMode() },
      );
    }
    const u = rec.config.userns;
    const env = { ...usernsEnv(rec), [ROOT_ENV]: overlayMode() };
    return await runInUserns(u.uidMap!, u.gidMap!, argv, `${rec.dir}/run`, env, { mount: true });
  });
}

/** Runs a helper program with stdio inherited; resolves to its exit code. */
async function runProgram(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  try {
    const child = new Deno.Command(cmd, { args, env, stdin: "inherit", stdout: "inherit", stderr: "inherit" })
      .spawn();
    return (await child.status).code;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new PodError(`${cmd} not found: install util-linux`);
    throw e;
  }
}

/**
 * A never-started overlay container whose image tree does not exist yet: stage 2 builds it (in the
 * container's user namespace when rootless, so its files get the container's ids) and exits.
 */
async function ensureTree(root: string, rec: ContainerRecord): Promise<void> {
  const c = rec.config;
  const lower = treePath(root, c.storage!.tree);
  if (lstatOrNull(lower)?.isDirectory) return;
  const [{ launch }, { baseSpec }] = await Promise.all([
    import("../ns/launch.ts"),
    import("./launch_spec.ts"),
  ]);
  const cp = containerPaths(root, c.id);
  await Deno.mkdir(`${cp.dir}/run`, { recursive: true, mode: 0o700 });
  await ensureTreesDir(root);
  const spec = {
    ...baseSpec(root, c),
    overlay: { lower, upper: cp.upper, work: cp.work },
    prepare: { layers: c.layers },
  };
  const r = await launch(spec, { mode: "foreground", tty: false, stdin: false });
  if (r.exitCode !== 0 || !lstatOrNull(lower)?.isDirectory) {
    throw new PodError(
      `the image of container ${c.name} could not be prepared for copying: start the container once and retry`,
    );
  }
}

/**
 * In a re-run `cp` of an overlay container: the root to copy against. `overlay:…`: this process is in a
 * private mount namespace (its own, never the host's): the container's upper and work dirs are made when
 * missing (never started) and the overlay is mounted on its rootfs. `proc:<pid>:<start>`: the running
 * container's root, checked to still be that process's.
 */
async function overlayBaseHere(root: string, rec: ContainerRecord, mode: string): Promise<string> {
  const m = /^proc:([1-9][0-9]*):([0-9]+)$/.exec(mode);
  if (m) return procRoot(Number(m[1]), Number(m[2]));
  if (!mode.startsWith("overlay:") || !rec.config.storage) {
    throw new PodError(`invalid ${ROOT_ENV} "${mode}"`);
  }
  if (Deno.readLinkSync("/proc/self/ns/mnt") === mode.slice("overlay:".length)) {
    throw new PodError("refusing to mount a container's root in the caller's mount namespace");
  }
  const cp = containerPaths(root, rec.config.id);
  const dirs = { lower: treePath(root, rec.config.storage.tree), upper: cp.upper, work: cp.work };
  const lowerInfo = lstatOrNull(dirs.lower);
  if (!lowerInfo?.isDirectory) {
    throw new PodError(`the image tree of container ${rec.config.name} is missing: start the container once`);
  }
  if (!lstatOrNull(dirs.upper)) {
    // like stage 2's first start: the upper dir takes the owner and mode of the tree's root
    const tmp = `${dirs.upper}.new`;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    Deno.mkdirSync(tmp, { mode: 0o700 });
    Deno.chownSync(tmp, lowerInfo.uid, lowerInfo.gid);
    Deno.chmodSync(tmp, (lowerInfo.mode ?? 0o755) & 0o7777);
    Deno.renameSync(tmp, dirs.upper);
  }
  for (const [dir, mode] of [[dirs.work, 0o700], [cp.rootfs, 0o755]] as const) {
    try {
      Deno.mkdirSync(dir, { mode });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  const { mountOverlay } = await import("../ns/mounts.ts");
  try {
    mountOverlay(cp.rootfs, dirs, rec.config.userns.mode !== "host");
  } catch (e) {
    throw new PodError(`mounting the root of ${rec.config.name}: ${e instanceof Error ? e.message : e}`);
  }
  return Deno.realPathSync(cp.rootfs);
}

async function copyIn(
  rootfs: string,
  rec: ContainerRecord,
  ids: IdTranslation,
  src: string,
  dst: string,
  o: CopyOptions,
): Promise<void> {
  const cname = rec.config.name;
  const r = resolveContainerPath(rootfs, dst);
  const dstInfo = r.info && r.info.isSymlink ? statOrNull(r.host) : r.info;
  if (src === "-") {
    if (!dstInfo) throw notInContainer(dst, cname);
    if (!dstInfo.isDirectory) {
      throw new PodError(`destination "${dst}" must be a directory when copying from stdin`);
    }
    const input = o.stdin ?? Deno.stdin.readable;
    const owner = (uid: number, gid: number) => o.archive ? ids.toHost(uid, gid) : ids.toHost(0, 0);
    await applyEntries(rootfs, retarUnder(input, r.rel, owner));
    return;
  }
  const abs = hostAbs(src);
  const st = statOrNull(abs);
  if (!st) throw new PodError(`"${src}": could not find the file on the host: no such file or directory`);
  const parent = !r.rel.includes("/") ? { isDirectory: true } : lstatOrNull(dirName(r.host));
  const t = decideTarget(
    st.isDirectory,
    contentsOnly(src),
    baseName(abs) || "root",
    dst,
    dstInfo,
    !!parent?.isDirectory,
  );
  const topRel = t.into ? join(r.rel, t.name) : r.rel;
  const owner = (f: Deno.FileInfo) => o.archive ? ids.toHost(f.uid ?? 0, f.gid ?? 0) : ids.toHost(0, 0);
  if (t.merge) {
    for (const e of Deno.readDirSync(abs)) {
      const ex = lstatOrNull(`${r.host}/${e.name}`);
      const srcChild = statOrNull(`${abs}/${e.name}`);
      overwriteCheck(ex, !!srcChild?.isDirectory && !e.isSymlink, `${dst}/${e.name}`, !!o.overwrite);
    }
  } else if (t.into) {
    overwriteCheck(lstatOrNull(`${r.host}/${t.name}`), st.isDirectory, `${dst}/${t.name}`, !!o.overwrite);
  }
  if (topRel === "" && !t.merge) throw new PodError("cannot replace the container's root directory");
  await applyEntries(rootfs, walkTree(abs, topRel, st, { owner, skipTop: t.merge }));
}

async function copyOut(
  rootfs: string,
  rec: ContainerRecord,
  ids: IdTranslation,
  src: string,
  dst: string,
  o: CopyOptions,
): Promise<void> {
  const r = resolveContainerPath(rootfs, src);
  if (!r.info) throw notInContainer(src, rec.config.name);
  const st = r.info;
  const srcName = baseName(r.rel) || "root";
  const contents = contentsOnly(src) && st.isDirectory;
  if (dst === "-") {
    const owner = (f: Deno.FileInfo) => ids.toContainer(f.uid ?? 0, f.gid ?? 0);
    const { writeTar } = await import("../unpack/tar_write.ts");
    const entries = walkTree(r.host, contents ? "" : srcName, st, {
      owner,
      within: rootfs,
      skipTop: contents,
    });
    const out = o.stdout ?? Deno.stdout.writable;
    await ReadableStream.from(writeTar(entries)).pipeTo(out, { preventClose: !o.stdout });
    return;
  }
  const abs = hostAbs(dst);
  const dstInfo = statOrNull(abs);
  const parent = statOrNull(dirName(abs));
  const t = decideTarget(st.isDirectory, contents, srcName, dst, dstInfo, !!parent?.isDirectory);
  const owner = (f: Deno.FileInfo) => o.archive ? ids.toContainer(f.uid ?? 0, f.gid ?? 0) : callerIds();
  let dir: string, name: string;
  if (t.into) {
    dir = abs;
    name = t.name;
    if (t.merge) {
      for (const e of Deno.readDirSync(r.host)) {
        overwriteCheck(statOrNull(`${abs}/${e.name}`), e.isDirectory, `${dst}/${e.name}`, !!o.overwrite);
      }
    } else overwriteCheck(lstatOrNull(`${abs}/${name}`), st.isDirectory, `${dst}/${name}`, !!o.overwrite);
  } else {
    dir = dirName(abs);
    name = baseName(abs);
    if (!name) throw new PodError(`cannot replace "${dst}"`);
  }
  await applyEntries(dir, walkTree(r.host, name, st, { owner, within: rootfs, skipTop: t.merge }));
}
