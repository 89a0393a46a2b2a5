/**
 * podman's `pod stats` view (scope pods2): the table (POD CID NAME CPU % MEM USAGE/ LIMIT MEM % NET IO
 * BLOCK IO PIDS), its template fields (`{{.Pod}}`, `{{.CID}}`, `{{.CPU}}`, `{{.MemUsage}}`, `{{.Mem}}`…, the
 * fields of podman's `PodStatsReport`) and JSON objects with the same keys.
 * @module
 */

import type { PodContainerStats } from "../../container/pod/stats.ts";
import { statsFields } from "./stats.ts";

/** Header texts of the template fields. */
export const POD_STATS_HEADERS: Record<string, string> = {
  Pod: "POD",
  CID: "CID",
  Name: "NAME",
  CPU: "CPU %",
  MemUsage: "MEM USAGE/ LIMIT",
  MemUsageBytes: "MEM USAGE/ LIMIT",
  Mem: "MEM %",
  NetIO: "NET IO",
  BlockIO: "BLOCK IO",
  PIDS: "PIDS",
};

const COLUMNS = ["Pod", "CID", "Name", "CPU", "MemUsage", "Mem", "NetIO", "BlockIO", "PIDS"];

/** podman's `PodStatsReport` of one sample (field order as podman's JSON). */
export function podStatsReport(s: PodContainerStats): Record<string, string> {
  const f = statsFields(s);
  return {
    CPU: String(f.CPUPerc),
    MemUsage: String(f.MemUsage),
    MemUsageBytes: String(f.MemUsageBytes),
    Mem: String(f.MemPerc),
    NetIO: String(f.NetIO),
    BlockIO: String(f.BlockIO),
    PIDS: String(f.PIDs),
    Pod: s.podId.slice(0, 12),
    CID: s.id.slice(0, 12),
    Name: s.name,
  };
}

/** The default table: a row of `--` when there is nothing to show, as podman prints. */
export function podStatsTable(stats: PodContainerStats[]): { headers: string[]; rows: string[][] } {
  const rows = stats.map((s) => {
    const r = podStatsReport(s);
    return COLUMNS.map((c) => r[c]);
  });
  return {
    headers: COLUMNS.map((c) => POD_STATS_HEADERS[c]),
    rows: rows.length ? rows : [COLUMNS.map(() => "--")],
  };
}
