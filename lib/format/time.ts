/**
 * Durations and times the way podman prints and parses them: go-units `HumanDuration`, Go's `time` durations,
 * podman's `util.ParseInputTime`. Durations are milliseconds (JS numbers). Loads nothing else (the size
 * units in units.ts need Go's float formatting; `ps` does not).
 * @module
 */

/**
 * go-units `HumanDuration`: `Less than a second`, `1 second`, `5 seconds`, `About a minute`,
 * `5 minutes`, `About an hour`, `3 hours`, `2 days`, `3 weeks`, `4 months`, `2 years`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (!(seconds >= 1)) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000); // d.Round(time.Hour): halves away from zero (ms > 0 here)
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** A point in time as accepted by the helpers: Date, epoch milliseconds or a parseable date string. */
export type TimeInput = Date | number | string;

/** Milliseconds since the epoch of a {@link TimeInput}. */
export function toMs(t: TimeInput): number {
  if (t instanceof Date) return t.getTime();
  if (typeof t === "number") return t;
  return new Date(t).getTime();
}

/** `5 minutes ago` — podman's CREATED column: `HumanDuration(time.Since(t)) + " ago"`. */
export function timeAgo(t: TimeInput, now: number = Date.now()): string {
  return `${humanDuration(now - toMs(t))} ago`;
}

// ---------------------------------------------------------------------------------------------
// Go durations

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Go's `time.ParseDuration` (`300ms`, `-1.5h`, `2h45m`, `1h30m`, `90s`; units ns us µs ms s m h).
 * Returns milliseconds; throws `time: invalid duration "…"` like Go.
 */
export function parseGoDuration(s: string): number {
  const orig = s;
  const bad = (): never => {
    throw new Error(`time: invalid duration "${orig}"`);
  };
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") bad();
  let ns = 0;
  while (s !== "") {
    const m = /^([0-9]*)(\.[0-9]*)?/.exec(s)!;
    if (m[0] === "" || m[0] === ".") bad();
    s = s.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(s)![0];
    if (u === "") throw new Error(`time: missing unit in duration "${orig}"`);
    const mult = UNIT_NS[u];
    if (mult === undefined) throw new Error(`time: unknown unit "${u}" in duration "${orig}"`);
    s = s.slice(u.length);
    ns += Number(m[0].endsWith(".") ? m[0].slice(0, -1) || "0" : m[0]) * mult;
  }
  if (ns > 9.223372036854775807e18) bad();
  return (neg ? -ns : ns) / 1e6;
}

function fracString(v: bigint, prec: number): [string, bigint] {
  let digits = "";
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print ||= digit !== 0n;
    if (print) digits = digit.toString() + digits;
    v /= 10n;
  }
  return [print ? "." + digits : "", v];
}

/** Go's `time.Duration.String()` of milliseconds: `1h30m0s`, `1.5s`, `500ms`, `0s`. */
export function formatGoDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1_000_000_000n) {
    if (ns < 1000n) out = `${ns}ns`;
    else if (ns < 1_000_000n) {
      const [f, w] = fracString(ns, 3);
      out = `${w}${f}µs`;
    } else {
      const [f, w] = fracString(ns, 6);
      out = `${w}${f}ms`;
    }
  } else {
    const [f, secs] = fracString(ns, 9);
    out = `${secs % 60n}${f}s`;
    const mins = secs / 60n;
    if (mins > 0n) {
      out = `${mins % 60n}m` + out;
      const hours = mins / 60n;
      if (hours > 0n) out = `${hours}h` + out;
    }
  }
  return (neg ? "-" : "") + out;
}

// ---------------------------------------------------------------------------------------------
// --since / --until

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function parseTimestamp(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month < 1 || month > 12) return null;
  if (day < 1 || day > (month === 2 && leap ? 29 : DAYS[month - 1])) return null;
  const h = Number(hh ?? 0);
  const min = Number(mi ?? 0);
  const sec = Number(ss ?? 0);
  if (h > 23 || min > 59 || sec > 59) return null;
  let offset = 0;
  if (zone && zone !== "Z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offset = (oh * 60 + om) * (zone[0] === "-" ? -1 : 1);
  }
  const ms = frac ? Math.floor(Number("0" + frac) * 1000) : 0;
  const d0 = new Date(0);
  d0.setUTCFullYear(year, month - 1, day);
  d0.setUTCHours(h, min, sec, ms);
  return d0.getTime() - offset * 60_000;
}

/**
 * podman's `ParseInputTime` for `--since`/`--until`/`--filter since=`: RFC 3339 (with fraction and
 * `Z`/`+00:00` zones), `2006-01-02T15:04:05`, `2006-01-02Z07:00`, `2006-01-02` (UTC), unix seconds
 * with optional fraction, or a Go duration relative to now (subtracted when `since`, added otherwise).
 * Precision is milliseconds. Throws `unable to interpret time value` otherwise.
 */
export function parseInputTime(input: string, since = true, now: number = Date.now()): Date {
  const t = parseTimestamp(input);
  if (t !== null) return new Date(t);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(input)) {
    const v = Number(input);
    const whole = Math.trunc(v);
    return new Date(whole * 1000 + Math.trunc((v - whole) * 1e9) / 1e6);
  }
  let d: number;
  try {
    d = parseGoDuration(input);
  } catch {
    throw new Error("unable to interpret time value");
  }
  return new Date(since ? now - d : now + d);
}
