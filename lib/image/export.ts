/**
 * `export`: a container's root file system (the image tree with the container's changes on top) as one tar
 * stream, written by GNU tar with numeric owners. With the overlay driver a read-only overlay of
 * `upper:tree` is mounted in a private mount namespace of its own (rootless: inside the user's subuid
 * namespace, `userxattr`, so owners are the container's ids) — never on the host, and never the container's own
 * writable mount; with vfs the container's copy is read directly.
 * @module
 */

import { PodError } from "../errors.ts";
import { tempName } from "../store/atomic.ts";
import { containerPaths, getContainer } from "../store/containers.ts";
import { pathExists, storePaths } from "../store/paths.ts";
import { treePath } from "../store/trees.ts";

/** A running export: its tar bytes, and `done`, which rejects when tar failed. */
export interface ExportStream {
  /** The archive. */
  chunks: AsyncIterable<Uint8Array>;
  /** Settles after the stream ended: rejects with tar's first error line. */
  done: Promise<void>;
}

/** Options of {@link exportContainer}. */
export interface ExportOptions {
  /** Keep extended attributes (`commit --squash`: file capabilities…); `export` writes none, as podman. */
  xattrs?: boolean;
}

/** Starts exporting container `nameOrId` of the store at `root`. */
export async function exportContainer(
  root: string,
  nameOrId: string,
  opts: ExportOptions = {},
): Promise<ExportStream> {
  const rec = await getContainer(root, nameOrId);
  const cp = containerPaths(root, rec.config.id);
  const userns = Deno.uid() !== 0;
  const pre = userns ? ["--user", "--map-auto", "--map-root-user"] : [];
  const xattrs = opts.xattrs ? ["--xattrs", "--xattrs-include=*"] : [];
  const tar = (
    dir: string,
  ) => ["tar", ...xattrs, "--numeric-owner", "--sort=name", "-C", dir, "-cf", "-", "."];
  let args: string[];
  let cleanup = async () => {};
  if (rec.config.storage?.driver === "overlay") {
    const tree = treePath(root, rec.config.storage.tree);
    if (!(await pathExists(tree))) {
      throw new PodError(`container ${rec.config.name}: its image tree is not built yet (start it once)`);
    }
    if (await pathExists(cp.upper)) {
      const mnt = `${storePaths(root).tmp}/${tempName("export")}`;
      await Deno.mkdir(mnt, { mode: 0o700 });
      cleanup = () => Deno.remove(mnt).catch(() => {});
      const opts = `ro,lowerdir=${cp.upper}:${tree}${userns ? ",userxattr" : ""}`;
      const script = 'mount -t overlay overlay -o "$1" "$2" && exec "$@"';
      args = [
        ...pre,
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script.replace('exec "$@"', 'shift 2 && exec "$@"'),
        "sh",
        opts,
        mnt,
        ...tar(mnt),
      ];
    } else {
      args = [...pre, ...tar(tree)];
    }
  } else {
    args = [...pre, ...tar(cp.rootfs)];
  }
  const child = new Deno.Command("unshare", { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const stderr = new Response(child.stderr).text();
  const done = (async () => {
    const st = await child.status;
    await cleanup();
    if (!st.success) {
      const line = (await stderr).trim().split("\n")[0];
      throw new PodError(`exporting ${rec.config.name}: ${line || `tar exited ${st.code}`}`);
    }
  })();
  done.catch(() => {});
  return { chunks: child.stdout, done };
}
