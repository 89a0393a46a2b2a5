/**
 * Go's value model and low-level formatting, as used by the template engine and the human units.
 *
 * JavaScript values are mapped onto Go kinds:
 * `undefined` → an invalid value (prints `<no value>`), `null` → nil, booleans → bool, safe integers and
 * bigints → int, other numbers → float64, strings → string, arrays and typed arrays → slices, `Map`
 * instances and objects marked with {@link goMap} → maps (iterated in sorted key order), `Date` →
 * time.Time, functions → methods, every other object → a struct (fields in insertion order).
 *
 * One file over 400 lines on purpose: Go's value model and its formatting rules are one thing.
 * @module
 */

/** The Go kind a JavaScript value stands for. */
export type GoKind =
  | "invalid"
  | "nil"
  | "bool"
  | "int"
  | "float"
  | "string"
  | "slice"
  | "map"
  | "struct"
  | "time"
  | "func";

interface MapInfo {
  zero: unknown;
  hasZero: boolean;
}

const mapRegistry = new WeakMap<object, MapInfo>();
const typeRegistry = new WeakMap<object, string>();

/**
 * Marks a plain object as a Go map (e.g. `Labels`, `Annotations`), so that a missing key prints
 * `<no value>` instead of being an error, and it prints as `map[k:v …]` with sorted keys.
 * `zero` is the value `index` returns for a missing key (Go's zero value of the element type);
 * without it the zero is inferred (`""` when every value is a string). Returns `obj` itself.
 */
export function goMap<T extends object>(obj: T, ...zero: [] | [unknown]): T {
  mapRegistry.set(obj, { zero: zero[0], hasZero: zero.length > 0 });
  return obj;
}

/** Names the Go type of a struct-like object, used in error messages (e.g. `define.InspectContainerData`). */
export function goStruct<T extends object>(obj: T, typeName: string): T {
  typeRegistry.set(obj, typeName);
  return obj;
}

/** True when `v` is a `Map` or was marked with {@link goMap} (or is in `extra`). */
export function isGoMap(v: unknown, extra?: WeakSet<object>): boolean {
  if (typeof v !== "object" || v === null) return false;
  return v instanceof Map || mapRegistry.has(v) || (extra !== undefined && extra.has(v));
}

/** The Go kind of a JavaScript value; `extra` holds objects to treat as maps for this call. */
export function goKind(v: unknown, extra?: WeakSet<object>): GoKind {
  switch (typeof v) {
    case "undefined":
      return "invalid";
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return Number.isSafeInteger(v) ? "int" : "float";
    case "string":
      return "string";
    case "function":
      return "func";
    case "symbol":
      return "string";
    case "object":
      if (v === null) return "nil";
      if (Array.isArray(v) || ArrayBuffer.isView(v)) return "slice";
      if (v instanceof Date) return "time";
      if (isGoMap(v, extra)) return "map";
      return "struct";
  }
  return "invalid";
}

/** Elements of a slice value (arrays and typed arrays). */
export function sliceItems(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>);
  }
  return [];
}

/** Compares strings by code point, i.e. in the byte order of their UTF-8 encoding (Go's string order). */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j);
}

/** Entries of a map value in Go's printing order (keys sorted; numbers numerically). */
export function mapEntries(v: unknown): [unknown, unknown][] {
  let entries: [unknown, unknown][];
  if (v instanceof Map) entries = [...v.entries()];
  else if (typeof v === "object" && v !== null) entries = Object.entries(v);
  else return [];
  return entries.sort(([a], [b]) => {
    if (typeof a === "number" && typeof b === "number") return a - b;
    return compareGoStrings(String(a), String(b));
  });
}

/** Looks a key up in a map value; `undefined` when missing. */
export function mapGet(m: unknown, key: unknown): { found: boolean; value: unknown } {
  if (m instanceof Map) return { found: m.has(key), value: m.get(key) };
  if (typeof m === "object" && m !== null && typeof key === "string" && Object.hasOwn(m, key)) {
    return { found: true, value: (m as Record<string, unknown>)[key] };
  }
  return { found: false, value: undefined };
}

/** Number of entries in a map value. */
export function mapSize(m: unknown): number {
  if (m instanceof Map) return m.size;
  if (typeof m === "object" && m !== null) return Object.keys(m).length;
  return 0;
}

/** Go's zero value for a missing key of a map (as `index` returns it). */
export function mapZero(m: unknown): unknown {
  if (typeof m === "object" && m !== null) {
    const info = mapRegistry.get(m);
    if (info?.hasZero) return info.zero;
  }
  const values = m instanceof Map ? [...m.values()] : Object.values(m as object);
  if (values.every((x) => typeof x === "string")) return "";
  if (values.every((x) => typeof x === "boolean")) return false;
  if (values.every((x) => typeof x === "number")) return 0;
  return undefined;
}

/** Own fields of a struct value in declaration (insertion) order. */
export function structEntries(v: object): [string, unknown][] {
  return Object.entries(v).filter(([, x]) => typeof x !== "function");
}

/** Go type name of a value, for messages such as `%!d(string=x)` and `can't evaluate field X in type T`. */
export function goTypeName(v: unknown, extra?: WeakSet<object>): string {
  const k = goKind(v, extra);
  switch (k) {
    case "invalid":
    case "nil":
      return "<nil>";
    case "bool":
      return "bool";
    case "int":
      return "int";
    case "float":
      return "float64";
    case "string":
      return "string";
    case "time":
      return "time.Time";
    case "func":
      return "func";
    case "slice": {
      if (v instanceof Uint8Array) return "[]uint8";
      const items = sliceItems(v);
      const t = elemType(items, extra);
      return `[]${t}`;
    }
    case "map": {
      const named = typeRegistry.get(v as object);
      if (named) return named;
      const vals = v instanceof Map ? [...v.values()] : Object.values(v as object);
      return `map[string]${elemType(vals, extra)}`;
    }
    case "struct": {
      const named = typeRegistry.get(v as object);
      if (named) return named;
      const ctor = (v as object).constructor?.name;
      return ctor && ctor !== "Object" ? ctor : "struct";
    }
  }
}

function elemType(items: unknown[], extra?: WeakSet<object>): string {
  if (items.length === 0) return "interface {}";
  const first = goTypeName(items[0], extra);
  if (first === "<nil>") return "interface {}";
  return items.every((x) => goTypeName(x, extra) === first) ? first : "interface {}";
}

// ---------------------------------------------------------------------------------------------
// floats

/** Decimal digits `d` (no leading/trailing zeros) and point position `dp`: value = 0.d × 10^dp. */
interface Digits {
  d: string;
  dp: number;
}

/** Shortest digits that round-trip (what Go's `prec = -1` uses). */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  const [mant, exp] = x.toExponential().split("e");
  return { d: mant.replace(".", "").replace(/0+$/, ""), dp: Number(exp) + 1 };
}

const f64 = new DataView(new ArrayBuffer(8));

/** The exact decimal expansion of a finite non-negative double. */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) {
    e = -1074;
  } else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  const lead = digits.match(/^0*/)![0].length;
  digits = digits.slice(lead).replace(/0+$/, "");
  return { d: digits, dp };
}

/** Rounds to `nd` digits, half to even on exact ties (Go's `decimal.Round`). */
function roundDigits(v: Digits, nd: number): Digits {
  const { d, dp } = v;
  if (nd < 0 || nd >= d.length) return v;
  const next = d.charCodeAt(nd) - 48;
  let up = next > 5 || (next === 5 && nd + 1 < d.length);
  if (next === 5 && nd + 1 === d.length) up = nd > 0 && (d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return { d: d.slice(0, nd).replace(/0+$/, ""), dp: nd === 0 ? 0 : dp };
  let i = nd - 1;
  while (i >= 0 && d[i] === "9") i--;
  if (i < 0) return { d: "1", dp: dp + 1 };
  return { d: d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1), dp };
}

function fmtE(d: string, dp: number, prec: number, e: string): string {
  const first = d.length > 0 ? d[0] : "0";
  let out = first;
  if (prec > 0) {
    let frac = d.slice(1, 1 + prec);
    frac += "0".repeat(prec - frac.length);
    out += "." + frac;
  }
  const exp = d.length === 0 ? 0 : dp - 1;
  const ae = Math.abs(exp);
  return out + e + (exp < 0 ? "-" : "+") + (ae < 10 ? "0" : "") + ae;
}

function fmtF(d: string, dp: number, prec: number): string {
  let out = "";
  if (dp > 0) {
    out = d.slice(0, dp);
    out += "0".repeat(Math.max(0, dp - d.length));
  } else {
    out = "0";
  }
  if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) {
      const j = dp + i;
      out += j >= 0 && j < d.length ? d[j] : "0";
    }
  }
  return out;
}

/**
 * Formats a float like Go's `strconv.FormatFloat(x, fmt, prec, 64)` for `fmt` in `e E f F g G`;
 * `prec` −1 means the shortest representation that round-trips. NaN → `NaN`, ±Inf → `+Inf`/`-Inf`.
 */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? "-" : "";
  const ax = Math.abs(x);
  const upper = fmt === "E" || fmt === "G";
  const e = upper ? "E" : "e";
  const shortest = prec < 0;
  switch (fmt) {
    case "e":
    case "E": {
      const { d, dp } = shortest ? shortestDigits(ax) : roundDigits(exactDigits(ax), prec + 1);
      const p = shortest ? Math.max(d.length - 1, 0) : prec;
      return sign + fmtE(d, dp, p, e);
    }
    case "f":
    case "F": {
      if (shortest) {
        const { d, dp } = shortestDigits(ax);
        return sign + fmtF(d, dp, Math.max(d.length - dp, 0));
      }
      const ex = exactDigits(ax);
      const { d, dp } = roundDigits(ex, ex.dp + prec);
      return sign + fmtF(d, dp, prec);
    }
    default: {
      // g / G
      let p = prec;
      if (p === 0) p = 1;
      const { d, dp } = shortest ? shortestDigits(ax) : roundDigits(exactDigits(ax), p);
      const nd = d.length;
      if (shortest) p = nd;
      let eprec = p;
      if (eprec > nd && nd >= dp) eprec = nd;
      if (shortest) eprec = 6;
      const exp = dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (p > nd) p = nd;
        return sign + fmtE(d, dp, Math.max(p - 1, 0), e);
      }
      if (p > dp) p = nd;
      return sign + fmtF(d, dp, Math.max(p - dp, 0));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// quoting

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and the ASCII space). */
export function isGoPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp < 0x7f) return true;
  return printable.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

function quoteWith(s: string, q: string, asciiOnly: boolean): string {
  let out = q;
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate: not valid text
    if (ch === q || ch === "\\") {
      out += "\\" + ch;
      continue;
    }
    if (asciiOnly ? cp < 0x7f && isGoPrint(cp) : isGoPrint(cp)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    switch (cp) {
      case 7:
        out += "\\a";
        continue;
      case 8:
        out += "\\b";
        continue;
      case 12:
        out += "\\f";
        continue;
      case 10:
        out += "\\n";
        continue;
      case 13:
        out += "\\r";
        continue;
      case 9:
        out += "\\t";
        continue;
      case 11:
        out += "\\v";
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += "\\x" + hex(cp, 2);
    else if (cp < 0x10000) out += "\\u" + hex(cp, 4);
    else out += "\\U" + hex(cp, 8);
  }
  return out + q;
}

/** Go's `strconv.Quote`: a double-quoted string with Go escapes; printable Unicode is kept as is. */
export function goQuote(s: string): string {
  return quoteWith(s, '"', false);
}

/** Go's `strconv.QuoteToASCII`: like {@link goQuote} but every non-ASCII rune is escaped. */
export function goQuoteASCII(s: string): string {
  return quoteWith(s, '"', true);
}

/** Go's `strconv.QuoteRune`: a single-quoted rune literal. */
export function goQuoteRune(cp: number, asciiOnly = false): string {
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return quoteWith(String.fromCodePoint(cp), "'", asciiOnly);
}

/** Go's `strconv.CanBackquote`: the string can be written as a raw string literal. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x60 || cp === 0xfeff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if ((cp < 0x20 && cp !== 9) || cp === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// UTF-8 helpers (Go strings are bytes)

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** True when every code unit is ASCII, i.e. byte offsets equal string offsets. */
export function isAscii(s: string): boolean {
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

/** Length of a string in UTF-8 bytes (Go's `len`). */
export function byteLength(s: string): number {
  return isAscii(s) ? s.length : encoder.encode(s).length;
}

/** Number of runes (code points) in a string, as `utf8.RuneCountInString`. */
export function runeCount(s: string): number {
  if (isAscii(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** UTF-8 bytes of a string. */
export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Byte-indexed substring (Go's `s[i:j]`); a cut through a multi-byte rune yields U+FFFD. */
export function byteSlice(s: string, i: number, j: number): string {
  if (isAscii(s)) return s.slice(i, j);
  return decoder.decode(encoder.encode(s).subarray(i, j));
}

/** Decodes UTF-8 bytes (invalid sequences become U+FFFD). */
export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}

// ---------------------------------------------------------------------------------------------
// time

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Go's `time.Time.String()` of a date in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTimeString(d: Date): string {
  if (Number.isNaN(d.getTime())) return "0001-01-01 00:00:00 +0000 UTC";
  const ms = d.getUTCMilliseconds();
  const frac = ms ? "." + String(ms).padStart(3, "0").replace(/0+$/, "") : "";
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${frac} +0000 UTC`;
}

/** RFC 3339 with nanoseconds as Go writes it (trailing zeros of the fraction dropped), in UTC. */
export function goRFC3339Nano(d: Date): string {
  if (Number.isNaN(d.getTime())) return "0001-01-01T00:00:00Z";
  return d.toISOString().replace(/\.?0+Z$/, "Z");
}
