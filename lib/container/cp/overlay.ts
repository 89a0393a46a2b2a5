/**
 * `pod cp` of an overlay container (`config.storage`), whose merged root exists only in a mount namespace.
 * A running one is reached through `/proc/<pid>/root`: directly as root, rootless from inside its own user
 * namespace. A stopped one: pod re-runs the `cp` in a private mount namespace of its own (rootless also in a
 * new user namespace with the container's maps) that mounts the overlay (image tree + the container's upper
 * dir) on `rootfs/` first, holding the container's lock so no start mounts it meanwhile; a never-started one
 * gets its image tree built by stage 2 first.
 * @module
 */

import { PodError } from "../../errors.ts";
import { runHostTool, runInUserns } from "../../ns/userns.ts";
import {
  containerPaths,
  type ContainerRecord,
  procStartTime,
  readContainer,
  withContainerLock,
} from "../../store/containers.ts";
import { ensureTreesDir, treePath } from "../../store/trees.ts";
import { lstatOrNull } from "./paths.ts";
import { procRoot } from "./proc_root.ts";
import { OWNER_ENV, ROOT_ENV, selfCommand, usernsEnv } from "./rerun.ts";

/** The running container's init process (pid and start time) while it lives, else undefined. */
function liveInit(rec: ContainerRecord): { pid: number; start: number } | undefined {
  const s = rec.state;
  if (s.status !== "running" && s.status !== "paused" && s.status !== "stopping") return undefined;
  // pods3: a pod's infra holder runs in no root of its own (lib/ns/holder.ts): its overlay, as when stopped
  if (rec.config.isInfraHolder) return undefined;
  const start = procStartTime(s.pid);
  if (start === undefined || (s.pidStart !== undefined && start !== s.pidStart)) return undefined;
  return { pid: s.pid, start };
}

/** {@link ROOT_ENV} for a re-run that mounts the overlay: names this (the caller's) mount namespace. */
function overlayMode(): string {
  return `overlay:${Deno.readLinkSync("/proc/self/ns/mnt")}`;
}

/**
 * An overlay container's copy: through `/proc/<pid>/root` while it runs; stopped, in a private mount
 * namespace that mounts its overlay (holding its lock, so no start mounts the same upper dir meanwhile).
 * `copy` copies against a root path in this process; otherwise this `cp` is run again where the root is.
 */
export async function copyOverlay(
  root: string,
  id: string,
  copy: (base: string) => Promise<number>,
): Promise<number> {
  const argv = [...selfCommand(), ...Deno.args];
  const running = async (rec: ContainerRecord, init: { pid: number; start: number }) => {
    if (Deno.uid() === 0 || rec.config.userns.mode === "host") {
      return await copy(procRoot(init.pid, init.start));
    }
    // rootless: in the container's own user namespace (the host's mount namespace stays), as its root; with
    // keep-id as the user's own id there, keeping the capabilities (setpriv: ambient), so files on the host
    // are reached as the user's own
    const env: Record<string, string> = { ...usernsEnv(rec), [ROOT_ENV]: `proc:${init.pid}:${init.start}` };
    const [uid, gid] = env[OWNER_ENV].split(":");
    const asUser = uid === "0" && gid === "0" ? [] : [
      "setpriv",
      `--reuid=${uid}`,
      `--regid=${gid}`,
      "--clear-groups",
      "--inh-caps=+all",
      "--ambient-caps=+all",
      "--",
    ];
    return (await runInUserns({ join: init.pid }, [...asUser, ...argv], { env })).code;
  };
  const first = await readContainer(root, id);
  const init = liveInit(first);
  if (init) return await running(first, init);
  return await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    const again = liveInit(rec);
    if (again) return await running(rec, again); // started meanwhile
    await ensureTree(root, rec);
    if (Deno.uid() === 0 || rec.config.userns.mode === "host") {
      const args = ["--mount", "--propagation", "private", "--", ...argv];
      return (await runHostTool("unshare", args, { env: { [ROOT_ENV]: overlayMode() } })).code;
    }
    const u = rec.config.userns;
    const target = { maps: { uidMap: u.uidMap!, gidMap: u.gidMap! }, syncDir: `${rec.dir}/run`, mount: true };
    return (await runInUserns(target, argv, { env: { ...usernsEnv(rec), [ROOT_ENV]: overlayMode() } })).code;
  });
}

/**
 * A never-started overlay container whose image tree does not exist yet: stage 2 builds it (in the
 * container's user namespace when rootless, so its files get the container's ids) and exits.
 */
export async function ensureTree(root: string, rec: ContainerRecord): Promise<void> {
  const c = rec.config;
  const lower = treePath(root, c.storage!.tree);
  if (lstatOrNull(lower)?.isDirectory) return;
  const [{ launch }, { baseSpec }] = await Promise.all([
    import("../../ns/launch.ts"),
    import("../launch_spec.ts"),
  ]);
  const cp = containerPaths(root, c.id);
  await Deno.mkdir(`${cp.dir}/run`, { recursive: true, mode: 0o700 });
  await ensureTreesDir(root);
  const spec = {
    ...baseSpec(root, c),
    overlay: { lower, upper: cp.upper, work: cp.work },
    prepare: { layers: c.layers },
  };
  const r = await launch(spec, { mode: "foreground", tty: false, stdin: false });
  if (r.exitCode !== 0 || !lstatOrNull(lower)?.isDirectory) {
    throw new PodError(
      `the image of container ${c.name} could not be prepared for copying: start the container once and retry`,
    );
  }
}

/**
 * In a re-run `cp` of an overlay container: the root to copy against. `overlay:…`: this process is in a
 * private mount namespace (its own, never the host's): the container's upper and work dirs are made when
 * missing (never started) and the overlay is mounted on its rootfs. `proc:<pid>:<start>`: the running
 * container's root, checked to still be that process's.
 */
export async function overlayBaseHere(root: string, rec: ContainerRecord, mode: string): Promise<string> {
  const m = /^proc:([1-9][0-9]*):([0-9]+)$/.exec(mode);
  if (m) return procRoot(Number(m[1]), Number(m[2]));
  if (!mode.startsWith("overlay:") || !rec.config.storage) {
    throw new PodError(`invalid ${ROOT_ENV} "${mode}"`);
  }
  if (Deno.readLinkSync("/proc/self/ns/mnt") === mode.slice("overlay:".length)) {
    throw new PodError("refusing to mount a container's root in the caller's mount namespace");
  }
  const dirs = prepareOverlayDirs(root, rec);
  const cp = containerPaths(root, rec.config.id);
  const { mountOverlay } = await import("../../ns/mounts.ts");
  try {
    mountOverlay(cp.rootfs, dirs, rec.config.userns.mode !== "host");
  } catch (e) {
    throw new PodError(`mounting the root of ${rec.config.name}: ${e instanceof Error ? e.message : e}`);
  }
  return Deno.realPathSync(cp.rootfs);
}

/**
 * The overlay directories of container `rec` (its image tree must exist): the upper dir made like stage 2's
 * first start when missing, `work` (or `workDir`) and `rootfs/` made when missing.
 */
export function prepareOverlayDirs(
  root: string,
  rec: ContainerRecord,
  workDir?: string,
): { lower: string; upper: string; work: string } {
  const cp = containerPaths(root, rec.config.id);
  const dirs = { lower: treePath(root, rec.config.storage!.tree), upper: cp.upper, work: workDir ?? cp.work };
  const lowerInfo = lstatOrNull(dirs.lower);
  if (!lowerInfo?.isDirectory) {
    throw new PodError(`the image tree of container ${rec.config.name} is missing: start the container once`);
  }
  if (!lstatOrNull(dirs.upper)) {
    // like stage 2's first start: the upper dir takes the owner and mode of the tree's root
    const tmp = `${dirs.upper}.new`;
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* none left over */ }
    Deno.mkdirSync(tmp, { mode: 0o700 });
    Deno.chownSync(tmp, lowerInfo.uid, lowerInfo.gid);
    Deno.chmodSync(tmp, (lowerInfo.mode ?? 0o755) & 0o7777);
    Deno.renameSync(tmp, dirs.upper);
  }
  for (const [dir, mode] of [[dirs.work, 0o700], [cp.rootfs, 0o755]] as const) {
    try {
      Deno.mkdirSync(dir, { mode });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  return dirs;
}
