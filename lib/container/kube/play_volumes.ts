/**
 * `kube play`'s volumes (scope "pods", issue 15). The YAML is untrusted input, so every path it names is
 * checked here: a `hostPath` must be absolute and clean (no `..`, no NUL, no empty components) and exist
 * with the kind its `type` names (the `…OrCreate` types make it); a `persistentVolumeClaim` is a named
 * volume whose name follows the volume name rules; `configMap`/`secret` volumes are written into a named
 * volume, each key a file created exclusively (never through a symlink) at a path resolved inside the
 * volume by the containment resolver (lib/unpack/contain.ts); `emptyDir` is an anonymous volume (tmpfs
 * with `medium: Memory`).
 * @module
 */

import { PodError } from "../../errors.ts";
import { ensureVolume, VOLUME_NAME_RE } from "../../store/volumes.ts";
import { cleanName, resolveInRoot } from "../../unpack/contain.ts";
import type { MountRequest } from "../mount_options.ts";
import type { Volume, VolumeMount } from "./types.ts";

/** Where a pod volume comes from, once resolved. */
export type ResolvedKubeVolume =
  | { kind: "bind"; source: string }
  | { kind: "volume"; name: string }
  | { kind: "tmpfs" }
  | { kind: "anonymous" };

/** Data of ConfigMaps and Secrets by name (values as strings). */
export type KeyData = Map<string, Record<string, string>>;

const HOST_PATH_TYPES = [
  "",
  "DirectoryOrCreate",
  "Directory",
  "FileOrCreate",
  "File",
  "Socket",
  "CharDevice",
  "BlockDevice",
];

/** Checks a `hostPath` path: absolute, clean. Returns it normalized (no trailing `/`). */
export function checkHostPath(path: unknown, where: string): string {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new PodError(`${where}: hostPath.path must be an absolute path`);
  }
  if (path.includes("\0")) throw new PodError(`${where}: hostPath.path contains a NUL byte`);
  const parts = path.split("/").slice(1);
  if (parts.at(-1) === "") parts.pop();
  if (parts.some((p) => p === ".." || p === "." || p === "")) {
    throw new PodError(`${where}: hostPath.path "${path}" must be a clean path (no "..", "." or "//")`);
  }
  return "/" + parts.join("/");
}

async function checkHostPathType(path: string, type: string, where: string): Promise<void> {
  if (!HOST_PATH_TYPES.includes(type)) {
    throw new PodError(
      `${where}: hostPath.type "${type}" is not one of ${HOST_PATH_TYPES.slice(1).join(", ")}`,
    );
  }
  let st: Deno.FileInfo | undefined;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (!st) {
    if (type === "DirectoryOrCreate") return await Deno.mkdir(path, { recursive: true, mode: 0o755 });
    if (type === "FileOrCreate") {
      const parent = path.slice(0, path.lastIndexOf("/")) || "/";
      await Deno.mkdir(parent, { recursive: true, mode: 0o755 });
      const f = await Deno.open(path, { write: true, createNew: true, mode: 0o644 });
      f.close();
      return;
    }
    throw new PodError(`${where}: hostPath ${path} does not exist`, { code: "NOT_FOUND" });
  }
  const want: Record<string, [boolean, string]> = {
    Directory: [st.isDirectory, "a directory"],
    DirectoryOrCreate: [st.isDirectory, "a directory"],
    File: [st.isFile, "a file"],
    FileOrCreate: [st.isFile, "a file"],
    Socket: [!!st.isSocket, "a socket"],
    CharDevice: [!!st.isCharDevice, "a character device"],
    BlockDevice: [!!st.isBlockDevice, "a block device"],
  };
  const w = want[type];
  if (w && !w[0]) throw new PodError(`${where}: hostPath ${path} is not ${w[1]}`);
}

/**
 * Writes `data` (key → content) into volume `name`: one file per key, or per `items` entry (key → path).
 * Paths are resolved inside the volume; a file already there is replaced, never written through.
 */
export async function writeKeyVolume(
  root: string,
  name: string,
  data: Record<string, string>,
  items: { key: string; path: string }[] | undefined,
  where: string,
): Promise<void> {
  const dir = await ensureVolume(root, name);
  const files = items?.length ? items : Object.keys(data).map((key) => ({ key, path: key }));
  for (const { key, path } of files) {
    if (typeof key !== "string" || typeof path !== "string" || !(key in data)) {
      throw new PodError(`${where}: key "${key}" not found`);
    }
    let parts: string[];
    try {
      parts = cleanName(path, "path");
    } catch (e) {
      throw new PodError(`${where}: ${e instanceof Error ? e.message : e}`, { code: "CONTAINMENT" });
    }
    if (!parts.length || path.startsWith("/")) throw new PodError(`${where}: invalid path "${path}"`);
    const parent = parts.length > 1
      ? resolveInRoot(dir, parts.slice(0, -1).join("/"), { create: "dir", follow: true, dotdot: "refuse" })
      : dir;
    const file = `${parent}/${parts.at(-1)}`;
    await Deno.remove(file).catch(() => {}); // not followed: a link there goes, its target stays
    await Deno.writeTextFile(file, data[key], { createNew: true, mode: 0o644 });
  }
}

/** Resolves the pod's `volumes` (creating named volumes, writing ConfigMap/Secret data). */
export async function resolveKubeVolumes(
  root: string,
  volumes: Volume[],
  configMaps: KeyData,
  secrets: KeyData,
  where: string,
): Promise<Map<string, ResolvedKubeVolume>> {
  const out = new Map<string, ResolvedKubeVolume>();
  for (const v of volumes) {
    if (!v || typeof v.name !== "string") throw new PodError(`${where}: a volume has no name`);
    const at = `${where}: volume ${v.name}`;
    if (v.hostPath) {
      const path = checkHostPath(v.hostPath.path, at);
      await checkHostPathType(path, v.hostPath.type ?? "", at);
      out.set(v.name, { kind: "bind", source: path });
    } else if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim.claimName;
      if (typeof claim !== "string" || !VOLUME_NAME_RE.test(claim)) {
        throw new PodError(`${at}: invalid claimName "${claim}"`);
      }
      await ensureVolume(root, claim);
      out.set(v.name, { kind: "volume", name: claim });
    } else if (v.configMap || v.secret) {
      const isMap = !!v.configMap;
      const ref = isMap ? v.configMap!.name : v.secret!.secretName;
      const data = (isMap ? configMaps : secrets).get(ref);
      if (typeof ref !== "string" || !VOLUME_NAME_RE.test(ref)) {
        throw new PodError(`${at}: invalid ${isMap ? "configMap" : "secret"} name "${ref}"`);
      }
      if (!data) {
        if ((isMap ? v.configMap!.optional : v.secret!.optional)) {
          out.set(v.name, { kind: "anonymous" });
          continue;
        }
        throw new PodError(
          `${at}: no ${isMap ? "ConfigMap" : "Secret"} named ${ref} (give it with --configmap)`,
        );
      }
      await writeKeyVolume(root, ref, data, (isMap ? v.configMap! : v.secret!).items, at);
      out.set(v.name, { kind: "volume", name: ref });
    } else if (v.emptyDir) {
      out.set(v.name, v.emptyDir.medium === "Memory" ? { kind: "tmpfs" } : { kind: "anonymous" });
    } else {
      throw new PodError(
        `${at}: volume source not supported (hostPath, persistentVolumeClaim, configMap, secret, emptyDir)`,
      );
    }
  }
  return out;
}

/** A container's `volumeMounts` as mount requests. */
export function mountRequests(
  mounts: VolumeMount[],
  volumes: Map<string, ResolvedKubeVolume>,
  where: string,
  warn: (msg: string) => void,
): MountRequest[] {
  const out: MountRequest[] = [];
  for (const m of mounts) {
    const v = volumes.get(m?.name);
    if (!v) throw new PodError(`${where}: volumeMount ${m?.name} names no volume of the pod`);
    if (typeof m.mountPath !== "string" || !m.mountPath.startsWith("/")) {
      throw new PodError(`${where}: volumeMount ${m.name}: mountPath must be an absolute path`);
    }
    const readonly = !!m.readOnly;
    const base = { destination: m.mountPath, readonly, options: readonly ? ["ro"] : [] };
    let source = v.kind === "bind" ? v.source : undefined;
    if (m.subPath) {
      if (v.kind !== "bind") {
        warn(`${where}: subPath of volumeMount ${m.name} is only supported for hostPath volumes: ignored`);
      } else source = checkHostPath(`${v.source}/${m.subPath}`, `${where}: volumeMount ${m.name} subPath`);
    }
    if (v.kind === "bind") out.push({ type: "bind", source, ...base });
    else if (v.kind === "volume") out.push({ type: "volume", name: v.name, ...base });
    else if (v.kind === "tmpfs") out.push({ type: "tmpfs", ...base });
    else out.push({ type: "volume", anonymous: true, ...base });
  }
  return out;
}
