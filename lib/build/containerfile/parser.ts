/**
 * The Containerfile parser: logical lines (lexer.ts) → instructions with their flags, exec or shell form and
 * heredocs, grouped into stages. Every error names the file and line. Variables are not expanded here (that
 * depends on ARG/ENV scoping at build time: see vars.ts). Pure.
 * @module
 */

import { ContainerfileError } from "./errors.ts";
import { type Heredoc, lex } from "./lexer.ts";

/** One instruction. */
export interface Instruction {
  /** Upper-case name (`RUN`). */
  cmd: string;
  /** The line it starts on (1-based). */
  line: number;
  /** The instruction as written (continuations joined). */
  original: string;
  /** `--name=value` flags (`--link` alone: `"true"`); a repeated flag keeps every value. */
  flags: Record<string, string[]>;
  /** The text after the name and flags. */
  args: string;
  /** Exec (JSON array) form, when the args are one. */
  json?: string[];
  /** Heredocs of RUN/COPY/ADD. */
  heredocs: Heredoc[];
  /** ONBUILD: the instruction it records. */
  trigger?: Instruction;
}

/** A build stage: `FROM …` and what follows it up to the next FROM. */
export interface Stage {
  /** 0-based position. */
  index: number;
  /** `AS name` (lower-case), if given. */
  name?: string;
  /** The base as written (before variable expansion): an image, `scratch` or an earlier stage's name. */
  base: string;
  /** The FROM instruction. */
  from: Instruction;
  /** The instructions after FROM. */
  instructions: Instruction[];
}

/** A parsed Containerfile. */
export interface Containerfile {
  /** Its name, for messages. */
  file: string;
  /** Escape character. */
  escape: string;
  /** Parser directives. */
  directives: Record<string, string>;
  /** ARGs before the first FROM. */
  globalArgs: Instruction[];
  /** The stages. */
  stages: Stage[];
}

/** Flags each instruction takes. */
const FLAGS: Record<string, string[]> = {
  FROM: ["platform"],
  RUN: ["mount", "network", "security"],
  COPY: ["from", "chown", "chmod", "link", "parents", "exclude"],
  ADD: ["chown", "chmod", "checksum", "link", "keep-git-dir", "exclude"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "start-interval", "retries"],
};

/** Every instruction the language has. */
export const INSTRUCTIONS = new Set([
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "MAINTAINER",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);

/** Instructions that take the exec form. */
const JSON_FORM = new Set(["RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD", "HEALTHCHECK"]);

/** The JSON array of strings in `s`, or undefined when `s` is not one. */
export function jsonForm(s: string): string[] | undefined {
  const t = s.trim();
  if (!t.startsWith("[") || !t.endsWith("]")) return undefined;
  try {
    const v = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch { /* shell form */ }
  return undefined;
}

/** Parses one logical line into an instruction (`file` for messages). */
export function parseInstruction(
  text: string,
  line: number,
  heredocs: Heredoc[],
  file: string,
): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
  const cmd = m[1].toUpperCase();
  if (!INSTRUCTIONS.has(cmd)) throw new ContainerfileError(file, line, `unknown instruction: ${m[1]}`);
  let rest = m[2];
  const flags: Record<string, string[]> = {};
  const allowed = FLAGS[cmd] ?? [];
  if (cmd !== "ONBUILD") {
    for (;;) {
      const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
      if (!f) break;
      if (!allowed.includes(f[1])) {
        throw new ContainerfileError(
          file,
          line,
          `unknown flag: --${f[1]} (${cmd} takes ${allowed.map((a) => `--${a}`).join(", ") || "no flags"})`,
        );
      }
      (flags[f[1]] ??= []).push(f[2] ?? "true");
      rest = rest.slice(f[0].length);
    }
  }
  const args = rest.trim();
  const ins: Instruction = { cmd, line, original: text, flags, args, heredocs };
  if (JSON_FORM.has(cmd)) {
    const j = jsonForm(args);
    if (j) ins.json = j;
    else if (args.startsWith("[") && (cmd === "CMD" || cmd === "ENTRYPOINT" || cmd === "SHELL")) {
      if (cmd === "SHELL") {
        throw new ContainerfileError(file, line, "SHELL requires the arguments to be in JSON form");
      }
    }
  }
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new ContainerfileError(file, line, `${cmd} ${what}`);
  };
  switch (cmd) {
    case "ONBUILD": {
      need(args !== "", "requires at least one argument");
      const t = parseInstruction(args, line, heredocs, file);
      if (t.cmd === "ONBUILD" || t.cmd === "FROM" || t.cmd === "MAINTAINER") {
        throw new ContainerfileError(file, line, `${t.cmd} isn't allowed as an ONBUILD trigger`);
      }
      ins.trigger = t;
      break;
    }
    case "SHELL":
      need(!!ins.json && ins.json.length > 0, "requires the arguments to be in JSON form");
      break;
    case "COPY":
    case "ADD":
      need(
        (ins.json ? ins.json.length : args.split(/\s+/).length) >= 2 || heredocs.length > 0 && args !== "",
        "requires at least two arguments",
      );
      break;
    case "HEALTHCHECK":
      need(args !== "", "requires at least one argument");
      if (!/^(NONE|CMD)\b/i.test(args)) {
        throw new ContainerfileError(file, line, "HEALTHCHECK: unknown type, want CMD or NONE");
      }
      break;
    case "CMD":
    case "ENTRYPOINT":
      break; // `CMD` alone clears nothing but is allowed
    case "STOPSIGNAL":
    case "USER":
    case "WORKDIR":
    case "MAINTAINER":
      need(args !== "", "requires exactly one argument");
      break;
    default:
      need(args !== "" || heredocs.length > 0, "requires at least one argument");
  }
  return ins;
}

/** Parses a Containerfile's text; `file` names it in errors. */
export function parseContainerfile(source: string, file = "Containerfile"): Containerfile {
  const lexed = lex(source, file);
  const cf: Containerfile = {
    file,
    escape: lexed.escape,
    directives: lexed.directives,
    globalArgs: [],
    stages: [],
  };
  const names = new Set<string>();
  for (const l of lexed.lines) {
    const ins = parseInstruction(l.text, l.line, l.heredocs, file);
    if (ins.cmd === "FROM") {
      const words = ins.args.split(/\s+/).filter(Boolean);
      if (!(words.length === 1 || (words.length === 3 && words[1].toUpperCase() === "AS"))) {
        throw new ContainerfileError(
          file,
          l.line,
          'FROM requires either one or three arguments ("FROM image [AS name]")',
        );
      }
      const name = words[2]?.toLowerCase();
      if (name !== undefined) {
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) {
          throw new ContainerfileError(file, l.line, `invalid stage name "${words[2]}"`);
        }
        if (names.has(name)) throw new ContainerfileError(file, l.line, `duplicate stage name "${words[2]}"`);
        names.add(name);
      }
      cf.stages.push({ index: cf.stages.length, name, base: words[0], from: ins, instructions: [] });
    } else if (!cf.stages.length) {
      if (ins.cmd !== "ARG") {
        throw new ContainerfileError(
          file,
          l.line,
          `${ins.cmd} before the first FROM: only ARG may come first`,
        );
      }
      cf.globalArgs.push(ins);
    } else {
      cf.stages[cf.stages.length - 1].instructions.push(ins);
    }
  }
  if (!cf.stages.length) {
    throw new ContainerfileError(file, lexed.lines.at(-1)?.line ?? 1, "no FROM instruction");
  }
  return cf;
}
