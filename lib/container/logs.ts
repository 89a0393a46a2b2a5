/**
 * Reading k8s-file container logs (`<RFC3339Nano> stdout|stderr F|P <text>`) as records ({@link readLogs}:
 * stdout and stderr in order, `--since/--until/--tail`, `-f`). Prints nothing: `pod logs` writes the records
 * (lib/cli/commands/logs.ts).
 * @module
 */

import { parseInputTime } from "../format/time.ts";
import { PodError } from "../errors.ts";
import { containerPaths, readContainer } from "../store/containers.ts";
import { logFileOf } from "./log_options.ts";

/** One record of a container's log: a line, or a piece of one. */
export interface LogRecord {
  /** Which stream. */
  stream: "stdout" | "stderr";
  /** When it was written (millisecond precision). */
  time: Date;
  /** The timestamp as written (RFC 3339 with nanoseconds). */
  timestamp: string;
  /** The text, without its newline. */
  text: string;
  /** True when the line goes on in the next record of the stream (no newline yet, a `P` line). */
  partial: boolean;
}

/** Parses an RFC 3339 time with any fraction precision; NaN when malformed. */
export function parseTime(t: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(t);
  if (!m) return NaN;
  const frac = (m[2] ?? "").padEnd(3, "0").slice(0, 3);
  return Date.parse(`${m[1]}.${frac}${m[3] ?? "Z"}`);
}

/** Parses one k8s-file line; undefined when malformed. */
export function parseLogLine(line: string): LogRecord | undefined {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  const c = line.indexOf(" ", b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? "" : line.slice(c + 1);
  const timestamp = line.slice(0, a);
  return { timestamp, time: new Date(parseTime(timestamp)), stream, partial: tag.startsWith("P"), text };
}

/**
 * Parses `--since`/`--until` as podman does (`parseInputTime`: RFC 3339, dates, unix seconds, or a Go
 * duration before now). Returns milliseconds since the epoch.
 */
export function parseSince(v: string, now = Date.now()): number {
  try {
    return parseInputTime(v, true, now).getTime();
  } catch {
    throw new PodError(
      `invalid value "${v}" for time: expected an RFC 3339 time, a unix timestamp or a duration`,
    );
  }
}

/** What {@link readLogs} reads. */
export interface LogReadOptions {
  /** Keep reading while the container runs (until it ends, `until` passes or `signal` aborts). */
  follow?: boolean;
  /** Only records written at or after this time (ms since the epoch). */
  since?: number;
  /** Only records written at or before this time (ms since the epoch). */
  until?: number;
  /** Only the last n lines already written (a partial run plus its line count as one); negative: all. */
  tail?: number;
  /** With `follow`: how often the log is checked for more, in ms (default 100; `attach` is interactive). */
  pollMs?: number;
  /** Ends a follow. */
  signal?: AbortSignal;
}

function keep(l: LogRecord, o: LogReadOptions): boolean {
  const ms = l.time.getTime();
  if (o.since !== undefined && ms < o.since) return false;
  if (o.until !== undefined && ms > o.until) return false;
  return true;
}

/** The last `n` whole lines of `lines` (a run of partial records plus its full one counts as one). */
function lastLines(lines: LogRecord[], n: number): LogRecord[] {
  let count = 0, i = lines.length;
  while (i > 0) {
    if (!lines[i - 1].partial) {
      if (count === n) break;
      count++;
    }
    i--;
  }
  return lines.slice(i);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** True when `path` is no longer the file open as `file` (rotated away). */
function rotated(file: Deno.FsFile, path: string): boolean {
  try {
    return Deno.statSync(path).ino !== file.statSync().ino;
  } catch {
    return false;
  }
}

/**
 * A container's log records in order (stdout and stderr interleaved as written); with `follow`, goes on
 * until the container is no longer running. Prints nothing.
 */
export async function* readLogs(root: string, id: string, o: LogReadOptions = {}): AsyncGenerator<LogRecord> {
  const config = (await readContainer(root, id).catch(() => undefined))?.config;
  const path = config ? logFileOf(root, config) : containerPaths(root, id).log;
  let file: Deno.FsFile | undefined;
  const dec = new TextDecoder();
  let pending = "";
  let first = true;
  const buf = new Uint8Array(65536);
  const drain = async (): Promise<LogRecord[]> => {
    if (!file) {
      try {
        file = await Deno.open(path, { read: true });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        return [];
      }
    }
    const lines: LogRecord[] = [];
    for (;;) {
      const n = await file.read(buf);
      if ((n === null || n === 0) && o.follow && config?.logMaxSize && rotated(file, path)) {
        file.close(); // --log-opt max-size: the log was rotated; on with the new one
        file = await Deno.open(path, { read: true });
        continue;
      }
      if (n === null || n === 0) break;
      pending += dec.decode(buf.subarray(0, n), { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const l = parseLogLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (l && keep(l, o)) lines.push(l);
      }
    }
    const out = first && o.tail !== undefined && o.tail >= 0 ? lastLines(lines, o.tail) : lines;
    first = false;
    return out;
  };
  try {
    yield* await drain();
    if (!o.follow) return;
    while (!o.signal?.aborted) {
      const rec = await readContainer(root, id).catch(() => undefined);
      const live = rec && (rec.state.status === "running" || rec.state.status === "paused" ||
        rec.state.status === "stopping");
      yield* await drain();
      if (!live) break;
      if (o.until !== undefined && Date.now() > o.until) break;
      await sleep(o.pollMs ?? 100, o.signal);
    }
    if (!o.signal?.aborted) yield* await drain();
  } finally {
    file?.close();
  }
}
