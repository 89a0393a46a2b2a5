/**
 * `pod unshare [COMMAND]`: podman's `unshare` — a rootless user enters a user namespace with the store's id
 * mappings (0 → the user, 1… → the `/etc/subuid` ranges) and a mount namespace of its own, as the namespace's
 * root, to inspect or remove files owned by subordinate ids (`pod unshare rm -rf DIR`). Runs `$SHELL` without a
 * command; exits with the command's code. As root there is nothing to enter (podman refuses too).
 * @module
 */

import { bool, defineCommand } from "../flags.ts";
import { PodError } from "../../errors.ts";
import { warn } from "../../log.ts";

export default defineCommand({
  name: "unshare",
  usage: "pod unshare [options] [COMMAND [ARG...]]",
  summary: "Run a command in a modified user namespace",
  stopAtFirstArg: true,
  flags: {
    rootlessNetns: bool("Join the rootless network namespace used for netavark networking"),
  },
  async run(flags, args, g) {
    if (flags.rootlessNetns) {
      throw new PodError(
        "--rootless-netns is not supported: pod keeps no shared rootless network namespace " +
          "(each rootless container has its own)",
      );
    }
    if (Deno.uid() === 0) throw new PodError("please use unshare with rootless");
    const { rootlessMaps } = await import("../../ns/idmap.ts");
    const { runInUserns } = await import("../../ns/userns.ts");
    const maps = rootlessMaps();
    if (maps.warning) warn(maps.warning);
    const argv = args.length ? args : [Deno.env.get("SHELL") || "/bin/sh"];
    const r = await runInUserns(
      { maps: { uidMap: maps.uidMap, gidMap: maps.gidMap }, syncDir: `${g.root}/tmp`, mount: true },
      argv,
      { env: { CONTAINERS_GRAPHROOT: g.root, POD_HOME: g.root } },
    );
    return r.code;
  },
});
