/**
 * The event log: podman's `events_logger=file` shape, one JSON object per line in `<root>/events/events.log`
 * (`{"ID":…,"Image":…,"Name":…,"Status":"start","Time":"<RFC3339Nano>","Type":"container","Attributes":{…}}`),
 * written by every command that changes state and by the detached supervisor (`died`). Each line is appended
 * with one `write(2)` on an `O_APPEND` descriptor, so concurrent writers never interleave. Writing never fails a
 * command: an unwritable log is skipped. `POD_EVENTS_BACKEND=none` (`--events-backend none`) turns it off.
 * This module imports nothing, so the hot paths (`exec`, `run --rm`) may load it cheaply.
 * @module
 */

/** What podman's events are about. */
export type EventType = "container" | "image" | "volume" | "network" | "pod" | "system";

/** One event, with podman's field names (JSON order as podman's `Event` struct). */
export interface PodEvent {
  /** A container's exit code (`died`, `exec_died`), omitted when 0. */
  ContainerExitCode?: number;
  /** Container or image id. */
  ID?: string;
  /** A container's image name. */
  Image?: string;
  /** Container name, image reference or path, volume name. */
  Name?: string;
  /** The network (network events). */
  Network?: string;
  /** What happened: `create`, `start`, `died`, `pull`, `tag`… */
  Status: string;
  /** When, RFC3339 with nanoseconds (Go's `time.RFC3339Nano`). */
  Time: string;
  /** What it is about. */
  Type: EventType;
  /** A health check's result (`health_status`). */
  HealthStatus?: string;
  /** The pod of a container. */
  PodID?: string;
  /** A container's labels (and extra details); null for other types, as podman writes it. */
  Attributes?: Record<string, string> | null;
}

/** The log file of a store. */
export function eventsLogPath(root: string): string {
  return `${root}/events/events.log`;
}

/** Whether events are written at all (`--events-backend none` sets `POD_EVENTS_BACKEND=none`). */
export function eventsEnabled(): boolean {
  try {
    return Deno.env.get("POD_EVENTS_BACKEND") !== "none";
  } catch {
    return true;
  }
}

/** Go's RFC3339Nano of a time in ms (plus optional sub-ms nanoseconds): trailing zeros of the fraction cut. */
export function rfc3339Nano(ms: number = Date.now(), subNs = 0): string {
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.123Z
  const nanos = String(Number(iso.slice(20, 23)) * 1e6 + Math.floor(subNs)).padStart(9, "0").replace(
    /0+$/,
    "",
  );
  return iso.slice(0, 19) + (nanos ? "." + nanos : "") + "Z";
}

/** Now as RFC3339Nano (the sub-millisecond part from the monotonic clock, for ordering). */
export function eventTime(): string {
  return rfc3339Nano(Date.now(), Math.floor((performance.now() % 1) * 1e6));
}

/** The JSON line of an event, fields in podman's order. */
export function eventLine(e: Omit<PodEvent, "Time"> & { Time?: string }): string {
  const o: Record<string, unknown> = {};
  if (e.ContainerExitCode) o.ContainerExitCode = e.ContainerExitCode;
  if (e.ID) o.ID = e.ID;
  if (e.Image) o.Image = e.Image;
  if (e.Name) o.Name = e.Name;
  if (e.Network) o.Network = e.Network;
  o.Status = e.Status;
  o.Time = e.Time ?? eventTime();
  o.Type = e.Type;
  if (e.HealthStatus) o.HealthStatus = e.HealthStatus;
  if (e.PodID) o.PodID = e.PodID;
  o.Attributes = e.Attributes ?? (e.Type === "container" ? {} : null);
  return JSON.stringify(o) + "\n";
}

/**
 * The size past which the log is rotated (`events.log` → `events.log.1`, the older one dropped), like podman's
 * `events_logfile_max_size` (1 MiB); `POD_EVENTS_MAX_SIZE` (bytes) overrides it.
 */
export function eventsMaxSize(): number {
  try {
    const v = Number(Deno.env.get("POD_EVENTS_MAX_SIZE"));
    return Number.isFinite(v) && v > 0 ? v : 1 << 20;
  } catch {
    return 1 << 20;
  }
}

/** Appends lines to the log in one write (O_APPEND), rotating a full log first; never throws. */
export function appendEventLines(root: string, text: string): void {
  if (!text || !eventsEnabled()) return;
  const path = eventsLogPath(root);
  const data = new TextEncoder().encode(text);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      let f = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
      try {
        const st = f.statSync();
        if (st.size > 0 && st.size + data.length > eventsMaxSize()) {
          // rename is atomic; only while the name is still this file (another writer may have rotated it)
          try {
            if (Deno.statSync(path).ino === st.ino) Deno.renameSync(path, `${path}.1`);
          } catch { /* rotated meanwhile */ }
          f.close();
          f = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
        }
        f.writeSync(data);
      } finally {
        f.close();
      }
      return;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) || attempt) return;
      try {
        Deno.mkdirSync(`${root}/events`, { recursive: true, mode: 0o700 });
      } catch {
        return;
      }
    }
  }
}

/** Appends events (each one line). */
export function writeEvents(root: string, ...events: (Omit<PodEvent, "Time"> & { Time?: string })[]): void {
  if (!eventsEnabled()) return;
  appendEventLines(root, events.map(eventLine).join(""));
}

/** What a container event needs of a container record. */
export interface ContainerEventSource {
  /** The record's config (id, name, image, labels). */
  config: { id: string; name: string; image: { ref?: string; name: string }; labels: Record<string, string> };
}

/** A container's event (`create`, `start`, `stop`…), its labels as attributes as podman writes them. */
export function containerEvent(
  rec: ContainerEventSource,
  status: string,
  extra: { exitCode?: number; attributes?: Record<string, string> } = {},
): Omit<PodEvent, "Time"> {
  const c = rec.config;
  return {
    ContainerExitCode: extra.exitCode,
    ID: c.id,
    Image: c.image.ref ?? c.image.name,
    Name: c.name,
    Status: status,
    Type: "container",
    Attributes: { ...c.labels, ...extra.attributes },
  };
}

/** Appends container events with the given statuses (in order). */
export function writeContainerEvents(
  root: string,
  rec: ContainerEventSource,
  statuses: string[],
  extra?: { exitCode?: number },
): void {
  writeEvents(root, ...statuses.map((s) => containerEvent(rec, s, extra)));
}

/** Parses one line of the log (undefined for a broken or partial line). */
export function parseEventLine(line: string): PodEvent | undefined {
  if (!line.trim()) return undefined;
  try {
    const e = JSON.parse(line) as PodEvent;
    return typeof e.Status === "string" && typeof e.Type === "string" && typeof e.Time === "string"
      ? e
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The parts of a container's `died`/`cleanup` lines the detached supervisor writes itself (see
 * lib/ns/supervisor.ts `SupervisorEvents`); undefined when events are off.
 */
export function supervisorEventParts(
  root: string,
  rec: ContainerEventSource,
): { path: string; head: string; tail: string } | undefined {
  if (!eventsEnabled()) return undefined;
  const e = containerEvent(rec, "died");
  const head = JSON.stringify({ ID: e.ID, Image: e.Image || undefined, Name: e.Name || undefined }).slice(
    1,
    -1,
  );
  return {
    path: eventsLogPath(root),
    head,
    tail: `,"Type":"container","Attributes":${JSON.stringify(e.Attributes)}}`,
  };
}
