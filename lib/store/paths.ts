/**
 * Where pod keeps its data.
 * @module
 */

/**
 * The store root: `$POD_HOME`, else `$XDG_DATA_HOME/pod`, else `~/.local/share/pod`; `explicit` (`--root`)
 * first. Always absolute (a relative one is taken from the current directory).
 */
export function storeRoot(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
  explicit?: string,
): string {
  const home = explicit || env("POD_HOME");
  if (home) return absolute(home);
  const xdg = env("XDG_DATA_HOME");
  if (xdg) return absolute(`${xdg}/pod`);
  const user = env("HOME");
  if (!user) throw new Error("cannot find the store: set POD_HOME or HOME");
  return absolute(`${user}/.local/share/pod`);
}

function absolute(path: string): string {
  const p = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

/** Paths inside a store root. */
export function storePaths(root: string) {
  return {
    root,
    ociLayout: `${root}/oci-layout`,
    index: `${root}/index.json`,
    blobs: `${root}/blobs/sha256`,
    tmp: `${root}/tmp`,
    lock: `${root}/lock`,
    containers: `${root}/containers`,
    names: `${root}/containers/names`,
    volumes: `${root}/volumes`,
  };
}

/** The path of a blob in the store, given `sha256:<hex>`. */
export function blobPath(root: string, digest: string): string {
  const [alg, hex] = digest.split(":");
  if (alg !== "sha256" || !/^[a-f0-9]{64}$/.test(hex ?? "")) throw new Error(`invalid digest "${digest}"`);
  return `${root}/blobs/sha256/${hex}`;
}

/** Whether anything is at `path` (a symlink itself counts; it is not followed). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
