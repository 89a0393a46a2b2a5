/**
 * Lexer for Go's text/template syntax: text, `{{ }}` actions with `{{- -}}` trim markers, comments,
 * fields, variables, identifiers, keywords, string/raw/char/number constants and punctuation.
 * @module
 */

import { parseError } from "./errors.ts";

/** Kinds of token. */
export type TokenType =
  | "text"
  | "leftDelim"
  | "rightDelim"
  | "space"
  | "field"
  | "variable"
  | "identifier"
  | "keyword"
  | "string"
  | "rawString"
  | "char"
  | "number"
  | "bool"
  | "nil"
  | "dot"
  | "pipe"
  | "leftParen"
  | "rightParen"
  | "declare"
  | "assign"
  | "comma"
  | "other"
  | "eof";

/** One token; `pos` is the string offset of its first character. */
export interface Token {
  type: TokenType;
  val: string;
  pos: number;
}

const KEYWORDS = new Set([
  "block",
  "break",
  "continue",
  "define",
  "else",
  "end",
  "if",
  "range",
  "template",
  "with",
]);

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function isAlnum(c: string): boolean {
  return /^[\p{L}\p{Nd}_]$/u.test(c);
}

/** Splits `src` into tokens; throws a positioned `TemplateError` on lexical errors. */
export function lex(src: string, name: string): Token[] {
  const toks: Token[] = [];
  const fail = (pos: number, msg: string): never => {
    throw parseError(src, name, pos, msg);
  };
  let pos = 0;
  let trimNext = false; // previous action ended with " -}}"
  while (true) {
    // ---- text
    let next = src.indexOf("{{", pos);
    if (next < 0) next = src.length;
    let textStart = pos;
    if (trimNext) {
      while (textStart < next && isSpace(src[textStart])) textStart++;
      trimNext = false;
    }
    let textEnd = next;
    const leftTrim = next < src.length && src[next + 2] === "-" && isSpace(src[next + 3] ?? "");
    if (leftTrim) {
      while (textEnd > textStart && isSpace(src[textEnd - 1])) textEnd--;
    }
    if (textEnd > textStart) toks.push({ type: "text", val: src.slice(textStart, textEnd), pos: textStart });
    if (next >= src.length) break;
    // ---- action
    const delimPos = next;
    pos = next + 2;
    if (leftTrim) pos += 2;
    if (src.startsWith("/*", pos)) {
      const end = src.indexOf("*/", pos + 2);
      if (end < 0) fail(delimPos, "unclosed comment");
      pos = end + 2;
      if (src.startsWith("}}", pos)) {
        pos += 2;
      } else if (isSpace(src[pos] ?? "") && src.startsWith("-}}", pos + 1)) {
        pos += 4;
        trimNext = true;
      } else {
        fail(pos, "comment ends before closing delimiter");
      }
      continue;
    }
    toks.push({ type: "leftDelim", val: "{{", pos: delimPos });
    let parenDepth = 0;
    while (true) {
      if (pos >= src.length) fail(delimPos, "unclosed action");
      const c = src[pos];
      // right delimiter, possibly with trim marker
      if (isSpace(c) && src.startsWith("-}}", pos + 1)) {
        if (parenDepth > 0) fail(pos, "unclosed left paren");
        toks.push({ type: "rightDelim", val: "}}", pos: pos + 2 });
        pos += 4;
        trimNext = true;
        break;
      }
      if (src.startsWith("}}", pos)) {
        if (parenDepth > 0) fail(pos, "unclosed left paren");
        toks.push({ type: "rightDelim", val: "}}", pos });
        pos += 2;
        break;
      }
      const start = pos;
      if (isSpace(c)) {
        while (pos < src.length && isSpace(src[pos]) && !src.startsWith("-}}", pos + 1)) pos++;
        if (pos === start) pos++; // a single space before " -}}" is handled above
        toks.push({ type: "space", val: src.slice(start, pos), pos: start });
        continue;
      }
      if (c === "=") {
        toks.push({ type: "assign", val: "=", pos });
        pos++;
        continue;
      }
      if (c === ":") {
        if (src[pos + 1] !== "=") fail(pos, "expected :=");
        toks.push({ type: "declare", val: ":=", pos });
        pos += 2;
        continue;
      }
      if (c === "|") {
        toks.push({ type: "pipe", val: "|", pos });
        pos++;
        continue;
      }
      if (c === ",") {
        toks.push({ type: "comma", val: ",", pos });
        pos++;
        continue;
      }
      if (c === "(") {
        parenDepth++;
        toks.push({ type: "leftParen", val: "(", pos });
        pos++;
        continue;
      }
      if (c === ")") {
        parenDepth--;
        if (parenDepth < 0) fail(pos, `unexpected right paren`);
        toks.push({ type: "rightParen", val: ")", pos });
        pos++;
        continue;
      }
      if (c === '"') {
        pos++;
        while (true) {
          const d = src[pos];
          if (d === undefined || d === "\n") fail(start, "unterminated quoted string");
          if (d === "\\") {
            pos += 2;
            continue;
          }
          pos++;
          if (d === '"') break;
        }
        toks.push({ type: "string", val: src.slice(start, pos), pos: start });
        continue;
      }
      if (c === "`") {
        const end = src.indexOf("`", pos + 1);
        if (end < 0) fail(start, "unterminated raw quoted string");
        pos = end + 1;
        toks.push({ type: "rawString", val: src.slice(start, pos), pos: start });
        continue;
      }
      if (c === "'") {
        pos++;
        while (true) {
          const d = src[pos];
          if (d === undefined || d === "\n") fail(start, "unterminated character constant");
          if (d === "\\") {
            pos += 2;
            continue;
          }
          pos++;
          if (d === "'") break;
        }
        toks.push({ type: "char", val: src.slice(start, pos), pos: start });
        continue;
      }
      if (c === "$" || c === ".") {
        if (c === "." && /[0-9]/.test(src[pos + 1] ?? "")) {
          pos = lexNumber(src, pos, fail);
          toks.push({ type: "number", val: src.slice(start, pos), pos: start });
          continue;
        }
        pos++;
        while (pos < src.length && isAlnum(src[pos])) pos++;
        const val = src.slice(start, pos);
        checkTerminator(src, pos, fail);
        toks.push({ type: c === "$" ? "variable" : val === "." ? "dot" : "field", val, pos: start });
        continue;
      }
      if (c === "+" || c === "-" || /[0-9]/.test(c)) {
        pos = lexNumber(src, pos, fail);
        toks.push({ type: "number", val: src.slice(start, pos), pos: start });
        continue;
      }
      if (isAlnum(c)) {
        while (pos < src.length && isAlnum(src[pos])) pos++;
        const word = src.slice(start, pos);
        checkTerminator(src, pos, fail);
        let type: TokenType = "identifier";
        if (KEYWORDS.has(word)) type = "keyword";
        else if (word === "true" || word === "false") type = "bool";
        else if (word === "nil") type = "nil";
        toks.push({ type, val: word, pos: start });
        continue;
      }
      const cp = src.codePointAt(pos)!;
      if (cp < 0x7f && cp > 0x20) {
        toks.push({ type: "other", val: c, pos });
        pos++;
        continue;
      }
      fail(pos, `unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, "0")}`);
    }
  }
  toks.push({ type: "eof", val: "", pos: src.length });
  return toks;
}

function checkTerminator(src: string, pos: number, fail: (pos: number, msg: string) => never): void {
  const c = src[pos];
  if (c === undefined || isSpace(c) || ".,|:()".includes(c) || src.startsWith("}}", pos)) return;
  const cp = src.codePointAt(pos)!;
  fail(
    pos,
    `bad character U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${String.fromCodePoint(cp)}'`,
  );
}

function lexNumber(src: string, pos: number, fail: (pos: number, msg: string) => never): number {
  const start = pos;
  if (src[pos] === "+" || src[pos] === "-") pos++;
  let digits = "0123456789_";
  if (src[pos] === "0" && /[xXoObB]/.test(src[pos + 1] ?? "")) {
    const b = src[pos + 1].toLowerCase();
    digits = b === "x" ? "0123456789abcdefABCDEF_" : b === "o" ? "01234567_" : "01_";
    pos += 2;
  }
  const run = () => {
    while (pos < src.length && digits.includes(src[pos])) pos++;
  };
  run();
  if (src[pos] === ".") {
    pos++;
    run();
  }
  const exp = digits.length === 11 ? "eE" : digits.length > 11 ? "pP" : "";
  if (exp && exp.includes(src[pos] ?? "\0")) {
    pos++;
    if (src[pos] === "+" || src[pos] === "-") pos++;
    digits = "0123456789_";
    run();
  }
  if (src[pos] === "i") pos++;
  if (pos < src.length && isAlnum(src[pos])) {
    while (pos < src.length && (isAlnum(src[pos]) || src[pos] === ".")) pos++;
    fail(start, `bad number syntax: "${src.slice(start, pos)}"`);
  }
  return pos;
}
