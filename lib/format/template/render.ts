/**
 * podman's `--format` handling on top of the template engine (containers/common `report`):
 * `table ` prefix → header row + rows; `\t` and `\n` escapes; a newline appended when the template
 * lacks one; everything written through the tabwriter (minwidth 12, padding 2).
 * @module
 */

import type { ListNode, Node, PipeNode } from "./ast.ts";
import { type CompileOptions, compileTemplate, type ExecuteOptions, type Template } from "./template.ts";
import type { TemplateFunction } from "./template.ts";
import { alignColumns, type TabWriterOptions } from "../table.ts";
import { goUpper } from "./podman_funcs.ts";

/** Options of {@link renderTemplateRows}. */
export interface RenderOptions extends ExecuteOptions, CompileOptions {
  /** Header overrides, field name (or dotted path) → header text (upper-cased like podman). */
  headers?: Record<string, string>;
  /** Functions supplied at execution. */
  execFuncs?: Record<string, TemplateFunction>;
  /** Align through the tabwriter (default true, as podman). */
  align?: boolean;
  /** Tabwriter settings (default podman's). */
  tabwriter?: TabWriterOptions;
}

/** True when the format starts with podman's `table ` keyword. */
export function isTableFormat(format: string): boolean {
  return format.startsWith("table ");
}

/**
 * podman's `NormalizeFormat`: for `table ` formats the keyword is removed and spaces become tabs;
 * `\t`/`\n` escapes become characters; a trailing newline is added when missing.
 */
export function normalizeFormat(format: string): string {
  let f: string;
  if (isTableFormat(format)) {
    f = format.replaceAll("table ", "").replaceAll("\\t", "\t").replaceAll("\\n", "\n").replaceAll(" ", "\t");
  } else {
    f = format.replaceAll("\\t", "\t").replaceAll("\\n", "\n");
  }
  if (!f.endsWith("\n")) f += "\n";
  return f;
}

/**
 * Splits a Go identifier into words like the camelcase package podman uses
 * (`CreatedAt` → `Created At`, `PDFLoader` → `PDF Loader`, `GL11Version` → `GL 11 Version`).
 */
export function splitCamelCase(s: string): string[] {
  const classOf = (c: string) =>
    /\p{Ll}/u.test(c) ? 1 : /\p{Lu}|\p{Lt}/u.test(c) ? 2 : /\p{Nd}/u.test(c) ? 3 : 4;
  const runs: string[][] = [];
  let last = 0;
  for (const ch of s) {
    const c = classOf(ch);
    if (c === last && runs.length > 0) runs[runs.length - 1].push(ch);
    else runs.push([ch]);
    last = c;
  }
  for (let i = 0; i < runs.length - 1; i++) {
    if (classOf(runs[i][0]) === 2 && classOf(runs[i + 1][0]) === 1) {
      runs[i + 1].unshift(runs[i].pop()!);
    }
  }
  return runs.filter((r) => r.length > 0).map((r) => r.join(""));
}

/** Header text for a field path: an override (path or last field), else the split, upper-cased name. */
export function headerName(path: string[], overrides: Record<string, string> = {}): string {
  const full = path.join(".");
  const last = path[path.length - 1] ?? "";
  const o = overrides[full] ?? overrides[last];
  if (o !== undefined) return goUpper(o);
  return goUpper(splitCamelCase(last).join(" "));
}

function firstField(pipe: PipeNode | null): string[] | null {
  if (!pipe) return null;
  for (const cmd of pipe.cmds) {
    for (const a of cmd.args) {
      if (a.type === "field") return a.ident;
      if (a.type === "variable" && a.ident.length > 1) return a.ident.slice(1);
      if (a.type === "chain") return a.field;
      if (a.type === "pipe") {
        const f = firstField(a);
        if (f) return f;
      }
    }
  }
  return null;
}

/**
 * The header row of a table template: text as written, each action replaced by the header of the first
 * field it uses (`.ID` → `ID`, `.CreatedAt` → `CREATED AT`), `if`/`with` bodies walked, `range` by its
 * collection's field.
 */
export function templateHeader(t: Template, overrides?: Record<string, string>): string {
  const walk = (list: ListNode, depth: number): string => list.nodes.map((n) => walkNode(n, depth)).join("");
  const walkNode = (n: Node, depth: number): string => {
    if (depth > 50) return "";
    switch (n.type) {
      case "text":
        return n.text;
      case "action": {
        if (n.pipe.decl.length > 0) return "";
        const f = firstField(n.pipe);
        return f ? headerName(f, overrides) : "";
      }
      case "if":
      case "with":
        return walk(n.list, depth + 1);
      case "range": {
        const f = firstField(n.pipe);
        return f ? headerName(f, overrides) : walk(n.list, depth + 1);
      }
      case "template": {
        const l = t.tree.defines.get(n.name);
        return l ? walk(l, depth + 1) : "";
      }
      default:
        return "";
    }
  };
  return walk(t.tree.root, 0);
}

const rangeRegex = /{{\s*range\s*\.\s*}}[\s\S]*{{\s*end\s*-?\s*}}/;

/**
 * Renders rows with a podman `--format` string. `table ` formats print a header row (see
 * {@link templateHeader}) then one line per row; other formats print one execution per row (or a single
 * execution over the whole array when the format has its own `{{range .}}…{{end}}`, as podman's
 * `EnforceRange`). The output is aligned like podman's tabwriter unless `align` is false.
 */
export function renderTemplateRows(format: string, rows: unknown[], options: RenderOptions = {}): string {
  const table = isTableFormat(format);
  const text = normalizeFormat(format);
  const t = compileTemplate(text, options);
  let out = "";
  if (table) out += templateHeader(t, options.headers);
  if (!table && rangeRegex.test(format)) {
    out += t.execute(rows, options.execFuncs, options);
  } else {
    for (const row of rows) out += t.execute(row, options.execFuncs, options);
  }
  if (options.align === false) return out;
  return alignColumns(out, options.tabwriter);
}
