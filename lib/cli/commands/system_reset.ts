/**
 * `pod system reset [-f]`: podman's reset of the store — every pod and container is stopped and removed, then the store
 * itself (images, volumes, containers' content, the event log) is removed, after a confirmation.
 * @module
 */

import { bool, defineCommand } from "../flags.ts";
import { err, printError } from "../output.ts";

const WARNING = `WARNING! This will remove:
        - all containers
        - all pods
        - all images
        - all networks
        - all build cache
        - all machines
        - all volumes`;

export default defineCommand({
  name: "reset",
  usage: "pod system reset [options]",
  summary: "Reset pod storage",
  maxArgs: 0,
  flags: { force: bool("f", "Do not prompt for confirmation") },
  async run(flags, _args, g) {
    if (!flags.force) {
      const { confirm } = await import("../prompt.ts");
      if (!(await confirm(WARNING))) return 0;
    }
    const { pathExists } = await import("../../store/paths.ts");
    let isStore = false;
    for (const mark of ["oci-layout", "index.json", "containers", "volumes", "events"]) {
      if (await pathExists(`${g.root}/${mark}`)) isStore = true;
    }
    if (!isStore) {
      // not a store (or already reset): never remove a directory pod did not make
      if (await pathExists(g.root)) err(`${g.root} holds no pod store: nothing removed\n`);
      return 0;
    }
    // pods first (pods2): their members, then their infra containers, which cannot go while the pod exists
    const { listPods } = await import("../../store/pods.ts");
    const pods = await listPods(g.root);
    if (pods.length) {
      const { removePod } = await import("../../container/pod/pods.ts");
      for (const p of pods) await removePod(g.root, p.id, { force: true, timeout: 0 }).catch(printError);
    }
    const { listContainers } = await import("../../store/containers.ts");
    const { removeById } = await import("../../container/lifecycle.ts");
    for (const c of await listContainers(g.root)) {
      await removeById(g.root, c.config.id, { force: true, volumes: true, timeout: 0 }).catch(printError);
    }
    try {
      await Deno.remove(g.root, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
      // rootless: image trees and volumes hold files of subordinate ids
      const { removeTreeUserns } = await import("../../container/remove_tree.ts");
      await removeTreeUserns(g.root, true);
    }
    return 0;
  },
});
