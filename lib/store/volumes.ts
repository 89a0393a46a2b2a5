/**
 * Named and anonymous volumes: `$ROOT/volumes/<name>/_data`.
 * @module
 */

import { PodError } from "../errors.ts";
import { storePaths } from "./paths.ts";

/** podman's rule for volume names. */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The data directory of a volume. */
export function volumeDataPath(root: string, name: string): string {
  return `${storePaths(root).volumes}/${name}/_data`;
}

/** Creates the volume if missing; returns its data directory. */
export async function ensureVolume(root: string, name: string): Promise<string> {
  if (!VOLUME_NAME_RE.test(name) || name.length > 253) {
    throw new PodError(`volume name "${name}" is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  }
  const data = volumeDataPath(root, name);
  await Deno.mkdir(storePaths(root).volumes, { recursive: true, mode: 0o700 });
  try {
    await Deno.mkdir(`${storePaths(root).volumes}/${name}`, { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  try {
    await Deno.mkdir(data, { mode: 0o755 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  return data;
}

/** A new anonymous volume (64-hex name, like podman's). */
export async function createAnonymousVolume(root: string): Promise<{ name: string; path: string }> {
  const b = crypto.getRandomValues(new Uint8Array(32));
  const name = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return { name, path: await ensureVolume(root, name) };
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
}
