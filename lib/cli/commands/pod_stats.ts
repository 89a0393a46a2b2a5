/**
 * `pod pod stats` (scope pods2, issue 15): resource usage of the running containers of pods, podman's table,
 * Go template or JSON; a new sample every second unless `--no-stream`.
 * @module
 */

import { bool, defineCommand, str } from "../flags.ts";

export default defineCommand({
  name: "stats",
  usage: "pod pod stats [options] [POD...]",
  summary: "Display a live stream of resource usage statistics for the containers in one or more pods",
  flags: {
    all: bool("a", "Provide stats for all pods"),
    format: str("Pretty-print container statistics to JSON or using a Go template"),
    latest: bool("l", "Act on the latest pod pod is aware of"),
    noReset: bool("Disable resetting the screen when streaming"),
    noStream: bool("Disable streaming stats and only pull the first result"),
  },
  async run(flags, args, g) {
    const stats = await import("../../container/pod/stats.ts");
    const { checkStatsSupported } = await import("../../container/stats.ts");
    const view = await import("../views/pod_stats.ts");
    const { out, printFormatted, printTable } = await import("../output.ts");
    const selection = { names: args, all: flags.all, latest: flags.latest };
    stats.checkPodStatsSelection(selection);
    checkStatsSupported();
    const history: import("../../container/stats.ts").StatsHistory = new Map();
    const clear = !flags.noStream && !flags.noReset && Deno.stdout.isTerminal();
    const format = flags.format?.trim();
    for (;;) {
      const pods = await stats.podStatsTargets(g.root, selection);
      const samples = await stats.samplePods(g.root, pods, history);
      const reports = samples.map(view.podStatsReport);
      if (format === "json" || format === "{{json .}}") {
        out(JSON.stringify(reports, null, 5) + "\n");
      } else {
        if (clear) out("\x1b[2J\x1b[H");
        if (format) await printFormatted(format, reports, view.POD_STATS_HEADERS);
        else {
          const t = view.podStatsTable(samples);
          printTable(t.headers, t.rows);
        }
      }
      if (flags.noStream) return 0;
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
});
