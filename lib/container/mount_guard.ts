/**
 * What `rm` does about a container mounted by `pod mount`: unmounts it (every count) first. Cheap when no
 * container of the store was ever mounted (one `stat`).
 * @module
 */

import { storePaths } from "../store/paths.ts";

/** Unmounts container `id` when `pod mount` mounted it. */
export async function unmountIfMounted(root: string, id: string): Promise<void> {
  try {
    await Deno.stat(`${storePaths(root).root}/container-mounts/mounts.json`);
  } catch {
    return;
  }
  const { unmountContainerId } = await import("./mount.ts");
  await unmountContainerId(root, id, true);
}
