/**
 * Container records as a whole: creating one (directory assembled under a temp name, renamed into place, then
 * the name claimed), reading, looking up, listing and removing. This module is on the start-up hot path of
 * `ps`/`exec`/`stop`/`logs`: it imports nothing heavy.
 * @module
 */

import { NotFoundError } from "../errors.ts";
import { debug } from "../log.ts";
import { readJsonIfExists, tempName, writeJsonAtomic } from "./atomic.ts";
import { containerNames, lookupContainerId, nameInUse, readNameLink } from "./container_names.ts";
import { containerPaths } from "./container_paths.ts";
import { refreshState } from "./container_state.ts";
import {
  type ContainerConfig,
  type ContainerRecord,
  type ContainerState,
  ZERO_TIME,
} from "./container_types.ts";
import { storePaths } from "./paths.ts";

/** A new random 64-hex container id whose short form is not all digits (like docker/podman). */
export function newContainerId(): string {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(32));
    const id = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

/**
 * Stores a new container: assembles its directory under a temp name (with `populate` adding files such as
 * userdata), renames it into place and claims the name. `config.name` may be replaced by `nextName()` when
 * the name was generated and happens to be taken. Throws podman's "already in use" error otherwise.
 * `into`: the directory exists already, holding only an early detached start's run files (pods9,
 * lib/container/start_early.ts): the assembled entries are moved into it, `config.json` last (until then it
 * reads as no container, as the temp name does).
 */
export async function createContainerRecord(
  root: string,
  config: ContainerConfig,
  opts: { populate?: (tmpDir: string) => Promise<void>; nextName?: () => string; into?: boolean } = {},
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
    if (opts.into) {
      const names = [...Deno.readDirSync(tmp)].map((e) => e.name).filter((n) => n !== "config.json");
      for (const n of [...names, "config.json"]) await Deno.rename(`${tmp}/${n}`, `${dir}/${n}`);
      await Deno.remove(tmp);
    } else await Deno.rename(tmp, dir);
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
 * Reads a container's config and state, refreshed against the live process unless `refresh` is false (run6:
 * the foreground waiter recording the exit itself: a refresh would guess it, with a durable write, first).
 */
export async function readContainer(root: string, id: string, refresh = true): Promise<ContainerRecord> {
  const cp = containerPaths(root, id);
  const config = await readJsonIfExists<ContainerConfig>(cp.config);
  if (!config) throw new NotFoundError(`no container with name or ID "${id}" found: no such container`);
  const state = (await readJsonIfExists<ContainerState>(cp.state)) ??
    { status: "created", pid: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, exitCode: 0 };
  const rec = { config, state, dir: cp.dir };
  if (refresh) await refreshState(root, rec);
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
