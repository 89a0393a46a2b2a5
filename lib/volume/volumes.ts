/**
 * Volume use cases: create, list, inspect, remove, prune (`pod volume …`). Records live in lib/store/volumes.ts;
 * removing a container that uses a volume (`volume rm -f`) is the caller's (lib/container may import this
 * folder, not the other way round).
 * @module
 */

import { NotFoundError, PodError, UsageError } from "../errors.ts";
import { listContainers } from "../store/containers.ts";
import {
  createVolume,
  listVolumeRecords,
  readVolume,
  removeVolume,
  volumeDataPath,
  type VolumeRecord,
} from "../store/volumes.ts";
import type { VolumeFilter } from "./filters.ts";

/** `volume create` options. */
export interface CreateVolumeOptions {
  /** Name; a 64-hex name is generated without it. */
  name?: string;
  /** `-d`: only `local`. */
  driver?: string;
  /** `--label k=v`. */
  labels?: Record<string, string>;
  /** `-o k=v`: `type`, `o`, `device`. */
  options?: Record<string, string>;
  /** `--ignore`: an existing volume of that name is no error. */
  ignore?: boolean;
}

/** The `-o` keys pod implements: `type=tmpfs` (with `o=size=…`), `o=bind,device=DIR`. */
const OPTION_KEYS = ["type", "o", "device"];

/** Checks `-o` options; throws podman's error for ones pod cannot honour. */
export async function checkVolumeOptions(options: Record<string, string>): Promise<void> {
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.includes(k)) {
      throw new UsageError(`invalid mount option ${k} for driver 'local': invalid argument`);
    }
  }
  const type = options.type;
  const o = (options.o ?? "").split(",").filter(Boolean);
  const bind = o.includes("bind") || o.includes("rbind") || type === "bind";
  if (bind) {
    if (!options.device) throw new UsageError(`a bind volume needs -o device=DIR: invalid argument`);
    if (!options.device.startsWith("/")) {
      throw new UsageError(`device ${options.device} must be an absolute path: invalid argument`);
    }
    const st = await Deno.stat(options.device).catch(() => undefined);
    if (!st) throw new PodError(`${options.device}: no such file or directory`, { code: "NOT_FOUND" });
  } else if (type && type !== "tmpfs") {
    throw new UsageError(
      `volume type ${type} is not supported by pod (supported: -o type=tmpfs, -o o=bind -o device=DIR)`,
    );
  } else if (!type && options.device) {
    throw new UsageError(`-o device needs -o type=tmpfs or -o o=bind: invalid argument`);
  }
}

/** Creates a volume (`volume create`). */
export async function createNamedVolume(root: string, o: CreateVolumeOptions): Promise<VolumeRecord> {
  const driver = o.driver ?? "local";
  if (driver !== "local") {
    throw new PodError(`volume plugin ${driver} (driver) not found: no such volume plugin`, {
      code: "NOT_FOUND",
    });
  }
  await checkVolumeOptions(o.options ?? {});
  const name = o.name ??
    Array.from(crypto.getRandomValues(new Uint8Array(32)), (x) => x.toString(16).padStart(2, "0")).join("");
  return await createVolume(root, { name, labels: o.labels, options: o.options, ignore: o.ignore });
}

/** The containers (ids) that use each volume. */
export async function volumeUsers(root: string): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const c of await listContainers(root)) {
    for (const m of c.config.mounts) {
      if (m.type === "volume" && m.name) users.set(m.name, [...(users.get(m.name) ?? []), c.config.id]);
    }
  }
  return users;
}

/** A volume with the containers using it. */
export interface VolumeInfo {
  /** The stored record. */
  record: VolumeRecord;
  /** Ids of the containers using it. */
  users: string[];
  /** Its data directory. */
  mountpoint: string;
}

/** Every volume (optionally filtered), sorted by name. */
export async function listVolumes(root: string, filter?: VolumeFilter): Promise<VolumeInfo[]> {
  const [recs, users] = await Promise.all([listVolumeRecords(root), volumeUsers(root)]);
  return recs.map((record) => ({
    record,
    users: users.get(record.name) ?? [],
    mountpoint: volumeDataPath(root, record.name),
  })).filter((v) =>
    !filter || filter({
      name: v.record.name,
      driver: v.record.driver,
      labels: v.record.labels,
      options: v.record.options,
      created: new Date(v.record.created),
      users: v.users.length,
    })
  );
}

/** One volume; throws podman's `no such volume` (exit 125) when missing. */
export async function getVolume(root: string, name: string): Promise<VolumeInfo> {
  const record = await readVolume(root, name);
  if (!record) throw new NotFoundError(`no such volume ${name}`);
  const users = (await volumeUsers(root)).get(name) ?? [];
  return { record, users, mountpoint: volumeDataPath(root, name) };
}

/** True when the volume exists. */
export async function volumeExists(root: string, name: string): Promise<boolean> {
  return (await readVolume(root, name)) !== undefined;
}

/** podman's `volume inspect` object. */
export function inspectVolume(v: VolumeInfo): Record<string, unknown> {
  const r = v.record;
  return {
    Name: r.name,
    Driver: r.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: r.created,
    Labels: r.labels,
    Scope: "local",
    Options: r.options,
    MountCount: 0,
    NeedsCopyUp: !r.copiedUp,
    NeedsChown: !r.copiedUp,
    ...(r.anonymous ? { Anonymous: true } : {}),
  };
}

/** Exit codes of `volume rm`, as podman's man page lists them. */
export const VolumeRmExit = { NotFound: 1, InUse: 2 } as const;

/** podman's refusal to remove a volume a container uses (exit 2). */
export function inUseError(name: string, users: string[]): PodError {
  return new PodError(
    `volume ${name} is being used by the following container(s): ${users.join(",")}: volume is being used`,
    { code: "IN_USE", exitCode: VolumeRmExit.InUse },
  );
}

/**
 * Removes one volume: missing → `no volume with name "X" found: no such volume` (exit 1); used by a container →
 * {@link inUseError} (exit 2). `removeTree` removes data the user cannot (rootless, subordinate-id owners).
 */
export async function removeOneVolume(
  root: string,
  name: string,
  removeTree?: (dir: string) => Promise<void>,
): Promise<void> {
  const rec = await readVolume(root, name);
  if (!rec) {
    throw new PodError(`no volume with name "${name}" found: no such volume`, {
      code: "NOT_FOUND",
      exitCode: VolumeRmExit.NotFound,
    });
  }
  const users = (await volumeUsers(root)).get(name) ?? [];
  if (users.length) throw inUseError(name, users);
  await removeVolume(root, name, removeTree ?? defaultRemoveTree);
}

/** Removes a tree with subordinate-id owners inside the rootless user's namespace (root: never needed). */
export async function defaultRemoveTree(dir: string): Promise<void> {
  if (Deno.uid() === 0) throw new PodError(`removing ${dir} failed`);
  const { runInUserns } = await import("../ns/userns.ts");
  const r = await runInUserns({ mapRootUser: true, subids: true }, ["rm", "-rf", "--", dir], {
    stdio: "quiet",
  });
  if (r.code !== 0) throw new PodError(`removing ${dir}: ${r.stderr}`);
}

/** Removes every volume no container uses that matches `filter`; returns their names. */
export async function pruneVolumeList(root: string, filter?: VolumeFilter): Promise<VolumeInfo[]> {
  return (await listVolumes(root, filter)).filter((v) => v.users.length === 0);
}

/** The `dangling` volumes of `list` removed; names of those removed (failures are reported via `onError`). */
export async function pruneVolumes(
  root: string,
  list: VolumeInfo[],
  onError?: (name: string, e: unknown) => void,
): Promise<string[]> {
  const done: string[] = [];
  for (const v of list) {
    try {
      await removeOneVolume(root, v.record.name);
      done.push(v.record.name);
    } catch (e) {
      onError?.(v.record.name, e);
    }
  }
  return done;
}
