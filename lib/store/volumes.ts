/**
 * Named and anonymous volumes: `$ROOT/volumes/<name>/_data`.
 * @module
 */

import { writeEvents } from "./events.ts";
import { PodError } from "../errors.ts";
import { storePaths } from "./paths.ts";
import { readJsonIfExists, writeJsonAtomic } from "./atomic.ts";

/** podman's rule for volume names. */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The data directory of a volume. */
export function volumeDataPath(root: string, name: string): string {
  return `${storePaths(root).volumes}/${name}/_data`;
}

/** Creates the volume (with its record) if missing; returns its data directory. */
export async function ensureVolume(root: string, name: string, anonymous = false): Promise<string> {
  if (!VOLUME_NAME_RE.test(name) || name.length > 253) {
    throw new PodError(`volume name "${name}" is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  }
  const data = volumeDataPath(root, name);
  await Deno.mkdir(storePaths(root).volumes, { recursive: true, mode: 0o700 });
  let made = false;
  try {
    await Deno.mkdir(`${storePaths(root).volumes}/${name}`, { mode: 0o700 });
    made = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  try {
    await Deno.mkdir(data, { mode: 0o755 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  if (made) {
    const rec: VolumeRecord = {
      name,
      driver: "local",
      created: new Date().toISOString(),
      labels: {},
      options: {},
      ...(anonymous ? { anonymous } : {}),
    };
    await writeVolume(root, rec);
    writeEvents(root, { Name: name, Status: "create", Type: "volume" });
  }
  return data;
}

/** A new anonymous volume (64-hex name, like podman's). */
export async function createAnonymousVolume(root: string): Promise<{ name: string; path: string }> {
  const b = crypto.getRandomValues(new Uint8Array(32));
  const name = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return { name, path: await ensureVolume(root, name, true) };
}

/** Removes a volume and its data (rootless data owned by subuids needs `removeTree`). */
export async function removeVolume(
  root: string,
  name: string,
  removeTree?: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = `${storePaths(root).volumes}/${name}`;
  try {
    await Deno.remove(dir, { recursive: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (!removeTree) throw e;
    await removeTree(dir);
  }
  writeEvents(root, { Name: name, Status: "remove", Type: "volume" });
}

/** What pod keeps about a volume beside its data: `$ROOT/volumes/<name>/volume.json`. */
export interface VolumeRecord {
  /** The volume's name. */
  name: string;
  /** Always `local`. */
  driver: string;
  /** Creation time, RFC 3339. */
  created: string;
  /** `--label` values. */
  labels: Record<string, string>;
  /** `-o` options (`type`, `o`, `device`), as given. */
  options: Record<string, string>;
  /** An anonymous volume (`-v /dst`, image VOLUMEs). */
  anonymous?: boolean;
  /** True once the image's content was copied into it (or it was not empty at first use). */
  copiedUp?: boolean;
}

/** The directory of a volume (its record and `_data`). */
export function volumeDir(root: string, name: string): string {
  return `${storePaths(root).volumes}/${name}`;
}

/** Throws podman's error when `name` is not a valid volume name. */
export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME_RE.test(name) || name.length > 253) {
    throw new PodError(
      `running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`,
      { code: "USAGE" },
    );
  }
}

/** Reads a volume's record; a volume made before records existed gets one from its directory's times. */
export async function readVolume(root: string, name: string): Promise<VolumeRecord | undefined> {
  if (!VOLUME_NAME_RE.test(name)) return undefined;
  const dir = volumeDir(root, name);
  try {
    const rec = JSON.parse(await Deno.readTextFile(`${dir}/volume.json`)) as VolumeRecord;
    return { ...rec, name };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) throw e;
  }
  const st = await Deno.stat(dir).catch(() => undefined);
  if (!st?.isDirectory) return undefined;
  const t = st.birthtime ?? st.mtime ?? new Date(0);
  return {
    name,
    driver: "local",
    created: t.toISOString(),
    labels: {},
    options: {},
    anonymous: /^[0-9a-f]{64}$/.test(name),
  };
}

/** Writes a volume's record (atomically). */
export async function writeVolume(root: string, rec: VolumeRecord): Promise<void> {
  await writeJsonAtomic(`${volumeDir(root, rec.name)}/volume.json`, rec, 0o600);
}

/**
 * Creates a volume with its record. Throws podman's `already exists` error (code `EXISTS`) when it exists,
 * unless `ignore`, which returns the existing record.
 */
export async function createVolume(
  root: string,
  o: { name: string; labels?: Record<string, string>; options?: Record<string, string>; ignore?: boolean },
): Promise<VolumeRecord> {
  checkVolumeName(o.name);
  await Deno.mkdir(storePaths(root).volumes, { recursive: true, mode: 0o700 });
  try {
    await Deno.mkdir(volumeDir(root, o.name), { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    const existing = await readVolume(root, o.name);
    if (o.ignore && existing) return existing;
    throw new PodError(`volume with name ${o.name} already exists: volume already exists`, {
      code: "EXISTS",
    });
  }
  const rec: VolumeRecord = {
    name: o.name,
    driver: "local",
    created: new Date().toISOString(),
    labels: o.labels ?? {},
    options: o.options ?? {},
  };
  try {
    await Deno.mkdir(`${volumeDir(root, o.name)}/_data`, { mode: 0o755 });
    await writeVolume(root, rec);
  } catch (e) {
    await Deno.remove(volumeDir(root, o.name), { recursive: true }).catch(() => {});
    throw e;
  }
  writeEvents(root, { Name: o.name, Status: "create", Type: "volume" });
  return rec;
}

/** Every volume's record, sorted by name. */
export async function listVolumeRecords(root: string): Promise<VolumeRecord[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(storePaths(root).volumes)) {
      if (e.isDirectory && VOLUME_NAME_RE.test(e.name)) names.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const recs = await Promise.all(names.map((n) => readVolume(root, n)));
  return recs.filter((r): r is VolumeRecord => r !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Whether the volume whose data dir is `dataDir` still waits for its copy-up (podman's NeedsCopyUp): its
 * record says it has not had one, and its data dir is empty.
 */
export async function copyUpPending(dataDir: string): Promise<boolean> {
  const recPath = `${dataDir.replace(/\/_data\/?$/, "")}/volume.json`;
  try {
    const rec = JSON.parse(await Deno.readTextFile(recPath)) as VolumeRecord;
    if (rec.copiedUp) return false;
  } catch { /* no record: an older volume; decide by its content */ }
  for await (const _ of Deno.readDir(dataDir)) return false;
  return true;
}

/** Records that the volume whose data dir is `dataDir` had its copy-up (no-op without a record). */
export async function markCopiedUp(dataDir: string): Promise<void> {
  const recPath = `${dataDir.replace(/\/_data\/?$/, "")}/volume.json`;
  const rec = await readJsonIfExists<VolumeRecord>(recPath);
  if (!rec || rec.copiedUp) return;
  await writeJsonAtomic(recPath, { ...rec, copiedUp: true }, 0o600);
}
