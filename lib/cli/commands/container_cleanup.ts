/**
 * `pod container cleanup CONTAINER`: what happens after a container ended — its restart policy (see
 * lib/container/restart_policy.ts). The supervisor runs it, as podman's conmon runs `podman container cleanup`.
 * @module
 */

import { defineCommand } from "../flags.ts";

export default defineCommand({
  name: "container cleanup",
  usage: "pod container cleanup CONTAINER",
  summary: "Clean up a container after it exited (applies its restart policy)",
  flags: {},
  minArgs: 1,
  maxArgs: 1,
  async run(_flags, args, g) {
    const [{ containerCleanup }, { lookupContainerId }] = await Promise.all([
      import("../../container/restart_policy.ts"),
      import("../../store/containers.ts"),
    ]);
    await containerCleanup(g.root, await lookupContainerId(g.root, args[0]));
    return 0;
  },
});
