/**
 * Diagnostics on stderr: warnings always, debug notes with `--log-level=debug` or `POD_DEBUG`. A library
 * user installs a {@link LogHandler} instead ({@link setLogHandler}): the notes then go there, never to stderr.
 * @module
 */

/** Receives warnings and debug notes instead of stderr. */
export type LogHandler = (level: "debug" | "warn", message: string) => void;

let handler: LogHandler | undefined;

/** Routes warnings and debug notes to `h` (`undefined`: back to stderr). */
export function setLogHandler(h: LogHandler | undefined): void {
  handler = h;
}

/** `POD_DEBUG` set (false when env access is not granted: the library may be imported without it). */
function debugEnv(): boolean {
  try {
    return !!Deno.env.get("POD_DEBUG");
  } catch {
    return false;
  }
}

let level: "debug" | "info" | "warn" | "error" = debugEnv() ? "debug" : "warn";
const warned = new Set<string>();
const enc = new TextEncoder();

/** Sets the log level (`--log-level`). */
export function setLogLevel(l: string): void {
  if (l === "warning") l = "warn";
  if (l !== "debug" && l !== "info" && l !== "warn" && l !== "error") {
    throw new Error(`invalid log level "${l}": use debug, info, warn or error`);
  }
  level = l;
}

/** True when debug notes are printed. */
export function isDebug(): boolean {
  return level === "debug";
}

function write(line: string): void {
  try {
    Deno.stderr.writeSync(enc.encode(line + "\n"));
  } catch { /* stderr closed: nothing to do */ }
}

/** Prints a debug note (`--log-level=debug`). */
export function debug(msg: string): void {
  if (level !== "debug") return;
  if (handler) handler("debug", msg);
  else write(`DEBU[0000] ${msg}`);
}

/** Prints a warning. */
export function warn(msg: string): void {
  if (level === "error") return;
  if (handler) handler("warn", msg);
  else write(`WARN[0000] ${msg}`);
}

/**
 * Prints `msg` as a line of its own, without the `WARN[0000]` prefix and whatever the level: podman's plain
 * warning lines (ignored resource limits…). With a {@link LogHandler}, it gets them as warnings. `run` writes
 * them through here rather than lib/cli/output.ts, which (with its table module) it would load for them only.
 */
export function warnLine(msg: string): void {
  if (handler) handler("warn", msg);
  else write(msg);
}

/** Prints a warning once per process for a given key. */
export function warnOnce(key: string, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  warn(msg);
}

/** `POD_TRACE_TIMES` set: {@link traceTime} writes its stamps (off by default; false without env access). */
const tracing = (() => {
  try {
    return !!Deno.env.get("POD_TRACE_TIMES");
  } catch {
    return false;
  }
})();

/**
 * With `POD_TRACE_TIMES=1`, writes `TIME <epoch ms, 3 decimals> <pid> <label>` on stderr: a profile of the
 * start-up path across processes (the CLI, stage 2), sortable by its time column. A no-op otherwise.
 */
export function traceTime(label: string): void {
  if (!tracing) return;
  const t = performance.timeOrigin + performance.now();
  write(`TIME ${t.toFixed(3)} ${Deno.pid} ${label}`);
}
