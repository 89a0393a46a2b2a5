/**
 * `pod rm`: remove containers (`-f`: stop running ones first; `-v`: their anonymous volumes too).
 * @module
 */

import { bool, defineCommand, int, strings } from "../flags.ts";
import { forEachContainer } from "../targets.ts";
import { println } from "../output.ts";

export default defineCommand({
  name: "rm",
  usage: "pod rm [options] CONTAINER [CONTAINER...]",
  summary: "Remove one or more containers",
  flags: {
    all: bool("a", "Remove all containers"),
    force: bool("f", "Force removal of a running or unusable container"),
    ignore: bool("i", "Ignore errors when a specified container is missing"),
    latest: bool("l", "Act on the latest container pod is aware of"),
    time: int("t", "Seconds to wait for stop before killing the container", { default: -1 }),
    volumes: bool("v", "Remove anonymous volumes associated with the container"),
    depend: bool("Remove container and all containers that depend on it"),
    cidfile: strings("Read the container ID from the file"),
    filter: strings("Filter output based on conditions given"),
  },
  async run(flags, args, g) {
    const { removeById } = await import("../../container/lifecycle.ts");
    const timeout = flags.time >= 0 ? flags.time : undefined;
    if (flags.all) {
      // as podman: `rm -a` removes pods with their containers (an infra container goes only with its pod)
      const { removeAllPods } = await import("./pod_rm.ts");
      await removeAllPods(g.root, { force: flags.force, timeout, printContainers: true });
    }
    const opts = { force: flags.force, volumes: flags.volumes, timeout };
    return await forEachContainer(g.root, { flags, args }, {}, async (id) => {
      if (flags.depend) {
        // containers joining this one's namespaces go first (deepest first), printed as they go
        const { dependentsOf } = await import("../../container/ps.ts");
        const { listContainers } = await import("../../store/containers.ts");
        for (const dep of dependentsOf(await listContainers(g.root), id)) {
          await removeById(g.root, dep, opts);
          println(dep);
        }
      }
      await removeById(g.root, id, opts);
    }, { printIds: true });
  },
});
