/**
 * JSON encoding with the shape of Go's `json.Marshal` as podman's `json` template function uses it
 * (compact, HTML characters not escaped): map keys sorted, struct fields in order, `\u2028`/`\u2029`
 * escaped, `[]byte` as base64, times as RFC 3339.
 * @module
 */

import { goKind, goRFC3339Nano, mapEntries, structEntries } from "../gofmt.ts";

const MAX_DEPTH = 1000;

/** Go's JSON string encoding (with `SetEscapeHTML(false)`). */
export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x2028 && c !== 0x2029) {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = s.charCodeAt(i + 1);
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          out += s[i] + s[i + 1];
          i++;
        } else {
          out += "\\ufffd";
        }
        continue;
      }
      out += s[i];
      continue;
    }
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x2028:
      case 0x2029:
        out += "\\u" + c.toString(16);
        break;
      default:
        if (c < 0x20) out += "\\u00" + c.toString(16).padStart(2, "0");
        else out += s[i];
    }
  }
  return out + '"';
}

function base64(b: Uint8Array): string {
  let bin = "";
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin);
}

class Unsupported extends Error {}

interface Enc {
  maps?: WeakSet<object>;
  mapFields?: ReadonlySet<string>;
  seen: Set<object>;
}

function encode(v: unknown, e: Enc, depth: number, asMap = false): string {
  const maps = e.maps;
  if (depth > MAX_DEPTH) throw new Unsupported("too deep");
  switch (goKind(v, maps)) {
    case "invalid":
    case "nil":
    case "func":
      return "null";
    case "bool":
      return String(v);
    case "int":
      return String(v);
    case "float": {
      const x = v as number;
      if (!Number.isFinite(x)) throw new Unsupported(`unsupported value: ${x}`);
      return String(x);
    }
    case "string":
      return goJsonString(String(v));
    case "time":
      return goJsonString(goRFC3339Nano(v as Date));
  }
  const obj = v as object;
  if (e.seen.has(obj)) throw new Unsupported("encountered a cycle");
  e.seen.add(obj);
  try {
    if (obj instanceof Uint8Array) return goJsonString(base64(obj));
    if (Array.isArray(obj) || ArrayBuffer.isView(obj)) {
      const items = Array.isArray(obj) ? obj : Array.from(obj as unknown as ArrayLike<number>);
      return "[" + items.map((x) => encode(x, e, depth + 1)).join(",") + "]";
    }
    if (asMap || goKind(obj, maps) === "map") {
      return "{" + mapEntries(obj).map(([k, x]) =>
        goJsonString(String(k)) + ":" + encode(x, e, depth + 1)
      ).join(",") + "}";
    }
    const toJSON = (obj as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === "function") return encode(toJSON.call(obj), e, depth + 1);
    return "{" + structEntries(obj).filter(([, x]) => x !== undefined).map(([k, x]) =>
      goJsonString(k) + ":" +
      encode(x, e, depth + 1, e.mapFields?.has(k) === true && goKind(x, maps) === "struct")
    ).join(",") + "}";
  } finally {
    e.seen.delete(obj);
  }
}

/**
 * Encodes a value as compact JSON shaped like Go's encoder; returns `""` for values Go cannot
 * encode (cycles, NaN/Inf), as podman's `json` function then prints nothing. Struct fields named in
 * `mapFields` are encoded as maps (sorted keys).
 */
export function goJson(v: unknown, maps?: WeakSet<object>, mapFields?: ReadonlySet<string>): string {
  try {
    return encode(v, { maps, mapFields, seen: new Set() }, 0);
  } catch (err) {
    if (err instanceof Unsupported || err instanceof RangeError) return "";
    throw err;
  }
}
