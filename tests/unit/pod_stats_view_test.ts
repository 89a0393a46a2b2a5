/**
 * pods2: `pod pod stats`' pure parts: podman's PodStatsReport fields and formats, the `--` row of an empty
 * table, and the exclusive selection of names, `--all` and `--latest`.
 */
import { deepEqual, equal, throws } from "node:assert/strict";
import { checkPodStatsSelection, type PodContainerStats } from "../../lib/container/pod/stats.ts";
import { podStatsReport, podStatsTable } from "../../lib/cli/views/pod_stats.ts";
import { UsageError } from "../../lib/errors.ts";

const sample: PodContainerStats = {
  podId: "a".repeat(64),
  podName: "p1",
  id: "b".repeat(64),
  name: "web",
  cpuNs: 2e9,
  cpuPercent: 1.5,
  avgCpuPercent: 1.5,
  memUsage: 3 * 1000 * 1000,
  memLimit: 2 * 1000 * 1000 * 1000,
  memPercent: 0.15,
  netInput: 1000,
  netOutput: 2000,
  blockInput: 0,
  blockOutput: 4096,
  pids: 3,
  at: 0,
};

Deno.test("pod stats report: podman's fields, ids truncated to 12", () => {
  const r = podStatsReport(sample);
  deepEqual(Object.keys(r), [
    "CPU",
    "MemUsage",
    "MemUsageBytes",
    "Mem",
    "NetIO",
    "BlockIO",
    "PIDS",
    "Pod",
    "CID",
    "Name",
  ]);
  equal(r.Pod, "a".repeat(12));
  equal(r.CID, "b".repeat(12));
  equal(r.Name, "web");
  equal(r.CPU, "1.50%");
  equal(r.Mem, "0.15%");
  equal(r.PIDS, "3");
  equal(r.MemUsage, "3MB / 2GB");
  equal(r.NetIO, "1kB / 2kB");
});

Deno.test("pod stats table: header, rows, and podman's -- row when nothing runs", () => {
  const t = podStatsTable([sample]);
  deepEqual(t.headers, [
    "POD",
    "CID",
    "NAME",
    "CPU %",
    "MEM USAGE/ LIMIT",
    "MEM %",
    "NET IO",
    "BLOCK IO",
    "PIDS",
  ]);
  equal(t.rows.length, 1);
  equal(t.rows[0][2], "web");
  deepEqual(podStatsTable([]).rows, [Array(9).fill("--")]);
});

Deno.test("pod stats selection: names, --all and --latest exclude each other", () => {
  checkPodStatsSelection({ names: [] });
  checkPodStatsSelection({ names: ["p"] });
  checkPodStatsSelection({ names: [], all: true });
  checkPodStatsSelection({ names: [], latest: true });
  throws(() => checkPodStatsSelection({ names: ["p"], all: true }), UsageError);
  throws(() => checkPodStatsSelection({ names: [], all: true, latest: true }), UsageError);
});
