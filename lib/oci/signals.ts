/**
 * Linux signal names and numbers (x86_64/aarch64 numbering), parsed the way podman accepts them:
 * `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+3`.
 * @module
 */

import { PodError } from "../errors.ts";

/** Signal numbers by name (without the `SIG` prefix). */
export const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
  RTMIN: 34,
  RTMAX: 64,
};

/** Parses a signal name or number; returns its number. Throws podman's `invalid signal` error. */
export function parseSignal(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n >= 1 && n <= 64) return n;
    throw new PodError(`invalid signal: ${s}`);
  }
  let name = t.toUpperCase();
  if (name.startsWith("SIG")) name = name.slice(3);
  const rt = /^RTMIN\+(\d+)$/.exec(name) ?? /^RTMAX-(\d+)$/.exec(name);
  if (rt) {
    const n = name.startsWith("RTMIN") ? 34 + Number(rt[1]) : 64 - Number(rt[1]);
    if (n >= 34 && n <= 64) return n;
  }
  const n = SIGNALS[name];
  if (n === undefined) throw new PodError(`invalid signal: ${s}`);
  return n;
}

/** The canonical name of a signal number (`SIGTERM`). */
export function signalName(n: number): string {
  for (const [k, v] of Object.entries(SIGNALS)) {
    if (v === n && k !== "IOT" && k !== "CLD" && k !== "POLL") return `SIG${k}`;
  }
  if (n > 34 && n < 64) return `SIGRTMIN+${n - 34}`;
  return String(n);
}

/** Parses a signal and returns its canonical name. */
export function normalizeSignal(s: string): string {
  return signalName(parseSignal(s));
}
