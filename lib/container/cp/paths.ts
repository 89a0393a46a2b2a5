/**
 * `pod cp`'s path rules, podman's/docker's: which argument names a container, how container paths are
 * cleaned and resolved inside the root (chroot semantics, lib/unpack/contain.ts), and where a copy lands.
 * @module
 */

import { PodError } from "../../errors.ts";
import { resolveInRoot } from "../../unpack/contain.ts";

/** One side of a `cp`: a host path (`-` = the tar stream), or a path in a container. */
export interface CpLocation {
  /** Container name or id, when the path is in a container. */
  container?: string;
  /** The path as given. */
  path: string;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * Splits a `cp` argument like podman/docker: `CONTAINER:PATH` when the part before the first `:` is a valid
 * container name or id; an absolute path, or one starting with `.`, is always local.
 */
export function parseCpArg(arg: string): CpLocation {
  if (arg.startsWith("/") || arg.startsWith(".")) return { path: arg };
  const i = arg.indexOf(":");
  if (i <= 0) return { path: arg };
  const name = arg.slice(0, i);
  if (!NAME_RE.test(name)) return { path: arg };
  return { container: name, path: arg.slice(i + 1) };
}

/** Lexically cleaned absolute container path (`..` clamped at `/`). */
export function cleanContainerPath(p: string): string {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return "/" + out.join("/");
}

/** True when a path names the contents of a directory (`dir/.`). */
export function contentsOnly(p: string): boolean {
  return p === "." || p.endsWith("/.");
}

/** The last component of `p` (`""` for the root). */
export function baseName(p: string): string {
  const parts = p.split("/").filter((c) => c && c !== ".");
  return parts.at(-1) ?? "";
}

/** The parent of the absolute path `abs`. */
export function dirName(abs: string): string {
  const i = abs.lastIndexOf("/");
  return i <= 0 ? "/" : abs.slice(0, i);
}

/** A host path made absolute (against the current directory) and cleaned. */
export function hostAbs(p: string): string {
  return cleanContainerPath(p.startsWith("/") ? p : `${Deno.cwd()}/${p}`);
}

/** Joins two relative names (`""` = the root). */
export const join = (a: string, b: string): string => (a === "" ? b : b === "" ? a : `${a}/${b}`);

/** `lstat`, or null when the path does not exist. */
export function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** `stat`, or null when the path does not exist. */
export function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** A path of the container, resolved inside its rootfs (all symlinks, the last one too). */
export interface Resolved {
  /** Host path (inside the rootfs). */
  host: string;
  /** Rootfs-relative canonical path (`""` = the root). */
  rel: string;
  /** lstat of `host`, or null when missing. */
  info: Deno.FileInfo | null;
}

/** Resolves the container path `path` inside `rootfs`. */
export function resolveContainerPath(rootfs: string, path: string): Resolved {
  let host: string;
  try {
    host = resolveInRoot(rootfs, cleanContainerPath(path), { follow: true });
  } catch (e) {
    throw new PodError(`resolving "${path}" in the container: ${e instanceof Error ? e.message : e}`);
  }
  if (host !== rootfs && !host.startsWith(rootfs + "/")) {
    throw new PodError(`"${path}" resolves outside the container`); // cannot happen: resolveInRoot clamps
  }
  const rel = host === rootfs ? "" : host.slice(rootfs.length + 1);
  if (rel === "") host = rootfs; // not `<rootfs>/`
  // the root itself is followed: a `/proc/<pid>/root` base is a (magic) symlink
  return { host, rel, info: rel === "" ? statOrNull(host) : lstatOrNull(host) };
}

/** Refuses a name the unpacker would take for a whiteout. */
export function checkName(leaf: string, whole: string): void {
  if (leaf.startsWith(".wh.")) {
    throw new PodError(`cannot copy "${whole}": names starting with ".wh." are reserved for layer whiteouts`);
  }
}

/** The error for a container path that does not exist. */
export function notInContainer(path: string, name: string): PodError {
  return new PodError(`"${path}" could not be found on container ${name}: no such file or directory`);
}

/** Refuses replacing a directory by a non-directory or the reverse, unless `--overwrite`. */
export function overwriteCheck(
  existing: Deno.FileInfo | null,
  srcIsDir: boolean,
  shown: string,
  allowed: boolean,
): void {
  if (!existing || allowed) return;
  if (existing.isDirectory && !srcIsDir) {
    throw new PodError(`cannot overwrite directory "${shown}" with non-directory (use --overwrite)`);
  }
  if (!existing.isDirectory && srcIsDir) {
    throw new PodError(`cannot overwrite non-directory "${shown}" with directory (use --overwrite)`);
  }
}

/**
 * Decides where a copy lands by podman's rules: `into` the destination directory (as `name`, or with `merge`
 * the source directory's contents), or replacing the destination itself. `dst` = the destination as given,
 * `dstInfo` its (followed) stat, `parentOk` whether its parent is an existing directory, `srcName` the
 * source's base name.
 */
export function decideTarget(
  srcIsDir: boolean,
  srcContents: boolean,
  srcName: string,
  dst: string,
  dstInfo: { isDirectory: boolean } | null,
  parentOk: boolean,
): { into: boolean; name: string; merge: boolean } {
  if (dstInfo?.isDirectory) {
    if (srcIsDir && srcContents) return { into: true, name: "", merge: true };
    return { into: true, name: srcName, merge: false };
  }
  if (dstInfo) {
    if (srcIsDir) throw new PodError(`cannot copy directory to non-directory "${dst}"`);
    return { into: false, name: "", merge: false };
  }
  if (!srcIsDir && dst.endsWith("/")) throw new PodError(`"${dst}": destination directory must exist`);
  if (!parentOk) throw new PodError(`"${dst}": parent directory does not exist`);
  return { into: false, name: "", merge: false };
}
