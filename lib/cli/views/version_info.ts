/** podman's `version` block, for `pod version` and `pod info` (`.Version`). @module */

import { VERSION } from "../../version.ts";

/** podman's arch names. */
export function goArch(): string {
  const a = Deno.build.arch as string;
  return a === "x86_64" ? "amd64" : a === "aarch64" ? "arm64" : a;
}

/** podman's `version` block (also `pod version`'s `.Client`). */
export function versionInfo(): Record<string, unknown> {
  return {
    APIVersion: VERSION,
    Version: VERSION,
    GoVersion: `deno ${Deno.version.deno}`,
    DenoVersion: Deno.version.deno,
    GitCommit: "",
    BuiltTime: "",
    Built: 0,
    OsArch: `${Deno.build.os}/${goArch()}`,
    Os: Deno.build.os,
  };
}
