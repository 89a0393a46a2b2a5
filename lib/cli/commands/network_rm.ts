/**
 * `pod network rm`: remove networks. Exit 1 when one did not exist, 2 when containers use one (podman's codes);
 * `-f` removes those containers first. The default network cannot be removed.
 * @module
 */

import { bool, defineCommand, int } from "../flags.ts";
import { printError, println } from "../output.ts";

export default defineCommand({
  name: "rm",
  aliases: ["remove"],
  usage: "pod network rm [options] NETWORK [NETWORK...]",
  summary: "Remove networks",
  minArgs: 1,
  flags: {
    force: bool("f", "remove any containers using network"),
    time: int("t", "Seconds to wait for running containers to stop before killing the container", {
      default: 10,
    }),
  },
  async run(flags, args, g) {
    const { getNetwork, removeNetwork, networkInUse } = await import("../../network/store.ts");
    let code = 0;
    for (const name of args) {
      try {
        const n = await getNetwork(g.root, name).catch(() => undefined);
        if (n?.containers.length) {
          if (!flags.force) throw networkInUse(n.config.name);
          const { removeById } = await import("../../container/lifecycle.ts");
          for (const id of n.containers) await removeById(g.root, id, { force: true, timeout: flags.time });
        }
        await removeNetwork(g.root, name);
        println(name); // as given, like podman
      } catch (e) {
        printError(e);
        const c = e && typeof e === "object" && "exitCode" in e ? Number(e.exitCode) : 125;
        code = code === 0 || c === 125 ? c : Math.max(code, c);
      }
    }
    return code;
  },
});
