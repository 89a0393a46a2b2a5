/**
 * podman's `ps` views of containers: the template fields of a row, the default table, the STATUS text and
 * the `--format json` objects.
 * @module
 */

import { readHealthIn } from "../../container/health_state.ts";
import { portsColumn } from "../../network/ports.ts";
import type { ContainerRecord } from "../../store/containers.ts";
import { humanDuration, timeAgo, type TimeInput, toMs } from "../../format/time.ts";

/** podman's `ps` column headers by template field (also the `table` headers of `--format`). */
export const HEADERS: Readonly<Record<string, string>> = {
  ID: "CONTAINER ID",
  Image: "IMAGE",
  ImageID: "IMAGE ID",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  CreatedHuman: "CREATED",
  RunningFor: "CREATED",
  Status: "STATUS",
  State: "STATE",
  Names: "NAMES",
  Ports: "PORTS",
  Labels: "LABELS",
  Mounts: "MOUNTS",
  Pid: "PID",
  ExitCode: "EXIT CODE",
  Size: "SIZE",
  Networks: "NETWORKS",
  Pod: "POD ID",
  PodName: "PODNAME",
};

/** The fields of podman's default `ps` table, in order. */
export const DEFAULT_COLUMNS: readonly string[] = [
  "ID",
  "Image",
  "Command",
  "CreatedHuman",
  "Status",
  "Ports",
  "Names",
];

/** Inputs of {@link psStatus}. */
export interface PsStatusInput {
  /** Container state: `created`, `running`, `exited`, `stopped`, `paused`, … */
  state: string;
  /** When the container last started (for `Up …`). */
  startedAt?: TimeInput;
  /** When it exited (for `Exited (n) … ago`). */
  exitedAt?: TimeInput;
  /** Exit code shown for exited containers. */
  exitCode?: number;
  /** Health check status (`healthy`, `starting`…), appended in parentheses when set. */
  health?: string;
  /** Reference time (default now). */
  now?: number;
}

/**
 * podman ps STATUS: `Up 3 minutes`, `Exited (0) 2 seconds ago`, `Created`, `Paused`, and
 * ` (healthy)` appended when a health status is given.
 */
export function psStatus(s: PsStatusInput): string {
  const now = s.now ?? Date.now();
  let out: string;
  switch (s.state) {
    case "running":
      out = "Up " + humanDuration(now - toMs(s.startedAt ?? now));
      break;
    case "exited":
    case "stopped":
      out = `Exited (${s.exitCode ?? 0}) ${humanDuration(now - toMs(s.exitedAt ?? now))} ago`;
      break;
    case "configured":
      out = "Created";
      break;
    default:
      out = s.state.replace(/(^|[^0-9A-Za-z_])([a-z])/g, (_m, p, c) => p + c.toUpperCase());
  }
  return s.health ? `${out} (${s.health})` : out;
}

/** The STATUS column of `ps` for a container. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  return psStatus({
    state: s.status,
    startedAt: s.startedAt,
    exitedAt: s.finishedAt,
    exitCode: s.exitCode,
    now,
    health: rec.config.healthcheck && s.status === "running" ? readHealthIn(rec.dir).Status : undefined,
  });
}

/** The fields of one `ps` row, named as podman's templates name them. */
export function psRow(
  rec: ContainerRecord,
  noTrunc: boolean,
  now = Date.now(),
  podNames?: Map<string, string>,
): Record<string, unknown> {
  const c = rec.config, s = rec.state;
  let command = c.process.args.join(" ");
  if (!noTrunc && command.length > 17) command = command.slice(0, 17) + "...";
  const created = Date.parse(c.created);
  return {
    ID: noTrunc ? c.id : c.id.slice(0, 12),
    Image: c.image.ref ?? c.image.name,
    ImageID: c.image.id,
    Command: command,
    CreatedAt: new Date(created).toISOString(),
    Created: Math.floor(created / 1000),
    CreatedHuman: timeAgo(c.created, now),
    RunningFor: timeAgo(c.created, now),
    Status: statusText(rec, now),
    State: s.status,
    Names: c.name,
    Ports: portsColumn(c.net?.ports ?? []),
    Labels: c.labels,
    /** `{{ .Label "k" }}`: one label's value, "" when unset (podman's method). */
    Label: (k: string) => c.labels[k] ?? "",
    Mounts: c.mounts.map((m) => m.destination),
    Pid: s.pid,
    ExitCode: s.exitCode,
    Exited: s.status === "exited",
    AutoRemove: c.autoRemove,
    Networks: Object.keys(c.net?.network.networks ?? {}),
    Pod: c.pod ? (noTrunc ? c.pod : c.pod.slice(0, 12)) : "",
    PodName: (c.pod && podNames?.get(c.pod)) ?? "",
    Size: "",
    StartedAt: s.startedAt,
  };
}

/** A row value as the default table shows it (lists as `[a b]`, maps as `map[k:v]`). */
function cell(v: unknown): string {
  if (Array.isArray(v)) return `[${v.join(" ")}]`;
  if (v && typeof v === "object") return `map[${Object.entries(v).map(([k, x]) => `${k}:${x}`).join(" ")}]`;
  return String(v ?? "");
}

/** podman's default `ps` table: its header and one row of cells per container. */
export function psTable(
  list: ContainerRecord[],
  noTrunc: boolean,
  now = Date.now(),
  podNames?: Map<string, string>,
): {
  headers: string[];
  rows: string[][];
} {
  // `ps --pod` (podNames given): POD ID and PODNAME after the default columns
  const columns = podNames ? [...DEFAULT_COLUMNS, "Pod", "PodName"] : DEFAULT_COLUMNS;
  return {
    headers: columns.map((c) => HEADERS[c]),
    rows: list.map((r) => {
      const row = psRow(r, noTrunc, now, podNames);
      return columns.map((c) => cell(row[c]));
    }),
  };
}

/** podman's `ps --format json` object for one container. */
export function psJson(rec: ContainerRecord, podNames?: Map<string, string>): Record<string, unknown> {
  const c = rec.config, s = rec.state;
  const unix = (t: string) => (t.startsWith("0001-") ? 0 : Math.floor(Date.parse(t) / 1000));
  return {
    AutoRemove: c.autoRemove,
    Command: c.process.args,
    CreatedAt: timeAgo(c.created),
    Exited: s.status === "exited",
    ExitedAt: unix(s.finishedAt),
    ExitCode: s.exitCode,
    Id: c.id,
    Image: c.image.ref ?? c.image.name,
    ImageID: c.image.id,
    IsInfra: !!c.isInfra,
    Labels: Object.keys(c.labels).length ? c.labels : null,
    Mounts: c.mounts.map((m) => m.destination),
    Names: [c.name],
    Namespaces: {},
    Networks: Object.keys(c.net?.network.networks ?? {}),
    Pid: s.pid,
    Pod: c.pod ?? "",
    PodName: (c.pod && podNames?.get(c.pod)) ?? "",
    Ports: c.net?.ports.length ? c.net.ports : null,
    Size: null,
    StartedAt: unix(s.startedAt),
    State: s.status,
    Status: statusText(rec),
    Created: Math.floor(Date.parse(c.created) / 1000),
  };
}
