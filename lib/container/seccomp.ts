/**
 * The seccomp filter of a container, as a BPF program file stage 2 loads right before `execve`.
 *
 * The profile is podman's default, containers-common's `/usr/share/containers/seccomp.json` (Debian package
 * `golang-github-containers-common`, which podman pulls in), else the copy of the same rules pod ships
 * (lib/ns/seccomp_default.json, containers-common 0.50 as in Debian 12), or the user's
 * `--security-opt seccomp=PROFILE.json`. It is compiled for the container's capabilities
 * (lib/ns/seccomp_profile.ts) and libseccomp builds the BPF program (lib/ns/seccomp.ts) — ~30 ms, so the
 * program is cached in the store, `seccomp/<key>.bpf`, keyed by the profile file (path, size, mtime), the
 * capabilities, the architecture and the kernel release: a start with a cached filter only `stat`s the
 * profile.
 * @module
 */

import type { ContainerConfig } from "../store/container_types.ts";
import { tempName } from "../store/atomic.ts";
import { containerCapabilities } from "./security.ts";
import type { SeccompProfile } from "../ns/seccomp_profile.ts";

/** containers-common's default profile. */
export const SYSTEM_PROFILE = "/usr/share/containers/seccomp.json";

/** Two 32-bit FNV-1a hashes (different offsets), as 16 hex digits: a cache key, not a security measure. */
function cacheKey(s: string): string {
  let a = 0x811c9dc5, b = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/** The profile file in use and its identity (`builtin` when containers-common's is missing). */
export function profileSource(c: ContainerConfig): { path?: string; id: string } {
  const path = c.security?.seccomp ?? SYSTEM_PROFILE;
  try {
    const st = Deno.statSync(path);
    return { path, id: `${path}:${st.size}:${st.mtime?.getTime()}` };
  } catch (e) {
    if (c.security?.seccomp) throw e; // the user's profile is gone since create
    return { id: "builtin:containers-common-0.50" };
  }
}

/** The profile at `path` (parsed JSON), or pod's copy of containers-common's when `path` is undefined. */
export async function readProfile(path: string | undefined): Promise<SeccompProfile> {
  if (path) return JSON.parse(await Deno.readTextFile(path));
  return (await import("../ns/seccomp_default.json", { with: { type: "json" } })).default as SeccompProfile;
}

/**
 * The host path of the container's BPF filter, built and cached on first use; `undefined` when it runs
 * unconfined (`--privileged`, `--security-opt seccomp=unconfined`).
 */
export async function seccompFilter(root: string, c: ContainerConfig): Promise<string | undefined> {
  if (c.security?.seccomp === "unconfined" || (c.privileged && !c.security?.seccomp)) return undefined;
  const caps = containerCapabilities(c);
  const src = profileSource(c);
  const key = cacheKey([src.id, caps.join(","), Deno.build.arch, Deno.osRelease()].join("\n"));
  const dir = `${root}/seccomp`;
  const file = `${dir}/${key}.bpf`;
  try {
    if (Deno.statSync(file).size > 0) return file;
  } catch { /* not cached yet */ }
  const profile = await readProfile(src.path);
  const [{ compileProfile }, { exportSeccompBpf }] = await Promise.all([
    import("../ns/seccomp_profile.ts"),
    import("../ns/seccomp.ts"),
  ]);
  let compiled;
  try {
    compiled = compileProfile(profile, { capabilities: caps });
  } catch (e) {
    const { PodError } = await import("../errors.ts");
    throw new PodError(`seccomp profile ${src.path ?? "(built in)"}: ${(e as Error).message}`);
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  // a temp name of its own per call: starts in one process (a pod's members) may compile the same filter at once
  const tmp = `${dir}/${tempName("bpf")}`;
  try {
    exportSeccompBpf(compiled, tmp);
    await Deno.rename(tmp, file);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  return file;
}
