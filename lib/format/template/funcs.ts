/**
 * Go text/template's predefined functions: `and or not len index slice print printf println html js
 * urlquery eq ne lt le gt ge` (`and`/`or` are evaluated lazily by the executor), with Go's errors.
 * @module
 */

import {
  byteLength,
  byteSlice,
  goKind,
  goTypeName,
  isAscii,
  isGoPrint,
  mapGet,
  mapSize,
  mapZero,
  sliceItems,
  utf8Bytes,
} from "../gofmt.ts";
import { formatGoValue, sprint, sprintf, sprintln } from "./printf.ts";

/** What a function sees of the running execution. */
export interface FuncContext {
  /** Objects treated as Go maps during this execution (besides `Map`s and `goMap()`-marked ones). */
  maps: WeakSet<object>;
  /** Field names whose plain-object values are maps. */
  mapFields: ReadonlySet<string>;
}

/** A function callable from templates, with its arity (`max` = Infinity for variadic). */
export interface BuiltinFunc {
  min: number;
  max: number;
  call(ctx: FuncContext, args: unknown[]): unknown;
}

/** An error a function returns; reported as `error calling NAME: message`. */
export class FuncError extends Error {}

/** An argument of the wrong type; reported as is (Go reports these before calling). */
export class ArgTypeError extends Error {}

/** Go's truth: false, 0, nil, empty string/slice/map are false; everything else is true. */
export function isTrue(v: unknown, maps?: WeakSet<object>): boolean {
  switch (goKind(v, maps)) {
    case "invalid":
    case "nil":
      return false;
    case "bool":
      return v as boolean;
    case "int":
      return typeof v === "bigint" ? v !== 0n : v !== 0;
    case "float":
      return v !== 0;
    case "string":
      return (v as string).length > 0;
    case "slice":
      return sliceItems(v).length > 0 || (ArrayBuffer.isView(v) && v.byteLength > 0);
    case "map":
      return mapSize(v) > 0;
    default:
      return true;
  }
}

/** Checks that `v` is a string argument, like Go's conversion to a `string` parameter. */
export function wantString(v: unknown, maps?: WeakSet<object>): string {
  if (typeof v === "string") return v;
  if (v === undefined) throw new ArgTypeError("invalid value; expected string");
  throw new ArgTypeError(`wrong type for value; expected string; got ${goTypeName(v, maps)}`);
}

/** Checks that `v` is an int argument. */
export function wantInt(v: unknown, maps?: WeakSet<object>): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "bigint") return Number(v);
  if (v === undefined) throw new ArgTypeError("invalid value; expected int");
  throw new ArgTypeError(`wrong type for value; expected int; got ${goTypeName(v, maps)}`);
}

function indexArg(index: unknown, cap: number, maps: WeakSet<object>): number {
  let x: number;
  if (typeof index === "number" && Number.isInteger(index)) x = index;
  else if (typeof index === "bigint") x = Number(index);
  else if (index === null || index === undefined) throw new FuncError("cannot index slice/array with nil");
  else throw new FuncError(`cannot index slice/array with type ${goTypeName(index, maps)}`);
  if (x < 0 || x > cap) throw new FuncError(`index out of range: ${x}`);
  return x;
}

function index(ctx: FuncContext, args: unknown[]): unknown {
  let item = args[0];
  if (item === undefined) throw new FuncError("index of untyped nil");
  for (const ix of args.slice(1)) {
    if (item === null) throw new FuncError("index of nil pointer");
    const kind = goKind(item, ctx.maps);
    if (kind === "slice") {
      const items = sliceItems(item);
      const x = indexArg(ix, items.length, ctx.maps);
      if (x === items.length) throw new FuncError("reflect: slice index out of range");
      item = items[x];
    } else if (kind === "string") {
      const s = item as string;
      const x = indexArg(ix, byteLength(s), ctx.maps);
      if (x === byteLength(s)) throw new FuncError("reflect: string index out of range");
      item = isAscii(s) ? s.charCodeAt(x) : utf8Bytes(s)[x];
    } else if (kind === "map") {
      if (ix === undefined || ix === null) throw new FuncError("value is nil; should be of type string");
      if (typeof ix !== "string" && !(item instanceof Map)) {
        throw new FuncError(`value has type ${goTypeName(ix, ctx.maps)}; should be string`);
      }
      const got = mapGet(item, ix);
      item = got.found ? got.value : mapZero(item);
    } else if (kind === "invalid") {
      throw new FuncError("index of untyped nil");
    } else {
      throw new FuncError(`can't index item of type ${goTypeName(item, ctx.maps)}`);
    }
  }
  return item;
}

function slice(ctx: FuncContext, args: unknown[]): unknown {
  const item = args[0];
  const indexes = args.slice(1);
  if (item === undefined || item === null) throw new FuncError("slice of untyped nil");
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  const kind = goKind(item, ctx.maps);
  let len: number;
  if (kind === "string") {
    if (indexes.length === 3) throw new FuncError("cannot 3-index slice a string");
    len = byteLength(item as string);
  } else if (kind === "slice") {
    len = sliceItems(item).length;
  } else {
    throw new FuncError(`can't slice item of type ${goTypeName(item, ctx.maps)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((ix, i) => idx[i] = indexArg(ix, len, ctx.maps));
  if (idx[0] > idx[1]) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) {
    throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  }
  if (kind === "string") return byteSlice(item as string, idx[0], idx[1]);
  return sliceItems(item).slice(idx[0], idx[1]);
}

function len(ctx: FuncContext, args: unknown[]): number {
  const item = args[0];
  if (item === null) throw new FuncError("len of nil pointer");
  switch (goKind(item, ctx.maps)) {
    case "string":
      return byteLength(item as string);
    case "slice":
      return sliceItems(item).length;
    case "map":
      return mapSize(item);
    case "invalid":
      throw new FuncError("len of untyped nil");
  }
  throw new FuncError(`len of type ${goTypeName(item, ctx.maps)}`);
}

type Basic = "bool" | "number" | "string" | "invalid" | "other";

function basicKind(v: unknown, maps: WeakSet<object>): Basic {
  const k = goKind(v, maps);
  if (k === "int" || k === "float") return "number";
  if (k === "bool" || k === "string") return k;
  if (k === "invalid" || k === "nil") return "invalid";
  return "other";
}

function eq(ctx: FuncContext, args: unknown[]): boolean {
  const [a, ...rest] = args;
  if (rest.length === 0) throw new FuncError("missing argument for comparison");
  const k1 = basicKind(a, ctx.maps);
  for (const b of rest) {
    const k2 = basicKind(b, ctx.maps);
    let truth = false;
    if (k1 !== k2) {
      if (k1 !== "invalid" && k2 !== "invalid") throw new FuncError("incompatible types for comparison");
    } else if (k1 === "number") {
      // deno-lint-ignore eqeqeq
      truth = (a as number | bigint) == (b as number | bigint);
    } else if (k1 === "bool" || k1 === "string" || k1 === "invalid") {
      truth = a === b || k1 === "invalid";
    } else {
      const ka = goKind(a, ctx.maps);
      const kb = goKind(b, ctx.maps);
      if (ka === "time" && kb === "time") {
        truth = (a as Date).getTime() === (b as Date).getTime();
      } else if (ka === "struct" && kb === "struct") {
        truth = a === b;
      } else {
        throw new FuncError(
          `non-comparable types ${formatGoValue(a, ctx.maps)}: ${goTypeName(a, ctx.maps)}, ${
            goTypeName(b, ctx.maps)
          }: ${formatGoValue(b, ctx.maps)}`,
        );
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(ctx: FuncContext, args: unknown[]): boolean {
  const [a, b] = args;
  const k1 = basicKind(a, ctx.maps);
  const k2 = basicKind(b, ctx.maps);
  if (k1 === "invalid" || k1 === "other" || k2 === "invalid" || k2 === "other") {
    throw new FuncError("invalid type for comparison");
  }
  if (k1 !== k2) throw new FuncError("incompatible types for comparison");
  if (k1 === "bool") throw new FuncError("invalid type for comparison");
  if (k1 === "string") return utf8Less(a as string, b as string);
  return (a as number) < (b as number);
}

function utf8Less(a: string, b: string): boolean {
  if (isAscii(a) && isAscii(b)) return a < b;
  const x = utf8Bytes(a);
  const y = utf8Bytes(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return x.length < y.length;
}

/** Go's evalArgs for html/js/urlquery: a single string as is, otherwise fmt.Sprint of printable values. */
function evalArgs(ctx: FuncContext, args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args.map((a) => a === undefined ? "<no value>" : a), ctx.maps);
}

/** Go's `template.HTMLEscapeString`. */
export function htmlEscape(s: string): string {
  return s.replace(
    /["'&<>\0]/g,
    (c) => ({ '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\uFFFD" })[c]!,
  );
}

/** Go's `template.JSEscapeString`. */
export function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case "\\":
        out += "\\\\";
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case "<":
        out += "\\u003C";
        continue;
      case ">":
        out += "\\u003E";
        continue;
      case "&":
        out += "\\u0026";
        continue;
      case "=":
        out += "\\u003D";
        continue;
    }
    if (cp < 0x20) out += "\\u" + cp.toString(16).toUpperCase().padStart(4, "0");
    else if (cp < 0x80 || isGoPrint(cp)) out += ch;
    else out += "\\u" + cp.toString(16).toUpperCase().padStart(4, "0");
  }
  return out;
}

/** Go's `url.QueryEscape`. */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (b === 0x20) out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

const variadic = Infinity;

/** The predefined functions of Go's text/template. */
export const BUILTINS: Record<string, BuiltinFunc> = {
  and: { min: 1, max: variadic, call: (_c, a) => a.find((x) => !isTrue(x)) ?? a[a.length - 1] },
  or: { min: 1, max: variadic, call: (_c, a) => a.find((x) => isTrue(x)) ?? a[a.length - 1] },
  not: { min: 1, max: 1, call: (c, a) => !isTrue(a[0], c.maps) },
  len: { min: 1, max: 1, call: len },
  index: { min: 1, max: variadic, call: index },
  slice: { min: 1, max: variadic, call: slice },
  print: { min: 0, max: variadic, call: (c, a) => sprint(a, c.maps) },
  println: { min: 0, max: variadic, call: (c, a) => sprintln(a, c.maps) },
  printf: { min: 1, max: variadic, call: (c, a) => sprintf(wantString(a[0], c.maps), a.slice(1), c.maps) },
  html: { min: 0, max: variadic, call: (c, a) => htmlEscape(evalArgs(c, a)) },
  js: { min: 0, max: variadic, call: (c, a) => jsEscape(evalArgs(c, a)) },
  urlquery: { min: 0, max: variadic, call: (c, a) => queryEscape(evalArgs(c, a)) },
  eq: { min: 1, max: variadic, call: eq },
  ne: { min: 2, max: 2, call: (c, a) => !eq(c, a) },
  lt: { min: 2, max: 2, call: lt },
  le: { min: 2, max: 2, call: (c, a) => lt(c, a) || eq(c, a) },
  gt: { min: 2, max: 2, call: (c, a) => !(lt(c, a) || eq(c, a)) },
  ge: { min: 2, max: 2, call: (c, a) => !lt(c, a) },
};
