/**
 * The one error type of the template engine, with Go-shaped messages and positions.
 * @module
 */

import { byteLength } from "../gofmt.ts";

/** Whether an error came from parsing the template or from executing it. */
export type TemplateErrorKind = "parse" | "exec";

/**
 * A template parse or execution error. Its message has Go's shape, e.g.
 * `template: output:1:5: unexpected "}" in operand` or
 * `template: output:1:2: executing "output" at <.Foo>: can't evaluate field Foo in type struct`.
 */
export class TemplateError extends Error {
  /** `parse` or `exec`. */
  readonly kind: TemplateErrorKind;
  /** Template name (`output` unless given). */
  readonly templateName: string;
  /** 1-based line of the offending token. */
  readonly line: number;
  /** 0-based byte column of the offending token within its line (as Go reports it). */
  readonly col: number;
  /** The bare message without the location prefix. */
  readonly detail: string;
  /** Builds an error; prefer {@link parseError} / {@link execError}. */
  constructor(
    kind: TemplateErrorKind,
    message: string,
    name: string,
    line: number,
    col: number,
    detail: string,
  ) {
    super(message);
    this.name = "TemplateError";
    this.kind = kind;
    this.templateName = name;
    this.line = line;
    this.col = col;
    this.detail = detail;
  }
}

/** Line (1-based) and byte column (0-based) of string offset `pos` in `src`. */
export function lineCol(src: string, pos: number): { line: number; col: number } {
  const before = src.slice(0, Math.max(0, Math.min(pos, src.length)));
  let line = 1;
  let start = 0;
  for (let i = 0; i < before.length; i++) {
    if (before.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: byteLength(before.slice(start)) };
}

/** Builds a parse error at string offset `pos`. */
export function parseError(src: string, name: string, pos: number, detail: string): TemplateError {
  const { line, col } = lineCol(src, pos);
  return new TemplateError("parse", `template: ${name}:${line}:${col}: ${detail}`, name, line, col, detail);
}

/** Builds an execution error at string offset `pos`, with the failing node's text as context. */
export function execError(
  src: string,
  name: string,
  pos: number,
  context: string,
  detail: string,
): TemplateError {
  const { line, col } = lineCol(src, pos);
  const msg = `template: ${name}:${line}:${col}: executing "${name}" at <${context}>: ${detail}`;
  return new TemplateError("exec", msg, name, line, col, detail);
}
