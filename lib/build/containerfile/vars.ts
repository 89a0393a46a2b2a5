/**
 * Words and variables as the Containerfile language has them: quotes (`'…'` literal, `"…"` expanding), the
 * escape character, `$V`, `${V}`, `${V:-x}`, `${V-x}`, `${V:+x}`, `${V+x}`, `${V:?msg}`. Pure.
 * @module
 */

/** Looks a variable up; undefined when it is not set. */
export type Lookup = (name: string) => string | undefined;

/** A `${V:?msg}` whose variable is unset or empty. */
export class VariableError extends Error {}

interface Scan {
  words: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Finds the `}` closing a `${` whose body starts at `i` (nested `${…}` skipped). */
function closingBrace(s: string, i: number, escape: string): number {
  let depth = 1;
  for (; i < s.length; i++) {
    if (s[i] === escape) {
      i++;
      continue;
    }
    if (s[i] === "$" && s[i + 1] === "{") {
      depth++;
      i++;
    } else if (s[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/** Expands one `$…` at `s[i]` (`s[i] === "$"`); returns the value and the index after it. */
function expandAt(s: string, i: number, lookup: Lookup, escape: string): [string, number] {
  const rest = s.slice(i + 1);
  if (rest.startsWith("{")) {
    const end = closingBrace(s, i + 2, escape);
    if (end < 0) throw new VariableError(`missing '}' in "${s}"`);
    const body = s.slice(i + 2, end);
    const n = NAME.exec(body)?.[0];
    if (!n) throw new VariableError(`bad substitution "\${${body}}"`);
    const op = body.slice(n.length);
    const v = lookup(n);
    const word = () => expandString(op.replace(/^:?[-+?]/, ""), lookup, escape);
    if (op === "") return [v ?? "", end + 1];
    if (op.startsWith(":-")) return [v ? v : word(), end + 1];
    if (op.startsWith("-")) return [v !== undefined ? v : word(), end + 1];
    if (op.startsWith(":+")) return [v ? word() : "", end + 1];
    if (op.startsWith("+")) return [v !== undefined ? word() : "", end + 1];
    if (op.startsWith(":?") || op.startsWith("?")) {
      const unset = op.startsWith(":?") ? !v : v === undefined;
      if (unset) throw new VariableError(`${n}: ${word() || "is not set"}`);
      return [v ?? "", end + 1];
    }
    throw new VariableError(`unsupported modifier "${op.slice(0, 2)}" in "\${${body}}"`);
  }
  const n = NAME.exec(rest)?.[0];
  if (!n) return ["$", i + 1];
  return [lookup(n) ?? "", i + 1 + n.length];
}

/** Expands variables in `s` without touching quotes (heredoc bodies, modifier words). */
export function expandString(s: string, lookup: Lookup, escape = "\\"): string {
  let out = "";
  for (let i = 0; i < s.length;) {
    if (s[i] === escape && s[i + 1] === "$") {
      out += "$";
      i += 2;
    } else if (s[i] === "$") {
      const [v, j] = expandAt(s, i, lookup, escape);
      out += v;
      i = j;
    } else out += s[i++];
  }
  return out;
}

function scan(s: string, lookup: Lookup | undefined, escape: string, split: boolean): Scan {
  const words: string[] = [];
  let cur = "";
  let has = false;
  for (let i = 0; i < s.length;) {
    const ch = s[i];
    if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) {
        throw new VariableError(`unexpected end of statement while looking for matching single-quote`);
      }
      cur += s.slice(i + 1, end);
      has = true;
      i = end + 1;
    } else if (ch === '"') {
      has = true;
      i++;
      for (;;) {
        if (i >= s.length) {
          throw new VariableError(`unexpected end of statement while looking for matching double-quote`);
        }
        const c = s[i];
        if (c === '"') {
          i++;
          break;
        }
        if (c === escape && i + 1 < s.length && ['"', "$", escape].includes(s[i + 1])) {
          cur += s[i + 1];
          i += 2;
        } else if (c === "$" && lookup) {
          const [v, j] = expandAt(s, i, lookup, escape);
          cur += v;
          i = j;
        } else {
          cur += c;
          i++;
        }
      }
    } else if (ch === escape) {
      if (i + 1 < s.length) cur += s[i + 1];
      has = true;
      i += 2;
    } else if (ch === "$" && lookup) {
      const [v, j] = expandAt(s, i, lookup, escape);
      cur += v;
      has = true;
      i = j;
    } else if (split && /\s/.test(ch)) {
      if (has || cur) words.push(cur);
      cur = "";
      has = false;
      i++;
    } else {
      cur += ch;
      has = true;
      i++;
    }
  }
  if (has || cur || !split) words.push(cur);
  return { words };
}

/** Splits `s` into words (quotes respected and removed) with variables expanded in each. */
export function processWords(s: string, lookup: Lookup, escape = "\\"): string[] {
  return scan(s, lookup, escape, true).words;
}

/** Expands variables and removes quotes in `s` as one word (spaces kept). */
export function processWord(s: string, lookup: Lookup, escape = "\\"): string {
  return scan(s, lookup, escape, false).words[0] ?? "";
}

/** Splits `s` into raw words at unquoted, unescaped whitespace; quotes and escapes are kept. */
export function rawWords(s: string, escape = "\\"): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      cur += ch;
      if (ch === escape && quote === '"' && i + 1 < s.length) cur += s[++i];
      else if (ch === quote) quote = "";
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      cur += ch;
    } else if (ch === escape && i + 1 < s.length) {
      cur += ch + s[++i];
    } else if (/\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * `KEY=value …` pairs of ENV, LABEL and ARG (values expanded, quotes removed), or the legacy `KEY value` form
 * (`legacy`: ENV and LABEL accept it; the rest of the line is the value). ARG's bare `NAME` gives `[NAME, undefined]`.
 */
export function keyValues(
  s: string,
  lookup: Lookup,
  escape = "\\",
  legacy = true,
): [string, string | undefined][] {
  const words = rawWords(s, escape);
  if (!words.length) return [];
  if (!words[0].includes("=") && legacy) {
    const key = words[0];
    const value = s.trim().slice(key.length).trim();
    return [[key, value === "" ? undefined : processWord(value, lookup, escape)]];
  }
  return words.map((w) => {
    const i = w.indexOf("=");
    if (i < 0) return [processWord(w, lookup, escape), undefined];
    return [processWord(w.slice(0, i), lookup, escape), processWord(w.slice(i + 1), lookup, escape)];
  });
}
