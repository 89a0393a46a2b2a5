/**
 * `pod start`: start one or more created or stopped containers (`-a`: attached, in the foreground).
 * @module
 */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";
import { printError, println } from "../output.ts";

export default defineCommand({
  name: "start",
  usage: "pod start [options] CONTAINER [CONTAINER...]",
  summary: "Start one or more containers",
  flags: {
    attach: bool("a", "Attach container's STDOUT and STDERR"),
    interactive: bool("i", "Make STDIN available to the contained process"),
    all: bool("Start all containers regardless of their state or configuration"),
    detachKeys: str("Select the key sequence for detaching a container", { ignored: true }),
    sigProxy: bool("Proxy received signals to the process", { ignored: true }),
    latest: bool("l", "Act on the latest container pod is aware of"),
    filter: strings("f", "Filter output based on conditions given (ps's filters: restart-policy=always…)"),
  },
  async run(flags, args, g) {
    const { lookupContainerId, listContainers } = await import("../../store/containers.ts");
    const start = await import("../../container/start.ts");
    let names = args;
    if (flags.all) {
      names = (await listContainers(g.root)).filter((c) => c.state.status !== "running").map((c) =>
        c.config.id
      );
    } else if (flags.latest) names = (await listContainers(g.root)).slice(0, 1).map((c) => c.config.id);
    if (flags.filter.length) {
      if (args.length) throw new UsageError("--filter takes no container names", "See 'pod start --help'");
      const { filterContainers, parseContainerFilters } = await import("../../container/ps.ts");
      const all = await listContainers(g.root);
      names = filterContainers(all, parseContainerFilters(flags.filter), all)
        .filter((c) => c.state.status !== "running" && c.state.status !== "paused").map((c) => c.config.id);
      if (!names.length) return 0;
    }
    if (!names.length && !flags.all) {
      throw new UsageError(`no containers specified`, "See 'pod start --help'");
    }
    if (flags.attach || flags.interactive) {
      if (names.length > 1) throw new UsageError("you cannot start and attach multiple containers at once");
      const id = await lookupContainerId(g.root, names[0]);
      const { readContainer } = await import("../../store/containers.ts");
      const rec = await readContainer(g.root, id);
      const code = await start.startForeground(g.root, id, {
        tty: rec.config.process.terminal,
        stdin: flags.interactive || (rec.config.process.stdin && flags.attach),
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
        println(n);
      } catch (e) {
        if (failed) printError(failed);
        failed = e;
      }
    }
    if (failed) {
      throw failed instanceof PodError
        ? failed
        : new PodError(failed instanceof Error ? failed.message : String(failed));
    }
    return 0;
  },
});
