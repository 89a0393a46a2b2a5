/**
 * Pruning and disk usage: `container prune`, `image prune`, `system prune`, `system df` (the `[y/N]`
 * confirmation is the CLI's: lib/cli/prompt.ts). An overlay container's own bytes are its upper dir (its image tree is
 * shared); image trees nothing needs any more go with the containers and images pruned (lib/container/trees_gc.ts).
 * @module
 */

import { UsageError } from "../errors.ts";
import { debug } from "../log.ts";
import { type ContainerRecord, listContainers } from "../store/containers.ts";
import { storePaths } from "../store/paths.ts";

/** podman's prune filters: `label=k[=v]`, `label!=k[=v]`, `until=<time or duration>`. */
export interface PruneFilter {
  /** Returns true when the object with these labels and creation time matches every filter. */
  match(labels: Record<string, string>, created: Date): boolean;
}

/** Parses `--filter` values. */
export async function parsePruneFilters(values: string[]): Promise<PruneFilter> {
  const checks: ((labels: Record<string, string>, created: Date) => boolean)[] = [];
  for (const f of values) {
    const eq = f.indexOf("=");
    if (eq <= 0) throw new UsageError(`invalid filter "${f}": use key=value`);
    let key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    const neg = key.endsWith("!");
    if (neg) key = key.slice(0, -1);
    if (key === "label") {
      const i = value.indexOf("=");
      const k = i < 0 ? value : value.slice(0, i);
      const v = i < 0 ? undefined : value.slice(i + 1);
      const has = (l: Record<string, string>) => k in l && (v === undefined || l[k] === v);
      checks.push((l) => neg ? !has(l) : has(l));
    } else if (key === "until" && !neg) {
      const { parseInputTime } = await import("../format/units.ts");
      const t = parseInputTime(value, false);
      checks.push((_l, c) => c.getTime() < t.getTime());
    } else throw new UsageError(`invalid filter "${f}": supported are label, label! and until`);
  }
  return { match: (l, c) => checks.every((fn) => fn(l, c)) };
}

function notRunning(c: ContainerRecord): boolean {
  return c.state.status === "exited" || c.state.status === "created";
}

/** Bytes a container uses of its own: its upper dir (overlay) or its whole copy of the image (vfs). */
export function containerSize(c: ContainerRecord): Promise<number> {
  return diskUsage(c.config.storage ? `${c.dir}/upper` : `${c.dir}/rootfs`);
}

/** Removes the image trees no image and no container needs any more (never fails the prune). */
async function pruneUnusedTrees(root: string): Promise<void> {
  try {
    const { pruneTrees } = await import("./trees_gc.ts");
    const n = await pruneTrees(root);
    if (n) debug(`prune: removed ${n} image tree(s)`);
  } catch (e) {
    debug(`prune: image trees: ${e instanceof Error ? e.message : e}`);
  }
}

/** Removes every stopped (exited or created) container matching `filter`; returns the removed ids. */
export async function pruneContainers(
  root: string,
  filter?: PruneFilter,
): Promise<{ ids: string[]; bytes: number }> {
  const { removeById } = await import("./lifecycle.ts");
  const ids: string[] = [];
  let bytes = 0;
  for (const c of await listContainers(root)) {
    if (!notRunning(c)) continue;
    if (filter && !filter.match(c.config.labels ?? {}, new Date(c.config.created))) continue;
    const size = await containerSize(c);
    try {
      await removeById(root, c.config.id, {});
      ids.push(c.config.id);
      bytes += size;
    } catch (e) {
      debug(`prune: ${c.config.id}: ${e instanceof Error ? e.message : e}`);
    }
  }
  await pruneUnusedTrees(root);
  return { ids, bytes };
}

/**
 * Removes dangling images (no name), or with `all` every image no container uses, matching `filter`; then
 * collects unreferenced blobs. Returns the removed image ids and the bytes freed.
 */
export async function pruneImages(
  root: string,
  all: boolean,
  filter?: PruneFilter,
): Promise<{ ids: string[]; bytes: number }> {
  const { summarizeAll } = await import("../image/summary.ts");
  const { deleteImageEntries } = await import("../store/images.ts");
  const { collectGarbage } = await import("../store/gc.ts");
  const used = new Set((await listContainers(root)).map((c) => c.config.image.id));
  const ids: string[] = [];
  // build2: without -a only dangling images go (nameless, no child image), as podman; each round can leave
  // a parent dangling, so rounds repeat until one removes nothing
  const { parentIds } = await import("../image/intermediate.ts");
  const left = await summarizeAll(root).catch(() => [] as Awaited<ReturnType<typeof summarizeAll>>);
  for (let round = true; round;) {
    round = false;
    const parents = all
      ? new Set<string>()
      : parentIds(left.map((s) => ({ id: s.record.id, config: s.config })));
    for (const s of [...left]) {
      const img = s.record;
      if (used.has(img.id)) continue;
      if (!all && (img.names.length > 0 || parents.has(img.id))) continue;
      if (filter && !filter.match(s.config.config?.Labels ?? {}, s.created)) continue;
      await deleteImageEntries(root, img);
      const { writeEvents } = await import("../store/events.ts");
      writeEvents(
        root,
        ...img.names.map((n) => ({ ID: img.id, Name: n, Status: "untag", Type: "image" as const })),
        { ID: img.id, Status: "remove", Type: "image" },
      );
      ids.push(img.id);
      left.splice(left.indexOf(s), 1);
      round = !all;
    }
  }
  const gc = await collectGarbage(root).catch(() => ({ bytes: 0, removed: 0 }));
  await pruneUnusedTrees(root);
  return { ids, bytes: gc.bytes };
}

/** Named volumes, with whether a container uses them. */
export async function listVolumes(root: string): Promise<{ name: string; path: string; users: number }[]> {
  const users = new Map<string, number>();
  for (const c of await listContainers(root)) {
    for (const m of c.config.mounts) {
      if (m.type === "volume" && m.name) users.set(m.name, (users.get(m.name) ?? 0) + 1);
    }
  }
  const out: { name: string; path: string; users: number }[] = [];
  try {
    for await (const e of Deno.readDir(storePaths(root).volumes)) {
      if (e.isDirectory) {
        out.push({
          name: e.name,
          path: `${storePaths(root).volumes}/${e.name}`,
          users: users.get(e.name) ?? 0,
        });
      }
    }
  } catch { /* no volumes */ }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Removes every volume no container uses; returns the names and the bytes freed. */
export async function pruneVolumes(
  root: string,
  filter?: PruneFilter,
): Promise<{ names: string[]; bytes: number }> {
  const { readVolume, removeVolume } = await import("../store/volumes.ts");
  const { removeTreeUserns } = await import("./remove_tree.ts");
  const names: string[] = [];
  let bytes = 0;
  for (const v of await listVolumes(root)) {
    if (v.users > 0) continue;
    if (filter) {
      const rec = await readVolume(root, v.name);
      if (!filter.match(rec?.labels ?? {}, new Date(rec?.created ?? 0))) continue;
    }
    const size = await diskUsage(v.path);
    try {
      await removeVolume(root, v.name, (dir) => removeTreeUserns(dir, Deno.uid() !== 0));
      names.push(v.name);
      bytes += size;
    } catch (e) {
      debug(`prune: volume ${v.name}: ${e instanceof Error ? e.message : e}`);
    }
  }
  return { names, bytes };
}

/** Bytes used by a tree (files' sizes; unreadable parts are skipped; hardlinks counted once). */
export async function diskUsage(path: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (p: string): Promise<void> => {
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(p);
    } catch {
      return;
    }
    if (st.isDirectory) {
      try {
        for await (const e of Deno.readDir(p)) await walk(`${p}/${e.name}`);
      } catch { /* unreadable (subuid-owned) */ }
      return;
    }
    if ((st.nlink ?? 1) > 1) {
      const k = `${st.dev}:${st.ino}`;
      if (seen.has(k)) return;
      seen.add(k);
    }
    total += st.size;
  };
  await walk(path);
  return total;
}

/** One row of `system df`. */
export interface DfRow {
  /** `Images`, `Containers`, `Local Volumes`. */
  Type: string;
  /** Number of objects. */
  Total: number;
  /** Number in use (images used by a container, running containers, volumes used by a container). */
  Active: number;
  /** Bytes. */
  RawSize: number;
  /** Bytes that pruning would free. */
  RawReclaimable: number;
  /** Human size (podman's `Size`). */
  Size: string;
  /** Human reclaimable size with percentage (podman's `Reclaimable`). */
  Reclaimable: string;
}

/** Per-object details of `system df -v`. */
export interface DfDetails {
  /** Images. */
  images: {
    repository: string;
    tag: string;
    id: string;
    created: Date;
    size: number;
    shared: number;
    unique: number;
    containers: number;
  }[];
  /** Containers. */
  containers: {
    id: string;
    image: string;
    command: string;
    volumes: number;
    size: number;
    created: string;
    status: string;
    name: string;
  }[];
  /** Volumes. */
  volumes: { name: string; links: number; size: number }[];
}

/** Computes podman's `system df` rows and details. */
export async function systemDf(root: string): Promise<{ rows: DfRow[]; details: DfDetails }> {
  const [{ summarizeAll }, { humanSize }, { splitName }, { humanDuration }] = await Promise.all([
    import("../image/summary.ts"),
    import("../format/units.ts"),
    import("../store/images.ts"),
    import("../format/units.ts"),
  ]);
  const containers = await listContainers(root);
  const images = await summarizeAll(root).catch(() => []);
  const volumes = await listVolumes(root);
  const usedImages = new Map<string, number>();
  for (const c of containers) usedImages.set(c.config.image.id, (usedImages.get(c.config.image.id) ?? 0) + 1);

  // blob sizes, and how many images use each blob (shared vs unique)
  const blobUsers = new Map<string, number>();
  const blobSize = new Map<string, number>();
  for (const s of images) {
    const blobs = [
      [s.record.manifest.digest, s.record.manifest.size],
      [s.manifest.config.digest, s.manifest.config.size],
      ...s.manifest.layers.map((l) => [l.digest, l.size]),
    ] as [string, number][];
    for (const [d, n] of new Map(blobs)) {
      blobUsers.set(d, (blobUsers.get(d) ?? 0) + 1);
      blobSize.set(d, n);
    }
  }
  const imageDetails = images.map((s) => {
    let shared = 0, unique = 0;
    const seen = new Set<string>();
    for (
      const [d, n] of [
        [s.record.manifest.digest, s.record.manifest.size],
        [s.manifest.config.digest, s.manifest.config.size],
        ...s.manifest.layers.map((l) => [l.digest, l.size]),
      ] as [string, number][]
    ) {
      if (seen.has(d)) continue;
      seen.add(d);
      if ((blobUsers.get(d) ?? 0) > 1) shared += n;
      else unique += n;
    }
    const { repository, tag } = splitName(s.record.names[0]);
    return {
      repository,
      tag,
      id: s.record.id,
      created: s.created,
      size: s.size,
      shared,
      unique,
      containers: usedImages.get(s.record.id) ?? 0,
    };
  });
  const imagesSize = [...blobSize.values()].reduce((a, b) => a + b, 0);
  const activeImages = imageDetails.filter((i) => i.containers > 0);
  const keptBlobs = new Set<string>();
  for (const s of images) {
    if (!usedImages.has(s.record.id)) continue;
    keptBlobs.add(s.record.manifest.digest).add(s.manifest.config.digest);
    for (const l of s.manifest.layers) keptBlobs.add(l.digest);
  }
  const imagesReclaim = [...blobSize].filter(([d]) => !keptBlobs.has(d)).reduce((a, [, n]) => a + n, 0);

  const now = Date.now();
  const containerDetails = await Promise.all(containers.map(async (c) => ({
    id: c.config.id,
    image: c.config.image.ref ?? c.config.image.name,
    command: c.config.process.args.join(" "),
    volumes: c.config.mounts.filter((m) => m.type === "volume").length,
    size: await containerSize(c),
    created: `${humanDuration(now - new Date(c.config.created).getTime())} ago`,
    status: c.state.status,
    name: c.config.name,
  })));
  const running = (s: string) => s === "running" || s === "paused" || s === "stopping";
  const ctrSize = containerDetails.reduce((a, c) => a + c.size, 0);
  const ctrReclaim = containerDetails.filter((c) => !running(c.status)).reduce((a, c) => a + c.size, 0);

  const volumeDetails = await Promise.all(
    volumes.map(async (v) => ({ name: v.name, links: v.users, size: await diskUsage(v.path) })),
  );
  const volSize = volumeDetails.reduce((a, v) => a + v.size, 0);
  const volReclaim = volumeDetails.filter((v) => v.links === 0).reduce((a, v) => a + v.size, 0);

  const human = (n: number) => humanSize(n, 3).replace(" ", "");
  const row = (Type: string, Total: number, Active: number, size: number, reclaim: number): DfRow => ({
    Type,
    Total,
    Active,
    RawSize: size,
    RawReclaimable: reclaim,
    Size: human(size),
    Reclaimable: `${human(reclaim)} (${size > 0 ? Math.round((reclaim / size) * 100) : 0}%)`,
  });
  return {
    rows: [
      row("Images", images.length, activeImages.length, imagesSize, imagesReclaim),
      row(
        "Containers",
        containers.length,
        containers.filter((c) => running(c.state.status)).length,
        ctrSize,
        ctrReclaim,
      ),
      row("Local Volumes", volumes.length, volumes.filter((v) => v.users > 0).length, volSize, volReclaim),
    ],
    details: { images: imageDetails, containers: containerDetails, volumes: volumeDetails },
  };
}
