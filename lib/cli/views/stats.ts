/**
 * podman's `stats` view: the table (ID NAME CPU % MEM USAGE / LIMIT MEM % NET IO BLOCK IO PIDS CPU TIME
 * AVG CPU %), the template fields (`{{.CPUPerc}}`, `{{.MemUsage}}`…) and the JSON objects.
 * @module
 */

import type { ContainerStats } from "../../container/stats.ts";
import { bytesSize, formatGoDuration, humanSize } from "../../format/units.ts";

/** Header texts of the template fields (`table` templates). */
export const STATS_HEADERS: Record<string, string> = {
  ID: "ID",
  Name: "NAME",
  CPUPerc: "CPU %",
  MemUsage: "MEM USAGE / LIMIT",
  MemUsageBytes: "MEM USAGE / LIMIT",
  MemPerc: "MEM %",
  NetIO: "NET IO",
  BlockIO: "BLOCK IO",
  PIDs: "PIDS",
  UpTime: "CPU TIME",
  AVGCPU: "AVG CPU %",
  CPU: "CPU",
};

const DEFAULT_COLUMNS = [
  "ID",
  "Name",
  "CPUPerc",
  "MemUsage",
  "MemPerc",
  "NetIO",
  "BlockIO",
  "PIDs",
  "UpTime",
  "AVGCPU",
];

const size = (n: number) => humanSize(n).replace(" ", "");
const pct = (n: number) => `${n.toFixed(2)}%`;
const pair = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? "-- / --" : `${size(a)} / ${size(b)}`;

/** The template fields of one sample. */
export function statsFields(s: ContainerStats, noTrunc = false): Record<string, string | number> {
  return {
    ID: noTrunc ? s.id : s.id.slice(0, 12),
    Name: s.name,
    CPUPerc: pct(s.cpuPercent),
    MemUsage: pair(s.memUsage, s.memLimit),
    MemUsageBytes: `${bytesSize(s.memUsage).replace(" ", "")} / ${bytesSize(s.memLimit).replace(" ", "")}`,
    MemPerc: pct(s.memPercent),
    NetIO: pair(s.netInput, s.netOutput),
    BlockIO: pair(s.blockInput, s.blockOutput),
    PIDs: String(s.pids),
    UpTime: formatGoDuration(s.cpuNs / 1e6),
    AVGCPU: pct(s.avgCpuPercent),
    CPU: s.cpuPercent,
  };
}

/** The default table's header and rows. */
export function statsTable(
  stats: ContainerStats[],
  noTrunc = false,
): { headers: string[]; rows: string[][] } {
  return {
    headers: DEFAULT_COLUMNS.map((c) => STATS_HEADERS[c]),
    rows: stats.map((s) => {
      const f = statsFields(s, noTrunc);
      return DEFAULT_COLUMNS.map((c) => String(f[c]));
    }),
  };
}

/** podman's `--format json` object of one sample. */
export function statsJson(s: ContainerStats): Record<string, string> {
  const f = statsFields(s);
  return {
    id: String(f.ID),
    name: s.name,
    cpu_time: String(f.UpTime),
    cpu_percent: String(f.CPUPerc),
    avg_cpu: String(f.AVGCPU),
    mem_usage: String(f.MemUsage),
    mem_percent: String(f.MemPerc),
    net_io: String(f.NetIO),
    block_io: String(f.BlockIO),
    pids: String(f.PIDs),
  };
}
