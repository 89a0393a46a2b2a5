/**
 * `pod logs`: print a container's output (stdout and stderr, in order).
 * @module
 */

import { bool, defineCommand, int, str } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import type { LogReadOptions } from "../../container/logs.ts";
import { errBytes, outBytes, stdoutClosed } from "../output.ts";

/** How log records are shown: `-t` timestamps, a prefix per line (several containers, `--names`). */
export interface LogView {
  /** Show each line's timestamp. */
  timestamps?: boolean;
  /** Put this before each line. */
  prefix?: string;
}

const enc = new TextEncoder();

/**
 * Writes a container's log records to stdout or stderr (the stream each came from), `P` (partial) lines
 * joined without a newline; stops early once stdout's reader has gone.
 */
export async function showLogs(
  root: string,
  id: string,
  read: LogReadOptions,
  view: LogView = {},
): Promise<void> {
  const { readLogs } = await import("../../container/logs.ts");
  for await (const l of readLogs(root, id, read)) {
    const head = (view.prefix ?? "") + (view.timestamps ? `${l.timestamp} ` : "");
    const bytes = enc.encode(head + l.text + (l.partial ? "" : "\n"));
    if (l.stream === "stdout") outBytes(bytes);
    else errBytes(bytes);
    if (stdoutClosed()) break;
  }
}

export default defineCommand({
  name: "logs",
  usage: "pod logs [options] CONTAINER [CONTAINER...]",
  summary: "Fetch the logs of one or more containers",
  flags: {
    follow: bool("f", "Follow log output"),
    latest: bool("l", "Act on the latest container pod is aware of"),
    names: bool("n", "Output the container name in the log"),
    since: str("Show logs since TIMESTAMP"),
    tail: int("Output the specified number of LINES at the end of the logs", { default: -1 }),
    timestamps: bool("t", "Output the timestamps in the log"),
    until: str("Show logs until TIMESTAMP"),
    color: bool("Output the containers with different colors in the log", { ignored: true }),
  },
  async run(flags, args, g) {
    const { lookupContainerId, listContainers, readContainer } = await import("../../store/containers.ts");
    const { parseSince } = await import("../../container/logs.ts");
    let ids: string[];
    if (flags.latest) ids = (await listContainers(g.root)).slice(0, 1).map((r) => r.config.id);
    else {
      if (!args.length) {
        throw new UsageError("logs requires at least one container name or ID", "See 'pod logs --help'");
      }
      ids = [];
      for (const a of args) ids.push(await lookupContainerId(g.root, a));
    }
    const { noLogsError } = await import("../../container/log_options.ts");
    const names = new Map<string, string>();
    for (const id of ids) {
      const c = (await readContainer(g.root, id)).config;
      const refused = noLogsError(c);
      if (refused) throw refused;
      names.set(id, c.name);
    }
    const since = flags.since ? parseSince(flags.since) : undefined;
    const until = flags.until ? parseSince(flags.until) : undefined;
    const multi = ids.length > 1 || flags.names;
    await Promise.all(
      ids.map((id) =>
        showLogs(g.root, id, { follow: flags.follow, since, until, tail: flags.tail }, {
          timestamps: flags.timestamps,
          prefix: multi ? `${flags.names ? names.get(id) : id.slice(0, 12)} ` : undefined,
        })
      ),
    );
    return 0;
  },
});
