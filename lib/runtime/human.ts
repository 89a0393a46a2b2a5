/**
 * podman's human times for `ps` (docker/go-units HumanDuration): "3 seconds ago", "Up 5 minutes",
 * "Exited (0) 2 hours ago".
 * @module
 */

import type { ContainerRecord } from "../store/containers.ts";

/** go-units `HumanDuration`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** Milliseconds since an RFC 3339 time. */
export function since(t: string, now = Date.now()): number {
  return Math.max(0, now - Date.parse(t));
}

/** The STATUS column of `ps`. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case "running":
      return `Up ${humanDuration(since(s.startedAt, now))}`;
    case "paused":
      return `Up ${humanDuration(since(s.startedAt, now))} (Paused)`;
    case "stopping":
      return "Stopping";
    case "exited":
      return `Exited (${s.exitCode}) ${humanDuration(since(s.finishedAt, now))} ago`;
    default:
      return "Created";
  }
}
