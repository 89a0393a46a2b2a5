/**
 * The Containerfile lexer: parser directives (`# escape=`, `# syntax=`), comments, line continuations and
 * heredocs turned into logical lines, each with the number of the line it starts on. Pure.
 * @module
 */

import { ContainerfileError } from "./errors.ts";

/** A heredoc attached to an instruction (`<<EOF` … `EOF`). */
export interface Heredoc {
  /** The delimiter word (`EOF`). */
  name: string;
  /** The body: the lines between the instruction and the delimiter, each ending in `\n`. */
  body: string;
  /** Variables are expanded in the body (the delimiter was not quoted). */
  expand: boolean;
  /** `<<-`: leading tabs were stripped. */
  chomp: boolean;
}

/** One instruction's text: continuations joined, heredoc bodies collected. */
export interface LogicalLine {
  /** The line it starts on (1-based). */
  line: number;
  /** The text, continuations removed (escape + newline dropped). */
  text: string;
  /** Heredocs, in the order they appear in the text. */
  heredocs: Heredoc[];
}

/** The lexer's result. */
export interface Lexed {
  /** The escape character (`\` unless `# escape=` says otherwise). */
  escape: string;
  /** Parser directives found at the top (lower-case names). */
  directives: Record<string, string>;
  /** The logical lines. */
  lines: LogicalLine[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
/** Instructions whose text may carry heredocs (as BuildKit). */
const HEREDOC_INSTRUCTIONS = new Set(["RUN", "COPY", "ADD"]);

/** Splits `source` (the file named `file`, for messages) into logical lines. */
export function lex(source: string, file = "Containerfile"): Lexed {
  const raw = source.replace(/\r\n/g, "\n").split("\n");
  if (raw.length && raw[raw.length - 1] === "") raw.pop();
  const directives: Record<string, string> = {};
  let i = 0;
  // directives: only at the very top, before any comment, blank line or instruction
  for (; i < raw.length; i++) {
    const m = DIRECTIVE.exec(raw[i]);
    if (!m) break;
    const name = m[1].toLowerCase();
    if (name !== "escape" && name !== "syntax" && name !== "check") break;
    if (name in directives) {
      throw new ContainerfileError(file, i + 1, `only one ${name} parser directive can be used`);
    }
    directives[name] = m[2];
  }
  const escape = directives.escape ?? "\\";
  if (escape !== "\\" && escape !== "`") {
    throw new ContainerfileError(file, 1, `invalid escape token '${escape}': must be \` or \\`);
  }
  const lines: LogicalLine[] = [];
  let cur: { line: number; text: string } | undefined;
  const continues = (s: string) => {
    const t = s.replace(/[ \t]+$/, "");
    return t.endsWith(escape) && !t.endsWith(escape + escape) ? t.slice(0, -1) : undefined;
  };
  for (; i < raw.length; i++) {
    const l = raw[i];
    const trimmed = l.trimStart();
    if (trimmed.startsWith("#")) continue; // a comment, also inside a continuation
    if (!cur) {
      if (trimmed === "") continue;
      cur = { line: i + 1, text: "" };
    } else if (trimmed === "") continue; // an empty line inside a continuation (Docker allows it)
    const part = continues(l);
    if (part !== undefined) {
      cur.text += cur.line === i + 1 ? part.trimStart() : part;
      if (i === raw.length - 1) {
        lines.push({ line: cur.line, text: cur.text, heredocs: [] });
        cur = undefined;
      }
      continue;
    }
    cur.text += cur.line === i + 1 ? trimmed : l;
    const logical: LogicalLine = { line: cur.line, text: cur.text.trimEnd(), heredocs: [] };
    cur = undefined;
    const instr = /^(\S+)/.exec(logical.text)?.[1].toUpperCase() ?? "";
    if (
      HEREDOC_INSTRUCTIONS.has(instr) ||
      (instr === "ONBUILD" && /^\S+\s+(RUN|COPY|ADD)\b/i.test(logical.text))
    ) {
      for (const m of logical.text.matchAll(HEREDOC)) {
        const chomp = m[1] === "-";
        const name = m[3];
        let body = "";
        let closed = false;
        for (i++; i < raw.length; i++) {
          const bl = chomp ? raw[i].replace(/^\t+/, "") : raw[i];
          if (bl === name) {
            closed = true;
            break;
          }
          body += bl + "\n";
        }
        if (!closed) {
          throw new ContainerfileError(
            file,
            logical.line,
            `unterminated heredoc <<${name}: no line "${name}" ends it`,
          );
        }
        logical.heredocs.push({ name, body, expand: m[2] === "", chomp });
      }
    }
    lines.push(logical);
  }
  if (cur) lines.push({ line: cur.line, text: cur.text.trimEnd(), heredocs: [] });
  return { escape, directives, lines };
}
