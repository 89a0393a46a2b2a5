/**
 * Reading k8s-file container logs (`<RFC3339Nano> stdout|stderr F|P <text>`), as `logs` prints them:
 * stdout and stderr in order, `P` (partial) lines joined without a newline, `--since/--until/--tail`, `-f`.
 * @module
 */

import { parseInputTime } from "../format/units.ts";
import { PodError } from "../errors.ts";
import { containerPaths, readContainer } from "../store/containers.ts";

/** One parsed log line. */
export interface LogLine {
  /** The timestamp as written. */
  time: string;
  /** Milliseconds since the epoch. */
  ms: number;
  /** Which stream. */
  stream: "stdout" | "stderr";
  /** True for a full line (`F`): a newline follows the text. */
  full: boolean;
  /** The text, without the newline. */
  text: string;
}

/** Parses an RFC 3339 time with any fraction precision; NaN when malformed. */
export function parseTime(t: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(t);
  if (!m) return NaN;
  const frac = (m[2] ?? "").padEnd(3, "0").slice(0, 3);
  return Date.parse(`${m[1]}.${frac}${m[3] ?? "Z"}`);
}

/** Parses one k8s-file line; undefined when malformed. */
export function parseLogLine(line: string): LogLine | undefined {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  const c = line.indexOf(" ", b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? "" : line.slice(c + 1);
  const time = line.slice(0, a);
  return { time, ms: parseTime(time), stream, full: !tag.startsWith("P"), text };
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

/** `logs` options. */
export interface LogOptions {
  /** `-f`. */
  follow?: boolean;
  /** `-t`. */
  timestamps?: boolean;
  /** `--since` in ms. */
  since?: number;
  /** `--until` in ms. */
  until?: number;
  /** With `follow`: how often the log is checked for more, in ms (default 100; `attach` is interactive). */
  pollMs?: number;
  /** `-n/--tail` (negative: all). */
  tail?: number;
  /** Prefix each line (several containers with `--names`). */
  prefix?: string;
}

const enc = new TextEncoder();

function emit(l: LogLine, o: LogOptions): void {
  const head = (o.prefix ?? "") + (o.timestamps ? `${l.time} ` : "");
  const bytes = enc.encode(head + l.text + (l.full ? "\n" : ""));
  try {
    (l.stream === "stdout" ? Deno.stdout : Deno.stderr).writeSync(bytes);
  } catch { /* closed pipe */ }
}

function keep(l: LogLine, o: LogOptions): boolean {
  if (o.since !== undefined && l.ms < o.since) return false;
  if (o.until !== undefined && l.ms > o.until) return false;
  return true;
}

/** Prints a container's logs; with `follow`, keeps printing until the container is no longer running. */
export async function printLogs(root: string, id: string, o: LogOptions): Promise<void> {
  const path = containerPaths(root, id).log;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const dec = new TextDecoder();
  let pending = "";
  let first = true;
  const buf = new Uint8Array(65536);
  const drain = async (): Promise<void> => {
    if (!file) {
      try {
        file = await Deno.open(path, { read: true });
      } catch {
        return;
      }
    }
    const lines: LogLine[] = [];
    for (;;) {
      const n = await file.read(buf);
      if (n === null || n === 0) break;
      pending += dec.decode(buf.subarray(0, n), { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const l = parseLogLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (l && keep(l, o)) lines.push(l);
      }
    }
    let out = lines;
    if (first && o.tail !== undefined && o.tail >= 0) {
      // count whole lines (a P run plus its F line is one line)
      let count = 0, i = lines.length;
      while (i > 0) {
        if (lines[i - 1].full) {
          if (count === o.tail) break;
          count++;
        }
        i--;
      }
      out = lines.slice(i);
    }
    first = false;
    for (const l of out) emit(l, o);
  };
  await drain();
  if (o.follow) {
    for (;;) {
      const rec = await readContainer(root, id).catch(() => undefined);
      const live = rec && (rec.state.status === "running" || rec.state.status === "paused" ||
        rec.state.status === "stopping");
      await drain();
      if (!live) break;
      if (o.until !== undefined && Date.now() > o.until) break;
      await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
    }
    await drain();
  }
  file?.close();
}
