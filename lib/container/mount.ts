/**
 * `mount` / `umount` of containers (root): a container's root file system (its image tree as the lower dir,
 * its own upper dir) mounted read-write on the host at `$ROOT/container-mounts/<id>`, counted as podman counts
 * them (each mount adds one, each unmount takes one, the mount goes at 0 or at once with `force`). The host
 * mount has a work dir of its own (`work-mount/`), so a `start` of the mounted container (which mounts the
 * same upper dir in its own mount namespace) is not refused. `rm` unmounts a mounted container first.
 * Counts live in `$ROOT/container-mounts/mounts.json`, changed under the store lock; a count whose mount
 * vanished (a reboot) is forgotten when read.
 * @module
 */

import { PodError } from "../errors.ts";
import { withLock } from "../store/lock.ts";
import { writeContainerEvents } from "../store/events.ts";
import { storePaths } from "../store/paths.ts";
import {
  containerPaths,
  listContainers,
  lookupContainerId,
  readContainer,
  withContainerLock,
} from "../store/containers.ts";
import { mountPoints } from "../ns/mountinfo.ts";

/** A mounted container, as `mount` lists it. */
export interface ContainerMount {
  /** Container ID. */
  id: string;
  /** Container name. */
  name: string;
  /** Where its root is mounted. */
  path: string;
  /** How many mounts are outstanding. */
  count: number;
}

type Counts = Record<string, number>;

function mountsDir(root: string): string {
  return `${storePaths(root).root}/container-mounts`;
}

/** The mount point of container `id`. */
export function containerMountPath(root: string, id: string): string {
  if (!/^[a-f0-9]{64}$/.test(id)) throw new Error(`invalid container id "${id}"`);
  return `${mountsDir(root)}/${id}`;
}

async function liveCounts(root: string): Promise<Counts> {
  let c: Counts = {};
  try {
    const j = JSON.parse(await Deno.readTextFile(`${mountsDir(root)}/mounts.json`));
    if (j && typeof j === "object") c = j;
  } catch { /* none yet */ }
  const mps = await mountPoints();
  const out: Counts = {};
  for (const [id, n] of Object.entries(c)) {
    if (n > 0 && /^[a-f0-9]{64}$/.test(id) && mps.has(containerMountPath(root, id))) out[id] = n;
  }
  return out;
}

async function writeCounts(root: string, c: Counts): Promise<void> {
  const file = `${mountsDir(root)}/mounts.json`;
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(c));
  await Deno.rename(`${file}.tmp`, file);
}

async function umountPath(path: string): Promise<void> {
  const o = await new Deno.Command("umount", { args: [path], stdout: "null", stderr: "piped", stdin: "null" })
    .output();
  if (!o.success) {
    throw new PodError(
      `umount: ${new TextDecoder().decode(o.stderr).trim().split("\n")[0] || `exited ${o.code}`}`,
    );
  }
  await Deno.remove(path).catch(() => {});
}

/** Mounts container `nameOrId`'s root (root only) and returns where; a mounted one's count goes up by one. */
export async function mountContainer(root: string, nameOrId: string): Promise<ContainerMount> {
  const id = await lookupContainerId(root, nameOrId);
  const first = await readContainer(root, id);
  if (!first.config.storage) {
    // a container with its own copied root (vfs): that directory is its root file system
    return { id, name: first.config.name, path: containerPaths(root, id).rootfs, count: 1 };
  }
  const { ensureTree, prepareOverlayDirs } = await import("./cp/overlay.ts");
  return await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    await ensureTree(root, rec);
    return await withLock(storePaths(root).lock, async () => {
      await Deno.mkdir(mountsDir(root), { recursive: true, mode: 0o700 });
      const counts = await liveCounts(root);
      const path = containerMountPath(root, id);
      if (!counts[id]) {
        const dirs = prepareOverlayDirs(root, rec, `${containerPaths(root, id).dir}/work-mount`);
        await Deno.mkdir(path, { recursive: true, mode: 0o755 });
        const { mountOverlay } = await import("../ns/mounts.ts");
        try {
          mountOverlay(path, dirs, rec.config.userns.mode !== "host");
        } catch (e) {
          await Deno.remove(path).catch(() => {});
          throw new PodError(
            `mounting the root of ${rec.config.name}: ${e instanceof Error ? e.message : e}`,
          );
        }
      }
      counts[id] = (counts[id] ?? 0) + 1;
      await writeCounts(root, counts);
      writeContainerEvents(root, rec, ["mount"]);
      return { id, name: rec.config.name, path, count: counts[id] };
    });
  });
}

/** Takes one mount of container `id` back (all with `force`); unmounts at 0. True when it was mounted. */
export async function unmountContainerId(root: string, id: string, force = false): Promise<boolean> {
  return await withLock(storePaths(root).lock, async () => {
    const counts = await liveCounts(root);
    const n = counts[id];
    if (!n) return false;
    if (n > 1 && !force) counts[id] = n - 1;
    else {
      await umountPath(containerMountPath(root, id));
      delete counts[id];
    }
    await writeCounts(root, counts);
    return true;
  });
}

/** {@link unmountContainerId} by name or ID; resolves to the container's ID. */
export async function unmountContainer(root: string, nameOrId: string, force = false): Promise<string> {
  const id = await lookupContainerId(root, nameOrId);
  await unmountContainerId(root, id, force);
  const rec = await readContainer(root, id).catch(() => undefined);
  if (rec) writeContainerEvents(root, rec, ["unmount"]);
  return id;
}

/** The mounted containers of the store at `root`. */
export async function mountedContainers(root: string): Promise<ContainerMount[]> {
  const counts = await liveCounts(root);
  if (!Object.keys(counts).length) return [];
  return (await listContainers(root)).filter((r) => counts[r.config.id]).map((r) => ({
    id: r.config.id,
    name: r.config.name,
    path: containerMountPath(root, r.config.id),
    count: counts[r.config.id],
  }));
}
