/**
 * `pod logs`: print a container's output (stdout and stderr, in order).
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "logs",
  usage: "pod logs [options] CONTAINER [CONTAINER...]",
  summary: "Fetch the logs of one or more containers",
  flags: [
    { name: "follow", short: "f", type: "bool", help: "Follow log output" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    { name: "names", type: "bool", help: "Output the container name in the log" },
    { name: "since", type: "string", help: "Show logs since TIMESTAMP" },
    {
      name: "tail",
      short: "n",
      type: "int",
      default: -1,
      help: "Output the specified number of LINES at the end of the logs",
    },
    { name: "timestamps", short: "t", type: "bool", help: "Output the timestamps in the log" },
    { name: "until", type: "string", help: "Show logs until TIMESTAMP" },
    {
      name: "color",
      type: "bool",
      help: "Output the containers with different colors in the log",
      ignored: true,
    },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { lookupContainerId, listContainers } = await import("../../store/containers.ts");
  const { printLogs, parseSince } = await import("../../container/logs.ts");
  let ids: string[];
  if (p.flags.latest) ids = (await listContainers(g.root)).slice(0, 1).map((r) => r.config.id);
  else {
    if (!p.args.length) throw new UsageError("logs requires at least one container name or ID");
    ids = [];
    for (const a of p.args) ids.push(await lookupContainerId(g.root, a));
  }
  const since = p.flags.since ? parseSince(p.flags.since as string) : undefined;
  const until = p.flags.until ? parseSince(p.flags.until as string) : undefined;
  const tail = p.flags.tail as number;
  const multi = ids.length > 1 || (p.flags.names as boolean);
  await Promise.all(ids.map((id) =>
    printLogs(g.root, id, {
      follow: p.flags.follow as boolean,
      timestamps: p.flags.timestamps as boolean,
      since,
      until,
      tail: tail >= 0 ? tail : undefined,
      prefix: multi ? `${id.slice(0, 12)} ` : undefined,
    })
  ));
  return 0;
}
