/**
 * A running container's root seen through procfs (`/proc/<pid>/root`) as the base of a copy, and the checks
 * that keep a copy inside it: the process must still be the container's init (same start time), and every
 * directory walked must still be reached through real directories. That base is never canonicalized
 * (realpath would turn the magic link into `/`): paths are resolved under it as a string.
 * @module
 */

import { PodError } from "../../errors.ts";
import { resolveInRoot } from "../../unpack/contain.ts";
import { procStartTime } from "../../store/containers.ts";

/** True for a running container's root seen through procfs (`/proc/<pid>/root`). */
export function isProcRoot(dir: string): boolean {
  return /^\/proc\/[1-9][0-9]*\/root$/.test(dir);
}

/** Start times of the processes whose `/proc/<pid>/root` this copy uses. */
const procRoots = new Map<number, number>();

/** The root of the running container whose init is `pid` (started at `start`), checked while copying. */
export function procRoot(pid: number, start: number): string {
  procRoots.set(pid, start);
  checkProcRoot(`/proc/${pid}/root`);
  return `/proc/${pid}/root`;
}

/**
 * Throws when `base` is a `/proc/<pid>/root` whose process is no longer the container's init (it ended, and
 * the pid could name another process, with another root). Checked before each entry copied.
 */
export function checkProcRoot(base: string): void {
  if (!isProcRoot(base)) return;
  const pid = Number(base.split("/")[2]);
  const start = procRoots.get(pid);
  if (start === undefined || procStartTime(pid) !== start) {
    throw new PodError("the container stopped while copying");
  }
}

/**
 * True when the directory `abs` (below the container root `base`) is still reached from `base` through real
 * directories only: resolving it again inside the root gives the same path. (Not `realpath`: a
 * `/proc/<pid>/root` base has no canonical host path.)
 */
export function stillInside(base: string, abs: string): boolean {
  if (abs === base) return true;
  if (!abs.startsWith(base + "/")) return false;
  try {
    return resolveInRoot(base, abs.slice(base.length + 1), { follow: true }) === abs;
  } catch {
    return false;
  }
}
