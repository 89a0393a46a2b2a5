/**
 * execvp-style lookup of a container command inside a root, with podman's 126/127 errors.
 * @module
 */

import { PodError } from "../errors.ts";
import { resolveInRoot } from "../unpack/contain.ts";
import { DEFAULT_PATH } from "./spec.ts";

/** podman's message for a command that was not found (exit 127). */
export function notFoundMessage(cmd: string): string {
  return cmd.includes("/")
    ? `${cmd}: no such file or directory: OCI runtime attempted to invoke a command that was not found`
    : `${cmd}: executable file not found in $PATH: No such file or directory: ` +
      "OCI runtime attempted to invoke a command that was not found";
}

/** podman's message for a command that cannot be invoked (exit 126). */
export function deniedMessage(cmd: string): string {
  return `${cmd}: permission denied: OCI permission denied`;
}

/**
 * Finds `cmd` like execvp, using the PATH of `env`, inside `root` (symlinks resolved inside it).
 * `canExec` decides whether a regular file may be executed. Returns the path inside the root; throws a
 * PodError with 127 (not found) or 126 (found, but not executable).
 */
export function lookPath(
  cmd: string,
  env: string[],
  root = "/",
  canExec: (hostPath: string, info: Deno.FileInfo) => boolean = (_p, i) => ((i.mode ?? 0) & 0o111) !== 0,
): string {
  const usable = (p: string): "ok" | "missing" | "denied" => {
    let info: Deno.FileInfo;
    try {
      const host = resolveInRoot(root, p, { follow: true });
      info = Deno.statSync(host);
      return info.isFile && canExec(host, info) ? "ok" : "denied";
    } catch {
      return "missing";
    }
  };
  if (cmd.includes("/")) {
    const u = usable(cmd);
    if (u === "ok") return cmd;
    throw u === "denied" ? new PodError(deniedMessage(cmd), 126) : new PodError(notFoundMessage(cmd), 127);
  }
  if (!cmd) throw new PodError(notFoundMessage(cmd), 127);
  const pathVar = env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  let denied = false;
  for (const dir of pathVar.split(":")) {
    const p = `${dir || "."}/${cmd}`;
    const u = usable(p);
    if (u === "ok") return p;
    if (u === "denied") denied = true;
  }
  throw denied ? new PodError(deniedMessage(cmd), 126) : new PodError(notFoundMessage(cmd), 127);
}
