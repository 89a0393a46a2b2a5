/**
 * `pod stats`: resource usage of containers from their cgroups (cgroups, issue 13), podman's columns, a Go
 * template or JSON; streams every `--interval` seconds unless `--no-stream`.
 * @module
 */

import { bool, defineCommand, int, str } from "../flags.ts";

export default defineCommand({
  name: "stats",
  usage: "pod stats [options] [CONTAINER...]",
  summary: "Display a live stream of container resource usage statistics",
  flags: {
    all: bool("a", "Show all containers. Only running containers are shown by default"),
    format: str("Pretty-print container statistics to JSON or using a Go template"),
    interval: int("i", "Time in seconds between stats reports", { default: 5 }),
    latest: bool("l", "Act on the latest container pod is aware of"),
    noReset: bool("Disable resetting the screen between intervals"),
    noStream: bool("Disable streaming stats and only pull the first result"),
    noTrunc: bool("Do not truncate output"),
  },
  async run(flags, args, g) {
    const { UsageError } = await import("../../errors.ts");
    const stats = await import("../../container/stats.ts");
    const view = await import("../views/stats.ts");
    const { out, printFormatted, printTable } = await import("../output.ts");
    if (flags.interval < 1) throw new UsageError("invalid interval, must be a positive number greater zero");
    stats.checkStatsSupported();
    if (flags.latest) {
      const { listContainers } = await import("../../store/containers.ts");
      const latest = (await listContainers(g.root))[0];
      if (!latest) throw new UsageError("no containers to show stats of");
      args = [latest.config.id];
    }
    const history: Map<string, { cpuNs: number; at: number; sum: number; n: number }> = new Map();
    const clear = !flags.noStream && !flags.noReset && Deno.stdout.isTerminal();
    for (;;) {
      const recs = await stats.statsTargets(g.root, args, flags.all);
      const samples = recs.map((r) => stats.sampleContainer(r, history));
      if (clear) out("\x1b[2J\x1b[H");
      if (flags.format === "json") out(JSON.stringify(samples.map(view.statsJson), null, 1) + "\n");
      else if (flags.format) {
        await printFormatted(
          flags.format,
          samples.map((s) => view.statsFields(s, flags.noTrunc)),
          view.STATS_HEADERS,
        );
      } else {
        const t = view.statsTable(samples, flags.noTrunc);
        printTable(t.headers, t.rows);
      }
      if (flags.noStream) return 0;
      await new Promise((r) => setTimeout(r, flags.interval * 1000));
    }
  },
});
