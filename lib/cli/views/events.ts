/**
 * How `pod events` prints an event: podman's human line (`ToHumanReadable`) and the fields its `--format`
 * templates see (`.Time` as Go prints a `time.Time`).
 * @module
 */

import type { PodEvent } from "../../store/events.ts";

/** Go's `time.Time.String()` of an RFC3339Nano time, in the local zone: `2006-01-02 15:04:05.999999999 -0700 MST`. */
export function goTimeString(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return rfc3339;
  const frac = /\.(\d+)/.exec(rfc3339)?.[1]?.replace(/0+$/, "") ?? "";
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000).toISOString();
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  const zoneOff = `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}${String(a % 60).padStart(2, "0")}`;
  let abbr = off === 0 ? "UTC" : zoneOff;
  try {
    const name = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d)
      .find((p) => p.type === "timeZoneName")?.value;
    if (name && /^[A-Z]{2,5}$/.test(name)) abbr = name;
  } catch { /* no Intl zone data */ }
  return `${local.slice(0, 10)} ${local.slice(11, 19)}${frac ? "." + frac : ""} ${zoneOff} ${abbr}`;
}

/** podman's one-line form of an event. */
export function eventHuman(e: PodEvent, truncate: boolean): string {
  const id = truncate && e.ID && e.ID.length > 12 ? e.ID.slice(0, 12) : e.ID ?? "";
  const t = goTimeString(e.Time);
  switch (e.Type) {
    case "container":
    case "pod": {
      let s = `${t} ${e.Type} ${e.Status} ${id} (image=${e.Image ?? ""}, name=${e.Name ?? ""}`;
      if (e.PodID) s += `, pod_id=${e.PodID}`;
      if (e.HealthStatus) s += `, health_status=${e.HealthStatus}`;
      for (const [k, v] of Object.entries(e.Attributes ?? {})) s += `, ${k}=${v}`;
      return s + ")";
    }
    case "network":
      return `${t} ${e.Type} ${e.Status} ${id} (container=${id}, name=${e.Network ?? ""})`;
    case "image":
      return `${t} ${e.Type} ${e.Status} ${id} ${e.Name ?? ""}`;
    case "system":
      return e.Name ? `${t} ${e.Type} ${e.Status} ${e.Name}` : `${t} ${e.Type} ${e.Status}`;
    default:
      return `${t} ${e.Type} ${e.Status} ${e.Name ?? ""}`;
  }
}

/** The fields a `--format` template sees (podman's `Event` struct; absent fields are Go's zero values). */
export function eventTemplateItem(e: PodEvent): Record<string, unknown> {
  return {
    ContainerExitCode: e.ContainerExitCode ?? 0,
    ID: e.ID ?? "",
    Image: e.Image ?? "",
    Name: e.Name ?? "",
    Network: e.Network ?? "",
    Status: e.Status,
    Time: goTimeString(e.Time),
    TimeNano: Math.round(Date.parse(e.Time) * 1e6),
    Type: e.Type,
    HealthStatus: e.HealthStatus ?? "",
    PodID: e.PodID ?? "",
    Attributes: e.Attributes ?? {},
  };
}
