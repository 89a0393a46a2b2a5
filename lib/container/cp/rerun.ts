/**
 * `pod cp` re-running itself inside a container's namespaces: a rootless container whose files are owned by
 * subordinate ids is copied from inside a user namespace with its own id maps (as the mapped root, so ids
 * are the container's ids), an overlay container from a mount namespace where its root exists. The
 * environment tells the re-run where it is and whose files it makes.
 * @module
 */

import { toContainer, toHost } from "../../ns/idmap.ts";
import type { IdMapping } from "../../ns/spec.ts";
import type { ContainerRecord } from "../../store/containers.ts";

/** Set in the environment of the `cp` pod re-runs inside a container's user namespace. */
export const USERNS_ENV = "POD_CP_IN_USERNS";

/**
 * Set in the environment of a re-run `cp` of an overlay container: `overlay:<mnt ns>` (mount the overlay on
 * the rootfs first, in the private mount namespace the process is in, never the caller's `<mnt ns>`) or
 * `proc:<pid>:<start>` (the running container's root, `/proc/<pid>/root`, of the process with that start time).
 */
export const ROOT_ENV = "POD_CP_ROOT";

/** Set with {@link USERNS_ENV}: the caller's ids as the container sees them (`uid:gid`), owner of copies out. */
export const OWNER_ENV = "POD_CP_OWNER";

const myUid = (): number => Deno.uid() ?? 0;
const myGid = (): number => Deno.gid() ?? 0;

/** The owner of files copied out of a container: the caller (as the container's user namespace sees it). */
export function callerIds(): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(Deno.env.get(OWNER_ENV) ?? "");
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : { uid: myUid(), gid: myGid() };
}

/** The command line that runs this pod again (`deno run … cli.ts`, or the compiled binary). */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  const main = new URL(Deno.mainModule);
  if (/\/deno$/.test(exe) && main.protocol === "file:") {
    return [exe, "run", "-A", "-q", "--no-config", decodeURIComponent(main.pathname)];
  }
  return [exe];
}

/** True when this copy must run inside the container's user namespace (rootless with subordinate ids). */
export function needsUserns(rec: ContainerRecord): boolean {
  if (Deno.env.get(USERNS_ENV) || myUid() === 0) return false;
  return rec.config.userns.mode !== "host" && (rec.config.userns.uidMap?.length ?? 0) > 1;
}

/** Environment of a re-run `cp` in the container's user namespace (rootless). */
export function usernsEnv(rec: ContainerRecord): Record<string, string> {
  const u = rec.config.userns;
  const uid = toContainer(u.uidMap ?? [], myUid()) ?? 65534;
  const gid = toContainer(u.gidMap ?? [], myGid()) ?? 65534;
  return { [USERNS_ENV]: "1", [OWNER_ENV]: `${uid}:${gid}` };
}

/** Container-side id translation (root with a user-namespaced container, rootless with one id). */
export interface IdTranslation {
  /** Host ids of container ids. */
  toHost(uid: number, gid: number): { uid: number; gid: number };
  /** Container ids of host ids. */
  toContainer(uid: number, gid: number): { uid: number; gid: number };
}

/** The id translation of a copy of `rec`'s files (none inside its user namespace). */
export function idTranslation(rec: ContainerRecord): IdTranslation {
  const u = rec.config.userns;
  if (u.mode === "host" || !u.uidMap?.length || !u.gidMap?.length || Deno.env.get(USERNS_ENV)) {
    return { toHost: (uid, gid) => ({ uid, gid }), toContainer: (uid, gid) => ({ uid, gid }) };
  }
  const um = u.uidMap as IdMapping[], gm = u.gidMap as IdMapping[];
  return {
    toHost: (uid, gid) => ({ uid: toHost(um, uid) ?? myUid(), gid: toHost(gm, gid) ?? myGid() }),
    toContainer: (uid, gid) => ({ uid: toContainer(um, uid) ?? 65534, gid: toContainer(gm, gid) ?? 65534 }),
  };
}
