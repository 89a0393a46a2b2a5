/**
 * The functions podman adds to every `--format` template (containers/common `report.DefaultFuncs`):
 * `json`, `upper`, `lower`, `title`, `join`, `split`, `truncate`, `pad`.
 * @module
 */

import { byteLength, byteSlice, goTypeName } from "../gofmt.ts";
import { ArgTypeError, type BuiltinFunc, FuncError, wantInt, wantString } from "./funcs.ts";
import { goJson } from "./json.ts";
import { formatGoValue } from "./printf.ts";

function mapRunes(s: string, f: (ch: string) => string): string {
  let out = "";
  for (const ch of s) {
    const m = f(ch);
    // Go maps rune by rune: a case mapping that expands (ß → SS) leaves the rune unchanged
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

/** Go's `strings.ToUpper` (rune-wise, no expansions). */
export function goUpper(s: string): string {
  return mapRunes(s, (c) => c.toUpperCase());
}

/** Go's `strings.ToLower` (rune-wise). */
export function goLower(s: string): string {
  return mapRunes(s, (c) => c.toLowerCase());
}

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

/** Go's (deprecated) `strings.Title`: upper-cases the first letter of each word. */
export function goTitle(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    if (isSeparator(prev)) {
      const u = ch.toUpperCase();
      out += [...u].length === 1 ? u : ch;
    } else {
      out += ch;
    }
    prev = ch;
  }
  return out;
}

/** Go's `strings.Split` (an empty separator splits into runes). */
export function goSplit(s: string, sep: string): string[] {
  if (sep === "") return [...s];
  return s.split(sep);
}

function join(elems: unknown, sep: string): string {
  if (elems === null) return "";
  if (!Array.isArray(elems)) {
    throw new ArgTypeError(`wrong type for value; expected []string; got ${goTypeName(elems)}`);
  }
  return elems.map((e) => typeof e === "string" ? e : formatGoValue(e)).join(sep);
}

/** podman's extra template functions. */
export const PODMAN_FUNCS: Record<string, BuiltinFunc> = {
  json: { min: 1, max: 1, call: (c, a) => goJson(a[0], c.maps, c.mapFields) },
  upper: { min: 1, max: 1, call: (c, a) => goUpper(wantString(a[0], c.maps)) },
  lower: { min: 1, max: 1, call: (c, a) => goLower(wantString(a[0], c.maps)) },
  title: { min: 1, max: 1, call: (c, a) => goTitle(wantString(a[0], c.maps)) },
  join: { min: 2, max: 2, call: (c, a) => join(a[0], wantString(a[1], c.maps)) },
  split: { min: 2, max: 2, call: (c, a) => goSplit(wantString(a[0], c.maps), wantString(a[1], c.maps)) },
  truncate: {
    min: 2,
    max: 2,
    call: (c, a) => {
      const s = wantString(a[0], c.maps);
      const n = wantInt(a[1], c.maps);
      if (byteLength(s) < n) return s;
      if (n < 0) throw new FuncError(`slice bounds out of range [:${n}]`);
      return byteSlice(s, 0, n);
    },
  },
  pad: {
    min: 3,
    max: 3,
    call: (c, a) => {
      const s = wantString(a[0], c.maps);
      const pre = wantInt(a[1], c.maps);
      const post = wantInt(a[2], c.maps);
      if (s === "") return s;
      if (pre < 0 || post < 0 || pre > 1e6 || post > 1e6) {
        throw new FuncError("strings: negative Repeat count");
      }
      return " ".repeat(pre) + s + " ".repeat(post);
    },
  },
};
