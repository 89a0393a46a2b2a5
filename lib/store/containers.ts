/**
 * Container records on disk: `$ROOT/containers/<id>/` and the name links in `$ROOT/containers/names/`.
 *
 * ```
 * containers/<id>/config.json   what was asked for and resolved at create time (see ContainerConfig)
 * containers/<id>/state.json    status, pid, times, exit code (see ContainerState)
 * containers/<id>/rootfs/       overlay driver: the mount point of the container's root (an overlay of the
 *                               image tree and upper/, mounted only inside the container's mount namespace);
 *                               vfs driver: the container's own copy of the image (made on first start)
 * containers/<id>/upper/, work/ overlay driver: the container's changes and overlayfs' work dir
 * containers/<id>/userdata/     hosts, hostname, resolv.conf, .containerenv
 * containers/<id>/ctr.log       k8s-file log of detached runs
 * containers/<id>/exit.json     {"exitCode":N,"finishedAt":ISO} written by the supervisor
 * containers/names/<name>       symlink → <id>
 * ```
 *
 * A container directory is assembled under a temp name, renamed into place, and only then is its name
 * claimed (`Deno.symlink`, atomic: of two creates with the same name exactly one wins). A directory without a
 * name link is an incomplete leftover: never listed, cleaned later. This module is on the start-up hot path
 * of `ps`/`exec`/`stop`/`logs`: it imports nothing heavy.
 * @module
 */

import { NotFoundError, PodError } from "../errors.ts";
import { debug } from "../log.ts";
import { pidAlive, readJsonIfExists, tempName, writeJsonAtomic } from "./atomic.ts";
import { withLock } from "./lock.ts";
import { storePaths } from "./paths.ts";

/** Lifecycle states, as podman names them. */
export type ContainerStatus = "created" | "running" | "paused" | "stopping" | "exited";

/** A bind, volume or tmpfs mount, as requested and resolved (volumes carry their host path in `source`). */
export interface ContainerMount {
  /** `bind` (host path), `volume` (named or anonymous volume) or `tmpfs`. */
  type: "bind" | "volume" | "tmpfs";
  /** Host path (bind, and volume once resolved). */
  source?: string;
  /** Volume name (volume mounts). */
  name?: string;
  /** True for an anonymous volume (`-v /dst`): removed with `rm -v`. */
  anonymous?: boolean;
  /** Absolute path inside the container. */
  destination: string;
  /** Mounted read-only. */
  readonly: boolean;
  /** Mount propagation (`rprivate`, `rslave`, …). */
  propagation?: string;
  /** Recursive bind (rbind, the default). */
  recursive?: boolean;
  /** tmpfs data (`size=…,mode=…`). */
  data?: string;
  /** The options as the user wrote them. */
  options: string[];
}

/** The container's process, resolved at create time (the user is resolved against the rootfs at start). */
export interface ContainerProcess {
  /** Effective entrypoint (image's, or `--entrypoint`). */
  entrypoint: string[];
  /** Effective command (image's Cmd, or the args given). */
  cmd: string[];
  /** entrypoint + cmd: what is executed. */
  args: string[];
  /** Environment (`KEY=value`). */
  env: string[];
  /** Working directory. */
  cwd: string;
  /** `user[:group]` as given (`-u`) or from the image; empty = root. */
  user: string;
  /** Allocate a terminal (`-t`). */
  terminal: boolean;
  /** Keep stdin open (`-i`). */
  stdin: boolean;
}

/** One id-map range: `size` ids from `containerId` map to `hostId` onwards (same shape as lib/ns's). */
export interface IdMapEntry {
  /** First id inside the container. */
  containerId: number;
  /** First id on the host. */
  hostId: number;
  /** Number of ids. */
  size: number;
}

/** An image layer to extract into the rootfs. */
export interface ContainerLayer {
  /** Blob digest. */
  digest: string;
  /** Layer media type. */
  mediaType: string;
  /** Blob path in the store. */
  path: string;
  /** Uncompressed digest. */
  diffId?: string;
}

/** Namespace choice: a new one, or the host's. */
export type NsMode = "private" | "host";

/** What a container was created with (`config.json`). Written once; `name` changes with `rename`. */
export interface ContainerConfig {
  /** 64 hex characters. */
  id: string;
  /** Unique name. */
  name: string;
  /** Creation time, RFC 3339 with nanoseconds. */
  created: string;
  /** The image. */
  image: {
    /** As given on the command line. */
    name: string;
    /** The resolved full reference (`docker.io/library/busybox:latest`), if the image has one. */
    ref?: string;
    /** Image ID (config digest hex). */
    id: string;
    /** Manifest digest. */
    digest?: string;
  };
  /** Layers to extract on first start (copied from the image at create time). */
  layers: ContainerLayer[];
  /** The process. */
  process: ContainerProcess;
  /** Hostname inside the container. */
  hostname: string;
  /** Labels (image labels merged with `--label`). */
  labels: Record<string, string>;
  /** Annotations (`--annotation`). */
  annotations: Record<string, string>;
  /** The mount options as written (`-v`, `--mount`, `--tmpfs`), for inspect. */
  mountArgs: string[];
  /** Resolved mounts. */
  mounts: ContainerMount[];
  /** Namespaces. */
  namespaces: { pid: NsMode; ipc: NsMode; uts: NsMode; net: NsMode };
  /** User namespace: `host` (none, root only), `private` (rootless default), `keep-id`, `auto`. */
  userns: { mode: string; uidMap?: IdMapEntry[]; gidMap?: IdMapEntry[] };
  /** `--privileged`. */
  privileged: boolean;
  /** `--read-only`. */
  readOnly: boolean;
  /** Stop signal name (`SIGTERM`). */
  stopSignal: string;
  /** Seconds `stop` waits before SIGKILL. */
  stopTimeout: number;
  /** `--rm`: removed when it exits. */
  autoRemove: boolean;
  /** The pod command line that created it. */
  createCommand: string[];
  /** `--platform`, when given. */
  platform?: string;
  /** Program name that created it (pod, lilipod). */
  createdBy?: string;
  /**
   * How the root file system is stored. `overlay`: the image tree `tree` (lib/store/trees.ts) under the
   * container's own upper dir; absent (older stores, or `POD_STORAGE_DRIVER=vfs`): a copy per container.
   */
  storage?: { driver: "overlay"; tree: string };
}

/** Mutable state (`state.json`). */
export interface ContainerState {
  /** Status. */
  status: ContainerStatus;
  /** Host pid of the container's init process (0 when not running). */
  pid: number;
  /** `/proc/<pid>/stat` start time of that process (guards against pid reuse). */
  pidStart?: number;
  /** Pid of the process that waits for the container (the detached supervisor or the foreground pod). */
  waiterPid?: number;
  /** Start time of `waiterPid` (clock ticks since boot, /proc/<pid>/stat field 22), against pid reuse. */
  waiterStart?: number;
  /** Last start (RFC 3339), or the zero time. */
  startedAt: string;
  /** Last exit (RFC 3339), or the zero time. */
  finishedAt: string;
  /** Last exit code. */
  exitCode: number;
  /** Number of times it was started. */
  restartCount?: number;
  /** Error of the last failed start. */
  error?: string;
  /** Whether the last start was detached (logs in ctr.log). */
  detached?: boolean;
}

/** A container: its config, its (refreshed) state and its directory. */
export interface ContainerRecord {
  /** config.json. */
  config: ContainerConfig;
  /** state.json, refreshed against the live process. */
  state: ContainerState;
  /** `$ROOT/containers/<id>`. */
  dir: string;
}

/** Go's zero time, as podman prints it for times never set. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** podman's rule for container names. */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Longest name accepted (a name is a file name in the store). */
export const MAX_NAME_LENGTH = 253;

/** Paths of one container. */
export function containerPaths(root: string, id: string) {
  const dir = `${root}/containers/${id}`;
  return {
    dir,
    config: `${dir}/config.json`,
    state: `${dir}/state.json`,
    rootfs: `${dir}/rootfs`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    rootfsReady: `${dir}/.rootfs-ready`,
    userdata: `${dir}/userdata`,
    log: `${dir}/ctr.log`,
    /** The fifo a detached `-i` container reads its input from (exists while it runs). */
    attach: `${dir}/attach`,
    exit: `${dir}/exit.json`,
    lock: `${dir}/lock`,
  };
}

/** RFC 3339 with nanoseconds (Go's `time.RFC3339Nano` shape), in UTC. */
export function nowNano(): string {
  const ms = Date.now();
  const iso = new Date(ms).toISOString(); // …T12:00:00.123Z
  const frac = (performance.now() % 1).toFixed(6).slice(2); // sub-ms noise for ordering
  return iso.slice(0, 23) + frac + "Z";
}

/** A new random 64-hex container id whose short form is not all digits (like docker/podman). */
export function newContainerId(): string {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(32));
    const id = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

/** Throws podman's error for a name that does not match its rule. */
export function validateName(name: string): void {
  if (!NAME_RE.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new PodError(
      `running container create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`,
    );
  }
}

function nameInUse(name: string, id: string): PodError {
  return new PodError(
    `the container name "${name}" is already in use by ${id}. You have to remove that container to be able ` +
      `to reuse that name: that name is already in use`,
    { code: "EXISTS" },
  );
}

/** The start time (clock ticks since boot) of a live process, or undefined when it is gone or a zombie. */
export function procStartTime(pid: number): number | undefined {
  if (!(pid > 0)) return undefined;
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return Number(fields[19]);
}

/** True when the process recorded as `pid` with start time `start` still lives. */
export function processAlive(pid: number, start?: number): boolean {
  const s = procStartTime(pid);
  if (s === undefined) return false;
  return start === undefined || s === start;
}

/** Reads the id a name link points to. */
async function readNameLink(root: string, name: string): Promise<string | undefined> {
  if (!NAME_RE.test(name)) return undefined;
  try {
    return await Deno.readLink(`${storePaths(root).names}/${name}`);
  } catch {
    return undefined;
  }
}

/** Throws podman's "already in use" error when a container has this name (an early check before a pull). */
export async function checkNameFree(root: string, name: string): Promise<void> {
  const id = await readNameLink(root, name);
  if (id) throw nameInUse(name, id);
}

/** All complete containers: id → name (from the name links). */
export async function containerNames(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    for await (const e of Deno.readDir(storePaths(root).names)) {
      if (!e.isSymlink) continue;
      try {
        const id = await Deno.readLink(`${storePaths(root).names}/${e.name}`);
        out.set(id, e.name);
      } catch { /* raced with rm */ }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/**
 * Stores a new container: assembles its directory under a temp name (with `populate` adding files such as
 * userdata), renames it into place and claims the name. `config.name` may be replaced by `nextName()` when
 * the name was generated and happens to be taken. Throws podman's "already in use" error otherwise.
 */
export async function createContainerRecord(
  root: string,
  config: ContainerConfig,
  opts: { populate?: (tmpDir: string) => Promise<void>; nextName?: () => string } = {},
): Promise<ContainerRecord> {
  const p = storePaths(root);
  await Deno.mkdir(p.names, { recursive: true, mode: 0o700 });
  // cheap early check (the symlink below is the real arbiter)
  const existing = await readNameLink(root, config.name);
  if (existing && !opts.nextName) throw nameInUse(config.name, existing);
  const tmp = `${p.containers}/${tempName("ctr")}`;
  const state: ContainerState = {
    status: "created",
    pid: 0,
    startedAt: ZERO_TIME,
    finishedAt: ZERO_TIME,
    exitCode: 0,
  };
  await Deno.mkdir(tmp, { mode: 0o700 });
  const dir = `${p.containers}/${config.id}`;
  try {
    await Deno.mkdir(`${tmp}/userdata`, { mode: 0o755 });
    if (opts.populate) await opts.populate(tmp);
    await writeJsonAtomic(`${tmp}/config.json`, config);
    await writeJsonAtomic(`${tmp}/state.json`, state);
    await Deno.rename(tmp, dir);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.symlink(config.id, `${p.names}/${config.name}`);
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        throw e;
      }
      if (opts.nextName && attempt < 100) {
        config.name = opts.nextName();
        await writeJsonAtomic(`${dir}/config.json`, config);
        continue;
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw nameInUse(config.name, (await readNameLink(root, config.name)) ?? "another container");
    }
  }
  return { config, state, dir };
}

/**
 * Finds a container id by full id, name, or unique id prefix (podman's order). Throws podman's
 * `no container with name or ID "x" found: no such container`.
 */
export async function lookupContainerId(root: string, nameOrId: string): Promise<string> {
  const p = storePaths(root);
  if (/^[a-f0-9]{64}$/.test(nameOrId)) {
    try {
      await Deno.lstat(`${p.containers}/${nameOrId}/config.json`);
      const names = await containerNames(root);
      if (names.has(nameOrId)) return nameOrId;
    } catch { /* fall through */ }
  }
  const byName = await readNameLink(root, nameOrId);
  if (byName) return byName;
  if (/^[a-f0-9]+$/.test(nameOrId)) {
    const names = await containerNames(root);
    const hits = [...names.keys()].filter((id) => id.startsWith(nameOrId));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) {
      throw new PodError(`more than one result for container "${nameOrId}": more than one result for ID`);
    }
  }
  throw new NotFoundError(`no container with name or ID "${nameOrId}" found: no such container`);
}

/** Reads a container's config and state (refreshed against the live process). */
export async function readContainer(root: string, id: string): Promise<ContainerRecord> {
  const cp = containerPaths(root, id);
  const config = await readJsonIfExists<ContainerConfig>(cp.config);
  if (!config) throw new NotFoundError(`no container with name or ID "${id}" found: no such container`);
  const state = (await readJsonIfExists<ContainerState>(cp.state)) ??
    { status: "created", pid: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, exitCode: 0 };
  const rec = { config, state, dir: cp.dir };
  await refreshState(root, rec);
  return rec;
}

/** Looks a container up by name/id/prefix and reads it (config + refreshed state). */
export async function getContainer(root: string, nameOrId: string): Promise<ContainerRecord> {
  return await readContainer(root, await lookupContainerId(root, nameOrId));
}

/** Every complete container (refreshed), newest first. */
export async function listContainers(root: string): Promise<ContainerRecord[]> {
  const names = await containerNames(root);
  const out: ContainerRecord[] = [];
  await Promise.all([...names.keys()].map(async (id) => {
    try {
      const rec = await readContainer(root, id);
      rec.config.name = names.get(id) ?? rec.config.name;
      out.push(rec);
    } catch (e) {
      debug(`skipping container ${id}: ${e instanceof Error ? e.message : e}`);
    }
  }));
  out.sort((
    a,
    b,
  ) => (a.config.created < b.config.created ? 1 : a.config.created > b.config.created ? -1 : 0));
  return out;
}

/** Writes state.json atomically. */
export async function writeState(root: string, id: string, state: ContainerState): Promise<void> {
  await writeJsonAtomic(containerPaths(root, id).state, state);
}

/** Runs `fn` holding the container's own lock (state transitions: start, stop, rm). */
export async function withContainerLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await withLock(containerPaths(root, id).lock, fn);
  } catch (e) {
    // the container was removed while we waited for (or before we took) its lock
    if (
      e instanceof Deno.errors.NotFound && !(await Deno.lstat(containerPaths(root, id).dir).catch(() => null))
    ) {
      throw new NotFoundError(`no container with name or ID "${id}" found: no such container`);
    }
    throw e;
  }
}

/** The exit record the supervisor writes. */
export interface ExitRecord {
  /** Exit code (128+signal when killed). */
  exitCode: number;
  /** When it ended (RFC 3339). */
  finishedAt: string;
}

/** Reads exit.json, if any. */
export async function readExitRecord(root: string, id: string): Promise<ExitRecord | undefined> {
  try {
    return await readJsonIfExists<ExitRecord>(containerPaths(root, id).exit);
  } catch {
    return undefined; // half-written by a dead writer
  }
}

/**
 * Brings `rec.state` up to date: a running/paused/stopping container whose init process is gone becomes
 * `exited`, with the code from exit.json (waiting briefly while a live waiter is still writing it).
 * Persists the change. Returns true when the state changed.
 */
export async function refreshState(root: string, rec: ContainerRecord): Promise<boolean> {
  const s = rec.state;
  if (s.status !== "running" && s.status !== "paused" && s.status !== "stopping") return false;
  if (s.pid > 0 && processAlive(s.pid, s.pidStart)) return false;
  let exit = await readExitRecord(root, rec.config.id);
  const waiterAlive = () =>
    !!s.waiterPid && s.waiterPid !== Deno.pid &&
    (s.waiterStart === undefined ? pidAlive(s.waiterPid) : processAlive(s.waiterPid, s.waiterStart));
  if (!exit && waiterAlive()) {
    for (let i = 0; i < 50 && !exit && waiterAlive(); i++) {
      await new Promise((r) => setTimeout(r, 10));
      exit = await readExitRecord(root, rec.config.id);
    }
    // the foreground waiter records the state itself
    const fresh = await readJsonIfExists<ContainerState>(containerPaths(root, rec.config.id).state);
    if (fresh && fresh.status === "exited") {
      rec.state = fresh;
      return true;
    }
    // a detached container's supervisor (a waiter with a known start) writes the exit record: no guess meanwhile
    if (!exit && s.waiterStart !== undefined && waiterAlive()) return false;
  }
  // the waiter may have written the record and ended since it was last looked for
  exit ??= await readExitRecord(root, rec.config.id);
  rec.state = {
    ...s,
    status: "exited",
    pid: 0,
    pidStart: undefined,
    exitCode: exit?.exitCode ?? (s.exitCode || 137),
    finishedAt: exit?.finishedAt ?? nowNano(),
  };
  try {
    await writeState(root, rec.config.id, rec.state);
  } catch (e) {
    debug(`cannot record the exit of ${rec.config.id}: ${e instanceof Error ? e.message : e}`);
  }
  return true;
}

/** Renames a container (atomic claim of the new name, then the old link goes). */
export async function renameContainer(root: string, id: string, newName: string): Promise<void> {
  validateName(newName);
  const p = storePaths(root);
  await withLock(p.lock, async () => {
    const config = await readJsonIfExists<ContainerConfig>(containerPaths(root, id).config);
    if (!config) throw new NotFoundError(`no container with name or ID "${id}" found: no such container`);
    const names = await containerNames(root);
    const old = names.get(id) ?? config.name;
    if (old === newName) return;
    try {
      await Deno.symlink(id, `${p.names}/${newName}`);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw nameInUse(newName, (await readNameLink(root, newName)) ?? "another container");
      }
      throw e;
    }
    config.name = newName;
    await writeJsonAtomic(containerPaths(root, id).config, config);
    await Deno.remove(`${p.names}/${old}`).catch(() => {});
  });
}

/**
 * Deletes a container's record: the name link first (so it disappears from listings at once), then the
 * directory. `removeTree` removes a rootfs the caller cannot delete directly (rootless subuid-owned files).
 */
export async function removeContainerRecord(
  root: string,
  id: string,
  removeTree?: (dir: string) => Promise<void>,
): Promise<void> {
  const names = await containerNames(root);
  const name = names.get(id);
  if (name) await Deno.remove(`${storePaths(root).names}/${name}`).catch(() => {});
  const dir = containerPaths(root, id).dir;
  try {
    await Deno.remove(dir, { recursive: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (!removeTree) throw e;
    await removeTree(dir);
  }
}

/** Ids of container directories that have no name link (incomplete creates or half-removed containers). */
export async function orphanContainerDirs(root: string): Promise<string[]> {
  const names = await containerNames(root);
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(storePaths(root).containers)) {
      if (e.isDirectory && /^[a-f0-9]{64}$/.test(e.name) && !names.has(e.name)) out.push(e.name);
    }
  } catch { /* no containers dir */ }
  return out;
}

/** Containers (id, name) created from the image with this id; `rmi` refuses to remove it while any exist. */
export async function containersUsingImage(
  root: string,
  imageId: string,
): Promise<{ id: string; name: string }[]> {
  const names = await containerNames(root);
  const out: { id: string; name: string }[] = [];
  for (const [id, name] of names) {
    const config = await readJsonIfExists<ContainerConfig>(containerPaths(root, id).config).catch(() =>
      undefined
    );
    if (config?.image.id === imageId) out.push({ id, name });
  }
  return out;
}
