/**
 * `pod cp`: copy files and directories between a container and the host, a tar stream (`-`), or two containers.
 * @module
 */

import { bool, defineCommand } from "../flags.ts";

/**
 * `cp A:SRC B:DST`: out of A into a private temp dir of the store, then from there into B, each half a
 * `pod cp` of its own (each may enter its container's user namespace), so both halves keep the host ↔
 * container semantics (DST a directory: copied into it; a new name: copied as it).
 */
async function betweenContainers(
  root: string,
  args: string[],
  flags: { archive: boolean; overwrite: boolean },
): Promise<number> {
  const { selfCommand } = await import("../self_exec.ts");
  const tmp = `${root}/tmp/cp-${crypto.randomUUID().slice(0, 12)}`;
  await Deno.mkdir(tmp, { recursive: true, mode: 0o700 });
  const base = args[0].slice(args[0].indexOf(":") + 1).replace(/\/+$/, "").split("/").pop() || "root";
  const opts = [...(flags.archive ? [] : ["--archive=false"]), ...(flags.overwrite ? ["--overwrite"] : [])];
  const run = async (a: string[]) => {
    const cmd = selfCommand(["--root", root, "cp", ...opts, ...a]);
    const st = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdin: "null" }).spawn().status;
    return st.code;
  };
  try {
    const out = await run([args[0], `${tmp}/${base}`]);
    if (out !== 0) return out;
    return await run([`${tmp}/${base}`, args[1]]);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(async () => {
      // kept owners (--archive, rootless) are subordinate ids: removed from inside a user namespace
      const { removeTreeUserns } = await import("../../container/remove_tree.ts");
      await removeTreeUserns(tmp, true).catch(() => {});
    });
  }
}

export default defineCommand({
  name: "cp",
  usage: "pod cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
  summary: "Copy files/folders between a container and the local filesystem",
  flags: {
    archive: bool(
      "a",
      "Chown copied files to the container's main user (default); --archive=false keeps the source's uid/gid",
      { default: true },
    ),
    overwrite: bool("Allow to overwrite directories with non-directories and vice versa"),
    pause: bool("Pause the container while copying", { ignored: true, hidden: true }),
  },
  minArgs: 2,
  maxArgs: 2,
  async run(flags, args, g) {
    const { parseCpArg } = await import("../../container/cp/paths.ts");
    const [src, dst] = args.map((a) => a === "-" ? { path: "-" } : parseCpArg(a));
    if (src.container && dst.container) return await betweenContainers(g.root, args, flags);
    const { copyPaths } = await import("../../container/cp/mod.ts");
    // podman: into a container, --archive (the default) chowns to the container's user, --archive=false keeps
    // the source's ids; out of one, the files are the caller's either way
    const keepIds = !flags.archive && dst.container !== undefined;
    return await copyPaths(g.root, args[0], args[1], { archive: keepIds, overwrite: flags.overwrite });
  },
});
