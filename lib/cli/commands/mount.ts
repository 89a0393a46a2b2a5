/**
 * `pod mount` / `pod umount` (`unmount`, `container mount|umount`): a container's root file system on the
 * host (root only; rootless, podman's "must execute `pod unshare` first" error), counted, listed with no
 * argument.
 * @module
 */

import { bool, defineCommand, str } from "../flags.ts";
import { out, printError, println } from "../output.ts";
import { PodError, UsageError } from "../../errors.ts";
import type { ContainerMount } from "../../container/mount.ts";

/** `mount [-a] [--no-trunc] [--format json] [CONTAINER...]`. */
export const mountCommand = defineCommand({
  name: "mount",
  usage: "pod mount [options] [CONTAINER...]",
  summary: "Mount a working container's root filesystem",
  flags: {
    all: bool("a", "Mount all containers"),
    format: str("Print the mounted containers in specified format (json)"),
    noTrunc: bool("Do not truncate output"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    if (Deno.uid() !== 0) {
      throw new PodError('cannot run command "pod mount" in rootless mode, must execute `pod unshare` first');
    }
    if ((flags.all || flags.latest) && args.length) {
      throw new UsageError("when using the --all switch, you may not pass any containers names or IDs");
    }
    const format = flags.format ?? "";
    if (format !== "" && format.trim().toLowerCase() !== "json") {
      throw new PodError(`unknown --format argument: "${format}"`);
    }
    const { mountContainer, mountedContainers } = await import("../../container/mount.ts");
    const { listContainers } = await import("../../store/containers.ts");
    let targets = args;
    if (flags.all) targets = (await listContainers(g.root)).map((r) => r.config.id);
    else if (flags.latest) {
      const all = await listContainers(g.root);
      const last = all.sort((a, b) => (a.config.created < b.config.created ? 1 : -1))[0];
      if (!last) throw new PodError("no containers to mount");
      targets = [last.config.id];
    }
    let mounts: ContainerMount[];
    if (targets.length) {
      mounts = [];
      for (const a of targets) mounts.push(await mountContainer(g.root, a));
      if (targets.length === 1 && !flags.all && format === "") {
        println(mounts[0].path);
        return 0;
      }
    } else {
      mounts = await mountedContainers(g.root);
    }
    if (format !== "") {
      const rows = mounts.map((m) => ({ id: m.id, Names: [m.name], mountpoint: m.path }));
      out(JSON.stringify(rows, null, 1) + "\n");
      return 0;
    }
    for (const m of mounts) println(`${flags.noTrunc ? m.id : m.id.slice(0, 12)}  ${m.path}`);
    return 0;
  },
});

/** `umount [-a] [-f] [CONTAINER...]`. */
export const umountCommand = defineCommand({
  name: "umount",
  aliases: ["unmount"],
  usage: "pod umount [options] CONTAINER [CONTAINER...]",
  summary: "Unmount working container's root filesystem",
  flags: {
    all: bool("a", "Umount all of the currently mounted containers"),
    force: bool("f", "Force the complete umount of the specified mounted containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    if ((flags.all || flags.latest) && args.length) {
      throw new UsageError("when using the --all switch, you may not pass any containers names or IDs");
    }
    const { unmountContainer, unmountContainerId, mountedContainers } = await import(
      "../../container/mount.ts"
    );
    if (flags.all) {
      for (const m of await mountedContainers(g.root)) {
        await unmountContainerId(g.root, m.id, true);
        println(m.id);
      }
      return 0;
    }
    if (flags.latest) {
      const { listContainers } = await import("../../store/containers.ts");
      const last =
        (await listContainers(g.root)).sort((a, b) => (a.config.created < b.config.created ? 1 : -1))[0];
      if (last) args = [last.config.id];
    }
    if (!args.length) {
      throw new UsageError("when using the --all switch, you may not pass any containers names or IDs");
    }
    let code = 0;
    for (const a of args) {
      try {
        println(await unmountContainer(g.root, a, flags.force));
      } catch (e) {
        if (!(e instanceof PodError) || args.length === 1) throw e;
        printError(e);
        code = 125;
      }
    }
    return code;
  },
});
