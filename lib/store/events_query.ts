/**
 * Reading the event log (lib/store/events.ts): `--filter` as podman's `events` takes it (container, event,
 * image, label, pod, type, volume, network; one key given twice matches either value, different keys must all
 * match), a time window, and following the file as it grows (`--stream`).
 * @module
 */

import { UsageError } from "../errors.ts";
import { eventsLogPath, type EventType, parseEventLine, type PodEvent } from "./events.ts";

/** The filter keys podman's `events --filter` knows. */
export const EVENT_FILTER_KEYS = [
  "container",
  "event",
  "status",
  "image",
  "label",
  "pod",
  "type",
  "volume",
  "network",
];

const TYPES: EventType[] = ["container", "image", "volume", "network", "pod", "system"];

/** A parsed `--filter` list: key → accepted values. */
export type EventFilters = Map<string, string[]>;

/** Parses `--filter key=value` words (a usage error names a bad one, as podman does). */
export function parseEventFilters(words: string[]): EventFilters {
  const m: EventFilters = new Map();
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new UsageError(`${w} is an invalid filter`);
    const key = w.slice(0, eq).toLowerCase();
    const value = w.slice(eq + 1);
    if (!EVENT_FILTER_KEYS.includes(key)) throw new UsageError(`${key} is an invalid filter`);
    if (key === "type" && !TYPES.includes(value as EventType)) {
      throw new UsageError(`${value} is an invalid event type`);
    }
    const k = key === "status" ? "event" : key;
    m.set(k, [...(m.get(k) ?? []), value]);
  }
  return m;
}

const shortName = (s: string) => s.replace(/^docker\.io\/(library\/)?/, "").replace(/^localhost\//, "");

function matchOne(e: PodEvent, key: string, v: string): boolean {
  switch (key) {
    case "container":
      return e.Type === "container" && (e.Name === v || (!!e.ID && e.ID.startsWith(v)));
    case "event":
      return e.Status === v || (v === "die" && e.Status === "died");
    case "image": {
      const name = e.Type === "image" ? e.Name ?? "" : e.Image ?? "";
      if (e.Type === "image" && e.ID?.startsWith(v.replace(/^sha256:/, ""))) return true;
      if (!name) return false;
      return name === v || shortName(name) === v || shortName(name) === `${v}:latest` ||
        shortName(name).replace(/:latest$/, "") === v;
    }
    case "label": {
      const eq = v.indexOf("=");
      const attrs = e.Attributes ?? {};
      return eq < 0 ? v in attrs : attrs[v.slice(0, eq)] === v.slice(eq + 1);
    }
    case "pod":
      return !!e.PodID && e.PodID.startsWith(v);
    case "type":
      return e.Type === v;
    case "volume":
      return e.Type === "volume" && e.Name === v;
    case "network":
      return e.Type === "network" && (e.Network === v || (!!e.ID && e.ID.startsWith(v)));
    default:
      return false;
  }
}

/** Whether an event passes the filters (and the `[since, until]` window, in ms since the epoch). */
export function eventMatches(e: PodEvent, f: EventFilters, since?: number, until?: number): boolean {
  if (since !== undefined || until !== undefined) {
    const t = Date.parse(e.Time);
    if (since !== undefined && t < since) return false;
    if (until !== undefined && t > until) return false;
  }
  for (const [k, values] of f) if (!values.some((v) => matchOne(e, k, v))) return false;
  return true;
}

/** Options of {@link readEvents}. */
export interface ReadEventsOptions {
  /** Filters (see {@link parseEventFilters}). */
  filters?: EventFilters;
  /** Only events at or after this time (ms). */
  since?: number;
  /** Only events at or before this time (ms); following stops once the clock passes it. */
  until?: number;
  /** Follow the log as it grows. */
  stream?: boolean;
  /** Following starts at the end of the log (no `since`): only new events. */
  fromEnd?: boolean;
  /** Polling interval while following (ms). */
  pollMs?: number;
  /** Stops following when aborted. */
  signal?: AbortSignal;
}

/** The events of a store's log, oldest first; with `stream`, then those appended later as they come. */
export async function* readEvents(root: string, o: ReadEventsOptions = {}): AsyncGenerator<PodEvent> {
  const path = eventsLogPath(root);
  const filters = o.filters ?? new Map();
  if (!(o.stream && o.fromEnd)) {
    // the rotated part first (whole: it no longer grows)
    const old = await readFrom(`${path}.1`, 0);
    for (const line of new TextDecoder().decode(old).split("\n")) {
      const e = parseEventLine(line);
      if (e && eventMatches(e, filters, o.since, o.until)) yield e;
    }
  }
  let offset = 0;
  let rest = "";
  if (o.stream && o.fromEnd) offset = await fileSize(path);
  const decoder = new TextDecoder();
  for (;;) {
    const chunk = await readFrom(path, offset);
    if (chunk.length) {
      offset += chunk.length;
      const text = rest + decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const e = parseEventLine(line);
        if (e && eventMatches(e, filters, o.since, o.until)) yield e;
      }
    } else if (offset > 0 && await fileSize(path) < offset) {
      offset = 0; // the log was replaced (removed, rotated): start over
      rest = "";
    }
    if (!o.stream || o.signal?.aborted) return;
    if (o.until !== undefined && Date.now() > o.until) return;
    if (!chunk.length) await sleep(o.pollMs ?? 100, o.signal);
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

async function readFrom(path: string, offset: number): Promise<Uint8Array> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch {
    return new Uint8Array(0);
  }
  try {
    await f.seek(offset, Deno.SeekMode.Start);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(65536);
      const n = await f.read(buf);
      if (n === null || n === 0) break;
      parts.push(buf.subarray(0, n));
      total += n;
      if (total > 16 << 20) break;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  } finally {
    f.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}
