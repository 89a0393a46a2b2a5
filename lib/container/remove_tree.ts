/**
 * Removing a directory tree whose files belong to subordinate ids (a rootless rootfs, image tree or volume),
 * which the user cannot remove from the host: `rm -rf` inside a user namespace that maps them. Its own file
 * so that lib/container/lifecycle.ts and lib/container/trees_gc.ts share it without importing each other.
 * @module
 */

import { PodError } from "../errors.ts";

/** Removes a tree holding files owned by subordinate ids (rootless rootfs) from inside a user namespace. */
export async function removeTreeUserns(dir: string, subids: boolean): Promise<void> {
  const { runInUserns } = await import("../ns/userns.ts");
  const target = { mapRootUser: true, subids } as const;
  const r = await runInUserns(target, ["rm", "-rf", "--", dir], { stdio: "quiet" });
  if (r.code !== 0) throw new PodError(`removing ${dir}: ${r.stderr}`);
}
