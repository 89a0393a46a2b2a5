/**
 * `pod volume rm`: remove volumes. Exit 1 when one did not exist, 2 when a container uses one (podman's
 * codes); `-f` removes those containers first.
 * @module
 */

import { bool, defineCommand, int } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { printError, println } from "../output.ts";

export default defineCommand({
  name: "rm",
  aliases: ["remove"],
  usage: "pod volume rm [options] VOLUME [VOLUME...]",
  summary: "Remove one or more volumes",
  flags: {
    all: bool("a", "Remove all volumes"),
    force: bool("f", "Remove a volume by force, even if it is being used by a container"),
    time: int("t", "Seconds to wait before forcibly stopping running containers that use the volume", {
      default: 10,
    }),
  },
  async run(flags, args, g) {
    if (!flags.all && args.length === 0) throw new UsageError("choose either one or more volumes or all");
    if (flags.all && args.length) throw new UsageError("choose either one or more volumes or all");
    const { listVolumes, removeOneVolume, volumeUsers } = await import("../../volume/volumes.ts");
    const names = flags.all ? (await listVolumes(g.root)).map((v) => v.record.name) : args;
    let code = 0;
    for (const name of names) {
      try {
        const users = (await volumeUsers(g.root)).get(name) ?? [];
        if (users.length && flags.force) {
          const { removeById } = await import("../../container/lifecycle.ts");
          for (const id of users) await removeById(g.root, id, { force: true, timeout: flags.time });
        }
        await removeOneVolume(g.root, name);
        println(name);
      } catch (e) {
        printError(e);
        const c = e && typeof e === "object" && "exitCode" in e ? Number(e.exitCode) : 125;
        code = code === 0 || c === 125 ? c : Math.max(code, c);
      }
    }
    return code;
  },
});
