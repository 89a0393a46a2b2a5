/**
 * The host programs networking drives, found or named in one line (with the Debian package to install).
 * @module
 */

import { PodError } from "../errors.ts";
import { hostBinary } from "../ns/helpers_check.ts";

const LIBEXEC = [
  "/usr/lib/podman",
  "/usr/libexec/podman",
  "/usr/local/lib/podman",
  "/usr/local/libexec/podman",
];

function inLibexec(name: string): string | undefined {
  for (const d of LIBEXEC) {
    try {
      if (Deno.statSync(`${d}/${name}`).isFile) return `${d}/${name}`;
    } catch { /* next */ }
  }
  return hostBinary(name);
}

/** The path of `tool` (slirp4netns, pasta, netavark, aardvark-dns), or a PodError naming its package. */
export function networkTool(tool: "slirp4netns" | "pasta" | "netavark" | "aardvark-dns"): string {
  const path = tool === "netavark" || tool === "aardvark-dns" ? inLibexec(tool) : hostBinary(tool);
  if (path) return path;
  const pkg = tool === "pasta" ? "passt" : tool;
  throw new PodError(`${tool} not found: install it ("apt-get install ${pkg}" or "dnf install ${pkg}")`);
}

/** A short stable hash of a string (FNV-1a, 8 hex), for per-store names. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * True when `/run/systemd/system` exists but systemd is not running (no init of that name): netavark would
 * then start aardvark-dns through `systemd-run`, which fails silently, so pod hides that directory from it.
 */
export function systemdDirWithoutSystemd(): boolean {
  try {
    if (!Deno.statSync("/run/systemd/system").isDirectory) return false;
  } catch {
    return false;
  }
  try {
    return Deno.readTextFileSync("/proc/1/comm").trim() !== "systemd";
  } catch {
    return true;
  }
}
