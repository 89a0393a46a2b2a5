/**
 * net9 (issue 12): what the installed slirp4netns offers beyond pod's baseline, as podman asks it
 * (`slirp4netns --help` lists `--enable-seccomp` from 0.4 on; podman then passes it). The answer is cached
 * per binary (path, size and mtime) in the store's `slirp4netns-features.json`, so a start asks the binary
 * only after it changed: a stat and a small read instead of a process on the start's path.
 * @module
 */

import { debug } from "../log.ts";

/** The cached answer for one binary. */
interface Features {
  path: string;
  size: number;
  mtime: number;
  /** `--enable-seccomp` is listed by `--help`. */
  seccomp: boolean;
}

/** The cache file of a store. */
export function featuresPath(root: string): string {
  return `${root}/slirp4netns-features.json`;
}

/**
 * Whether slirp4netns at `bin` takes `--enable-seccomp` (then pod passes it, as podman does). `root`: the
 * store whose cache holds the answer (absent: asked every time).
 */
export async function slirpHasSeccomp(bin: string, root?: string): Promise<boolean> {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(bin);
  } catch {
    return false;
  }
  const key = { path: bin, size: st.size, mtime: st.mtime?.getTime() ?? 0 };
  if (root) {
    try {
      const c = JSON.parse(Deno.readTextFileSync(featuresPath(root))) as Features;
      if (c.path === key.path && c.size === key.size && c.mtime === key.mtime) return c.seccomp === true;
    } catch { /* none yet, or unreadable: asked below */ }
  }
  let help = "";
  try {
    const out = await new Deno.Command(bin, {
      args: ["--help"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const dec = new TextDecoder();
    help = dec.decode(out.stdout) + dec.decode(out.stderr);
  } catch (e) {
    debug(`slirp4netns --help: ${e}`);
    return false;
  }
  const seccomp = /--enable-seccomp\b/.test(help);
  if (root) {
    const f: Features = { ...key, seccomp };
    const tmp = `${featuresPath(root)}.${Deno.pid}.tmp`;
    try {
      Deno.writeTextFileSync(tmp, JSON.stringify(f), { mode: 0o600 });
      Deno.renameSync(tmp, featuresPath(root)); // whole or not at all: starts at once may both write it
    } catch (e) {
      debug(`slirp4netns features not cached: ${e}`);
      try {
        Deno.removeSync(tmp);
      } catch { /* not made */ }
    }
  }
  return seccomp;
}
