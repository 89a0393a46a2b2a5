/**
 * The name index of containers: `containers/names/<name>` symlinks → id. Claiming a name is `Deno.symlink`,
 * atomic, so of two creates (or renames) with the same name exactly one wins. Looking a container up by
 * name, full id or unique id prefix goes through it too.
 * @module
 */

import { NotFoundError, PodError } from "../errors.ts";
import { readJsonIfExists, writeJsonAtomic } from "./atomic.ts";
import { containerPaths } from "./container_paths.ts";
import type { ContainerConfig } from "./container_types.ts";
import { withLock } from "./lock.ts";
import { storePaths } from "./paths.ts";

/** podman's rule for container names. */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Longest name accepted (a name is a file name in the store). */
export const MAX_NAME_LENGTH = 253;

/** Throws podman's error for a name that does not match its rule. */
export function validateName(name: string): void {
  if (!NAME_RE.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new PodError(
      `running container create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`,
    );
  }
}

/** podman's error for a container name another container has. */
export function nameInUse(name: string, id: string): PodError {
  return new PodError(
    `the container name "${name}" is already in use by ${id}. You have to remove that container to be able ` +
      `to reuse that name: that name is already in use`,
    { code: "EXISTS" },
  );
}

/** Reads the id a name link points to (undefined: no such name). */
// deno-lint-ignore require-await -- async for its callers
export async function readNameLink(root: string, name: string): Promise<string | undefined> {
  if (!NAME_RE.test(name)) return undefined;
  try {
    return Deno.readLinkSync(`${storePaths(root).names}/${name}`); // sync: no trip through the thread pool
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
