/**
 * `pod cp`: copying files between a container's root file system and the host (or a tar stream on
 * stdin/stdout), with podman's/docker's path rules (paths.ts).
 *
 * Containment: container paths are resolved inside the rootfs with chroot semantics, every write into a
 * container goes through the unpacker (tar_in.ts), and reads from a container walk the tree without
 * following symlinks below the source, checking that each directory is still inside the rootfs (tar_out.ts).
 *
 * Ownership: into a container, files become 0:0 inside (or keep their ids with `-a`); out of a container
 * they belong to the caller (or keep the container's ids with `-a`). A rootless container whose rootfs is
 * owned by subordinate ids is copied by a re-run of the same `cp` inside a user namespace with the
 * container's own id maps (rerun.ts); an overlay container where its root exists (overlay.ts).
 * @module
 */

import { PodError, UsageError } from "../../errors.ts";
import { runInUserns } from "../../ns/userns.ts";
import {
  containerPaths,
  lookupContainerId,
  readContainer,
  withContainerLock,
} from "../../store/containers.ts";
import type { ContainerRecord } from "../../store/containers.ts";
import { copyOverlay, overlayBaseHere } from "./overlay.ts";
import {
  baseName,
  contentsOnly,
  decideTarget,
  dirName,
  hostAbs,
  join,
  lstatOrNull,
  notInContainer,
  overwriteCheck,
  parseCpArg,
  resolveContainerPath,
  statOrNull,
} from "./paths.ts";
import {
  callerIds,
  type IdTranslation,
  idTranslation,
  needsUserns,
  ROOT_ENV,
  selfCommand,
  USERNS_ENV,
} from "./rerun.ts";
import { applyEntries, retarUnder } from "./tar_in.ts";
import { walkTree } from "./tar_out.ts";
import { resolveUserInRoot } from "../user.ts";

/** `cp` options. */
export interface CopyOptions {
  /** `-a`: keep uid/gid (into a container) / the container's ids (out of it). */
  archive?: boolean;
  /** `--overwrite`: allow replacing a directory by a non-directory and the reverse. */
  overwrite?: boolean;
  /** Tar input for `-` as the source (default stdin). */
  stdin?: ReadableStream<Uint8Array>;
  /** Tar output for `-` as the destination (default stdout). */
  stdout?: WritableStream<Uint8Array>;
}

/** Copies between a container and the host (or a tar stream). Resolves to the exit code. */
export async function copyPaths(
  root: string,
  src: string,
  dst: string,
  opts: CopyOptions = {},
): Promise<number> {
  const s = src === "-" ? { path: "-" } : parseCpArg(src);
  const d = dst === "-" ? { path: "-" } : parseCpArg(dst);
  if (s.container && d.container) throw new UsageError("copying between containers is not supported");
  if (!s.container && !d.container) {
    throw new UsageError("invalid arguments: one of SRC and DST must be a container path (CONTAINER:PATH)");
  }
  if (s.path === "-" && d.path === "-") throw new UsageError("SRC and DST cannot both be -");
  const name = (s.container ?? d.container)!;
  const id = await lookupContainerId(root, name);
  let rec = await readContainer(root, id);
  const cp = containerPaths(root, id);
  const copy = async (base: string) => {
    const ids = idTranslation(rec);
    if (d.container) await copyIn(base, rec, ids, s.path, d.path, opts);
    else await copyOut(base, rec, ids, s.path, d.path, opts);
    return 0;
  };
  const rootEnv = Deno.env.get(ROOT_ENV);
  if (rootEnv !== undefined) return await copy(await overlayBaseHere(root, rec, rootEnv)); // re-run
  if (rec.config.storage) return await copyOverlay(root, id, copy);
  if (!Deno.env.get(USERNS_ENV)) {
    const { ensureRootfs } = await import("../start.ts");
    await withContainerLock(root, id, async () => {
      rec = await readContainer(root, id);
      await ensureRootfs(root, rec);
    });
  }
  if (needsUserns(rec)) {
    const u = rec.config.userns;
    const target = { maps: { uidMap: u.uidMap!, gidMap: u.gidMap! }, syncDir: `${cp.dir}/run` };
    return (await runInUserns(target, [...selfCommand(), ...Deno.args], { env: { [USERNS_ENV]: "1" } })).code;
  }
  return await copy(Deno.realPathSync(cp.rootfs));
}

/**
 * podman's owner of files copied into a container (`--archive`, the default): the container's main user and
 * group (`--user`, else the image's), resolved in its root; root when it cannot be resolved.
 */
function mainUser(rootfs: string, rec: ContainerRecord): [number, number] {
  const spec = rec.config.process.user;
  if (!spec || spec === "0" || spec === "root" || spec === "0:0") return [0, 0];
  try {
    const u = resolveUserInRoot(rootfs, spec);
    return [u.uid, u.gid];
  } catch {
    return [0, 0];
  }
}

async function copyIn(
  rootfs: string,
  rec: ContainerRecord,
  ids: IdTranslation,
  src: string,
  dst: string,
  o: CopyOptions,
): Promise<void> {
  const cname = rec.config.name;
  const r = resolveContainerPath(rootfs, dst);
  const dstInfo = r.info && r.info.isSymlink ? statOrNull(r.host) : r.info;
  if (src === "-") {
    if (!dstInfo) throw notInContainer(dst, cname);
    if (!dstInfo.isDirectory) {
      throw new PodError(`destination "${dst}" must be a directory when copying from stdin`);
    }
    const input = o.stdin ?? Deno.stdin.readable;
    const main = mainUser(rootfs, rec);
    const owner = (uid: number, gid: number) =>
      o.archive ? ids.toHost(uid, gid) : ids.toHost(main[0], main[1]);
    await applyEntries(rootfs, retarUnder(input, r.rel, owner));
    return;
  }
  const abs = hostAbs(src);
  const st = statOrNull(abs);
  if (!st) throw new PodError(`"${src}": could not find the file on the host: no such file or directory`);
  const parent = !r.rel.includes("/") ? { isDirectory: true } : lstatOrNull(dirName(r.host));
  const t = decideTarget(
    st.isDirectory,
    contentsOnly(src),
    baseName(abs) || "root",
    dst,
    dstInfo,
    !!parent?.isDirectory,
  );
  const topRel = t.into ? join(r.rel, t.name) : r.rel;
  const main = mainUser(rootfs, rec);
  const owner = (f: Deno.FileInfo) =>
    o.archive ? ids.toHost(f.uid ?? 0, f.gid ?? 0) : ids.toHost(main[0], main[1]);
  if (t.merge) {
    for (const e of Deno.readDirSync(abs)) {
      const ex = lstatOrNull(`${r.host}/${e.name}`);
      const srcChild = statOrNull(`${abs}/${e.name}`);
      overwriteCheck(ex, !!srcChild?.isDirectory && !e.isSymlink, `${dst}/${e.name}`, !!o.overwrite);
    }
  } else if (t.into) {
    overwriteCheck(lstatOrNull(`${r.host}/${t.name}`), st.isDirectory, `${dst}/${t.name}`, !!o.overwrite);
  }
  if (topRel === "" && !t.merge) throw new PodError("cannot replace the container's root directory");
  await applyEntries(rootfs, walkTree(abs, topRel, st, { owner, skipTop: t.merge }));
}

async function copyOut(
  rootfs: string,
  rec: ContainerRecord,
  ids: IdTranslation,
  src: string,
  dst: string,
  o: CopyOptions,
): Promise<void> {
  const r = resolveContainerPath(rootfs, src);
  if (!r.info) throw notInContainer(src, rec.config.name);
  const st = r.info;
  const srcName = baseName(r.rel) || "root";
  const contents = contentsOnly(src) && st.isDirectory;
  if (dst === "-") {
    const owner = (f: Deno.FileInfo) => ids.toContainer(f.uid ?? 0, f.gid ?? 0);
    const { writeTar } = await import("../../unpack/tar_write.ts");
    const entries = walkTree(r.host, contents ? "" : srcName, st, {
      owner,
      within: rootfs,
      skipTop: contents,
    });
    const out = o.stdout ?? Deno.stdout.writable;
    await ReadableStream.from(writeTar(entries)).pipeTo(out, { preventClose: !o.stdout });
    return;
  }
  const abs = hostAbs(dst);
  const dstInfo = statOrNull(abs);
  const parent = statOrNull(dirName(abs));
  const t = decideTarget(st.isDirectory, contents, srcName, dst, dstInfo, !!parent?.isDirectory);
  const owner = (f: Deno.FileInfo) => o.archive ? ids.toContainer(f.uid ?? 0, f.gid ?? 0) : callerIds();
  let dir: string, name: string;
  if (t.into) {
    dir = abs;
    name = t.name;
    if (t.merge) {
      for (const e of Deno.readDirSync(r.host)) {
        overwriteCheck(statOrNull(`${abs}/${e.name}`), e.isDirectory, `${dst}/${e.name}`, !!o.overwrite);
      }
    } else overwriteCheck(lstatOrNull(`${abs}/${name}`), st.isDirectory, `${dst}/${name}`, !!o.overwrite);
  } else {
    dir = dirName(abs);
    name = baseName(abs);
    if (!name) throw new PodError(`cannot replace "${dst}"`);
  }
  await applyEntries(dir, walkTree(r.host, name, st, { owner, within: rootfs, skipTop: t.merge }));
}
