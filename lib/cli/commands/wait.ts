/**
 * `pod wait`: block until containers stop, print their exit codes.
 * @module
 */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { forEachContainer } from "../targets.ts";
import { println } from "../output.ts";

export default defineCommand({
  name: "wait",
  usage: "pod wait [options] CONTAINER [CONTAINER...]",
  summary: "Block on one or more containers",
  flags: {
    condition: strings("Condition to wait on (stopped, exited, running)"),
    ignore: bool("Ignore if a container does not exist"),
    interval: str("i", "Time Interval to wait before polling for completion", { default: "250ms" }),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    const { waitFor } = await import("../../container/wait.ts");
    const { autoRemoveIfDone } = await import("../../container/lifecycle.ts");
    const conds = flags.condition.flatMap((c) => c.split(",")).filter((c) => c);
    const { parseGoDuration } = await import("../../format/time.ts");
    const { UsageError } = await import("../../errors.ts");
    let interval: number;
    try {
      interval = /^\d+$/.test(flags.interval) ? Number(flags.interval) : parseGoDuration(flags.interval);
    } catch {
      throw new UsageError(`invalid --interval "${flags.interval}": time: invalid duration`);
    }
    return await forEachContainer(g.root, { flags, args }, {}, async (id) => {
      println(String(await waitFor(g.root, id, conds.length ? conds : ["stopped"], interval)));
      await autoRemoveIfDone(g.root, id);
    }, { ignoreFlag: "ignore", printIds: false });
  },
});
