/** `pod pod rm` and `pod pod prune`: pods with their containers. @module */

import { bool, defineCommand, int } from "../flags.ts";
import { println } from "../output.ts";
import { forEachPod } from "./pod_targets.ts";

/**
 * Removes every pod (`rm -a`, as podman: an infra container goes only with its pod): those with running
 * containers only with `force`. Prints the ids of the removed containers when `printContainers`.
 */
export async function removeAllPods(
  root: string,
  o: { force?: boolean; timeout?: number; printContainers?: boolean },
): Promise<void> {
  const { listPods } = await import("../../store/pods.ts");
  const pods = await listPods(root);
  if (!pods.length) return;
  const { podContainers, removePod } = await import("../../container/pod/pods.ts");
  for (const p of pods) {
    const ctrs = await podContainers(root, p);
    if (!o.force && ctrs.some((c) => c.state.status === "running" || c.state.status === "paused")) continue;
    await removePod(root, p.id, { force: o.force, timeout: o.timeout });
    if (o.printContainers) println(...ctrs.map((c) => c.config.id));
  }
}

/** `pod pod rm`. */
export const podRm = defineCommand({
  name: "rm",
  usage: "pod pod rm [options] POD [POD...]",
  summary: "Remove one or more pods",
  flags: {
    all: bool("a", "Remove all pods"),
    force: bool("f", "Stop running containers and delete all stopped containers"),
    ignore: bool("i", "Ignore errors when a specified pod is missing"),
    latest: bool("l", "Remove the latest pod pod is aware of"),
    time: int("t", "Seconds to wait for the pod's containers to stop before killing them", { default: -1 }),
  },
  async run(flags, args, g) {
    // pods4: what removePod loads next (the container lifecycle) loads beside it
    const [{ removePod }] = await Promise.all([
      import("../../container/pod/pods.ts"),
      import("../../container/lifecycle.ts"),
    ]);
    const timeout = flags.time >= 0 ? flags.time : undefined;
    return await forEachPod(
      g.root,
      { args, ...flags },
      (p) => removePod(g.root, p, { force: flags.force, timeout }),
    );
  },
});

/** `pod pod prune`. */
export const podPrune = defineCommand({
  name: "prune",
  usage: "pod pod prune [options]",
  summary: "Remove all stopped pods and their containers",
  maxArgs: 0,
  flags: { force: bool("f", "Do not prompt for confirmation") },
  async run(flags, _args, g) {
    if (!flags.force) {
      const { confirm } = await import("../prompt.ts");
      if (
        !(await confirm(
          "WARNING! This will remove all stopped/exited pods..\nAre you sure you want to continue?",
        ))
      ) {
        return 0;
      }
    }
    const { prunablePods, removePod } = await import("../../container/pod/pods.ts");
    for (const p of await prunablePods(g.root)) {
      await removePod(g.root, p.id);
      println(p.id);
    }
    return 0;
  },
});
