/**
 * Diagnostics on stderr: warnings always, debug notes with `--log-level=debug` or `POD_DEBUG`.
 * @module
 */

let level: "debug" | "info" | "warn" | "error" = Deno.env.get("POD_DEBUG") ? "debug" : "warn";
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
  if (level === "debug") write(`DEBU[0000] ${msg}`);
}

/** Prints a warning. */
export function warn(msg: string): void {
  if (level !== "error") write(`WARN[0000] ${msg}`);
}

/** Prints a warning once per process for a given key. */
export function warnOnce(key: string, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  warn(msg);
}
