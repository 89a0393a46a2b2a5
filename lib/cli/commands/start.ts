/**
 * `pod start`: start one or more created or stopped containers (`-a`: attached, in the foreground).
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "start",
  usage: "pod start [options] CONTAINER [CONTAINER...]",
  summary: "Start one or more containers",
  flags: [
    { name: "attach", short: "a", type: "bool", help: "Attach container's STDOUT and STDERR" },
    { name: "interactive", short: "i", type: "bool", help: "Make STDIN available to the contained process" },
    { name: "all", type: "bool", help: "Start all containers regardless of their state or configuration" },
    {
      name: "detach-keys",
      type: "string",
      help: "Select the key sequence for detaching a container",
      ignored: true,
    },
    { name: "sig-proxy", type: "bool", help: "Proxy received signals to the process", ignored: true },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    {
      name: "filter",
      short: "f",
      type: "strings",
      help: "Filter output based on conditions given",
      ignored: true,
    },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { lookupContainerId, listContainers } = await import("../../store/containers.ts");
  const start = await import("../../container/start.ts");
  let names = p.args;
  if (p.flags.all) {
    names = (await listContainers(g.root)).filter((c) => c.state.status !== "running").map((c) =>
      c.config.id
    );
  } else if (p.flags.latest) names = (await listContainers(g.root)).slice(0, 1).map((c) => c.config.id);
  if (!names.length && !p.flags.all) throw new UsageError(`no containers specified`);
  if (p.flags.attach || p.flags.interactive) {
    if (names.length > 1) throw new UsageError("you cannot start and attach multiple containers at once");
    const id = await lookupContainerId(g.root, names[0]);
    const { readContainer } = await import("../../store/containers.ts");
    const rec = await readContainer(g.root, id);
    const code = await start.startForeground(g.root, id, {
      tty: rec.config.process.terminal,
      stdin: !!p.flags.interactive || (rec.config.process.stdin && !!p.flags.attach),
      log: !rec.config.autoRemove,
    });
    if (rec.config.autoRemove) {
      const { removeById } = await import("../../container/lifecycle.ts");
      await removeById(g.root, id, { force: true, volumes: true }).catch(() => {});
    }
    return code;
  }
  let failed: unknown;
  for (const n of names) {
    try {
      const id = await lookupContainerId(g.root, n);
      await start.startDetached(g.root, id);
      console.log(n);
    } catch (e) {
      if (failed) console.error(`Error: ${(failed as Error).message}`);
      failed = e;
    }
  }
  if (failed) {
    throw failed instanceof PodError ? failed : new PodError(String((failed as Error).message ?? failed));
  }
  return 0;
}
