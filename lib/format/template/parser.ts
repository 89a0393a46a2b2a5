/**
 * Parser for Go's text/template: builds the tree of {@link ./ast.ts} from the lexer's tokens, with Go's
 * rules (declared variables are scoped to their control structure, functions must exist, `break` and
 * `continue` only inside `range`, `else if`/`else with` chains, `define`/`block`/`template`).
 *
 * One file over 400 lines on purpose: a recursive-descent parser of one grammar.
 * @module
 */

import type {
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  VariableNode,
} from "./ast.ts";
import { nodeString } from "./ast.ts";
import { parseError } from "./errors.ts";
import { lex, type Token, type TokenType } from "./lexer.ts";
import { goQuote, utf8Bytes, utf8Decode } from "../gofmt.ts";

/** A parsed template: the main list and the `{{define}}`d ones. */
export interface ParsedTemplate {
  root: ListNode;
  defines: Map<string, ListNode>;
}

const MAX_DEPTH = 400;

type EndNode = { type: "end"; pos: number } | { type: "else"; pos: number };

/** Parses `src`; `hasFunc` tells whether a function name is defined. Throws `TemplateError`. */
export function parseTemplate(src: string, name: string, hasFunc: (name: string) => boolean): ParsedTemplate {
  return new Parser(src, name, hasFunc).parse();
}

function tokenString(t: Token): string {
  if (t.type === "eof") return "EOF";
  if (t.type === "keyword") return `<${t.val}>`;
  const runes = [...t.val];
  if (runes.length > 10) return goQuote(runes.slice(0, 10).join("")) + "...";
  return goQuote(t.val);
}

class Parser {
  private toks: Token[];
  private i = 0;
  private vars: string[] = ["$"];
  private rangeDepth = 0;
  private depth = 0;
  private defines = new Map<string, ListNode>();

  constructor(private src: string, private name: string, private hasFunc: (name: string) => boolean) {
    this.toks = lex(src, name);
  }

  private fail(pos: number, msg: string): never {
    throw parseError(this.src, this.name, pos, msg);
  }
  private next(): Token {
    return this.toks[Math.min(this.i++, this.toks.length - 1)];
  }
  private peek(): Token {
    return this.toks[Math.min(this.i, this.toks.length - 1)];
  }
  private backup(n = 1): void {
    this.i -= n;
  }
  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === "space") t = this.next();
    return t;
  }
  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }
  private unexpected(t: Token, context: string): never {
    this.fail(t.pos, `unexpected ${tokenString(t)} in ${context}`);
  }
  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }
  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) this.fail(pos, `nesting too deep (max ${MAX_DEPTH})`);
  }

  parse(): ParsedTemplate {
    const root: ListNode = { type: "list", pos: 0, nodes: [] };
    while (this.peek().type !== "eof") {
      if (this.peek().type === "leftDelim") {
        const save = this.i;
        this.next();
        const t = this.nextNonSpace();
        if (t.type === "keyword" && t.val === "define") {
          this.parseDefinition();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") this.fail(n.pos, `unexpected {{${n.type}}}`);
      root.nodes.push(n);
    }
    return { root, defines: this.defines };
  }

  private parseDefinition(): void {
    const t = this.nextNonSpace();
    const name = this.templateName(t, "define clause");
    this.expect("rightDelim", "define clause");
    const saved = this.vars;
    this.vars = ["$"];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.type !== "end") this.fail(end.pos, `unexpected {{else}} in define clause`);
    this.defines.set(name, list);
  }

  private templateName(t: Token, context: string): string {
    if (t.type === "string" || t.type === "rawString") return this.unquote(t);
    this.unexpected(t, context);
  }

  private itemList(): [ListNode, EndNode] {
    const list: ListNode = { type: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== "eof") {
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") return [list, n];
      list.nodes.push(n);
    }
    this.fail(this.src.length, "unexpected EOF");
  }

  private textOrAction(): Node | EndNode {
    const t = this.nextNonSpace();
    if (t.type === "text") return { type: "text", pos: t.pos, text: t.val };
    if (t.type === "leftDelim") return this.action();
    this.unexpected(t, "input");
  }

  private action(): Node | EndNode {
    const t = this.nextNonSpace();
    if (t.type === "keyword") {
      switch (t.val) {
        case "block":
          return this.blockControl(t);
        case "break":
        case "continue": {
          const n = this.nextNonSpace();
          if (n.type !== "rightDelim") this.unexpected(n, `{{${t.val}}}`);
          if (this.rangeDepth === 0) this.fail(t.pos, `{{${t.val}}} outside {{range}}`);
          return { type: t.val, pos: t.pos };
        }
        case "else": {
          const p = this.peekNonSpace();
          if (p.type === "keyword" && (p.val === "if" || p.val === "with")) {
            return { type: "else", pos: p.pos };
          }
          this.expect("rightDelim", "else");
          return { type: "else", pos: t.pos };
        }
        case "end":
          this.expect("rightDelim", "end");
          return { type: "end", pos: t.pos };
        case "if":
        case "with":
        case "range":
          return this.control(t.val, t.pos);
        case "template":
          return this.templateControl(t);
      }
    }
    this.backup();
    const p = this.peek();
    return { type: "action", pos: p.pos, pipe: this.pipeline("command", "rightDelim") };
  }

  private control(context: "if" | "with" | "range", pos: number): BranchNode {
    this.enter(pos);
    const mark = this.vars.length;
    const pipe = this.pipeline(context, "rightDelim");
    if (context === "range") this.rangeDepth++;
    const [list, next] = this.itemList();
    if (context === "range") this.rangeDepth--;
    let elseList: ListNode | null = null;
    if (next.type === "else") {
      const p = this.peek();
      if ((context === "if" || context === "with") && p.type === "keyword" && p.val === context) {
        this.next();
        elseList = { type: "list", pos: next.pos, nodes: [this.control(context, p.pos)] };
      } else {
        const [l, end] = this.itemList();
        if (end.type !== "end") this.fail(end.pos, `expected end; found {{else}}`);
        elseList = l;
      }
    }
    this.vars.length = mark;
    this.depth--;
    return { type: context, pos, pipe, list, elseList };
  }

  private templateControl(kw: Token): TemplateNode {
    const context = "template clause";
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== "rightDelim") {
      this.backup();
      pipe = this.pipeline(context, "rightDelim");
    }
    return { type: "template", pos: kw.pos, name, pipe };
  }

  private blockControl(kw: Token): TemplateNode {
    const context = "block clause";
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== "rightDelim") {
      this.backup();
      pipe = this.pipeline(context, "rightDelim");
    }
    const saved = this.vars;
    const savedRange = this.rangeDepth;
    this.vars = ["$"];
    this.rangeDepth = 0;
    const [list, end] = this.itemList();
    this.vars = saved;
    this.rangeDepth = savedRange;
    if (end.type !== "end") this.fail(end.pos, `unexpected {{else}} in ${context}`);
    this.defines.set(name, list);
    return { type: "template", pos: kw.pos, name, pipe };
  }

  private pipeline(context: string, end: "rightDelim" | "rightParen"): PipeNode {
    const first = this.peekNonSpace();
    this.enter(first.pos);
    const pipe: PipeNode = { type: "pipe", pos: first.pos, decl: [], isAssign: false, cmds: [] };
    // declarations
    while (true) {
      const save = this.i;
      const v = this.nextNonSpace();
      if (v.type !== "variable") {
        this.i = save;
        break;
      }
      const nx = this.nextNonSpace();
      if (nx.type === "assign" || nx.type === "declare") {
        pipe.isAssign = nx.type === "assign";
        pipe.decl.push(this.declVar(v, pipe.isAssign));
        break;
      }
      if (nx.type === "comma") {
        pipe.decl.push(this.declVar(v, false));
        if (context === "range" && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.type === "variable" || p.type === "rightDelim" || p.type === "rightParen") continue;
          this.fail(p.pos, "range can only initialize variables");
        }
        this.fail(v.pos, `too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    for (const d of pipe.decl) if (!pipe.isAssign) this.vars.push(d.ident[0]);
    while (true) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context, t);
        this.depth--;
        return pipe;
      }
      switch (t.type) {
        case "bool":
        case "char":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "leftParen":
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private declVar(t: Token, isAssign: boolean): VariableNode {
    if (t.val.includes(".")) this.fail(t.pos, `unexpected ${tokenString(t)} in declaration`);
    if (isAssign && !this.vars.includes(t.val)) this.fail(t.pos, `undefined variable "${t.val}"`);
    return { type: "variable", pos: t.pos, ident: [t.val] };
  }

  private checkPipeline(pipe: PipeNode, context: string, at: Token): void {
    if (pipe.cmds.length === 0) this.fail(at.pos, `missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const a = pipe.cmds[i].args[0];
      if (["bool", "dot", "nil", "number", "string"].includes(a.type)) {
        this.fail(a.pos, `non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: "command", pos: this.peekNonSpace().pos, args: [] };
    while (true) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const t = this.next();
      if (t.type === "space") continue;
      if (t.type === "rightDelim" || t.type === "rightParen") {
        this.backup();
      } else if (t.type !== "pipe") {
        this.unexpected(t, "operand");
      } else {
        const n = this.peekNonSpace();
        if (n.type === "rightDelim" || n.type === "rightParen") this.fail(n.pos, "missing command after |");
      }
      break;
    }
    if (cmd.args.length === 0) this.fail(cmd.pos, "empty command");
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (!node) return null;
    if (this.peek().type !== "field") return node;
    const fields: string[] = [];
    while (this.peek().type === "field") fields.push(this.next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos: node.pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { type: "variable", pos: node.pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        this.fail(node.pos, `unexpected . after term ${goQuote(nodeString(node))}`);
    }
    return { type: "chain", pos: node.pos, node, field: fields };
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "identifier":
        if (!this.hasFunc(t.val)) this.fail(t.pos, `function "${t.val}" not defined`);
        return { type: "identifier", pos: t.pos, name: t.val };
      case "dot":
        return { type: "dot", pos: t.pos };
      case "nil":
        return { type: "nil", pos: t.pos };
      case "variable":
        if (!this.vars.includes(t.val)) this.fail(t.pos, `undefined variable "${t.val}"`);
        return { type: "variable", pos: t.pos, ident: [t.val] };
      case "field":
        return { type: "field", pos: t.pos, ident: [t.val.slice(1)] };
      case "bool":
        return { type: "bool", pos: t.pos, value: t.val === "true" };
      case "char":
      case "number":
        return this.number(t);
      case "leftParen":
        return this.pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString":
        return { type: "string", pos: t.pos, quoted: t.val, text: this.unquote(t) };
    }
    this.backup();
    return null;
  }

  private number(t: Token): NumberNode {
    const text = t.val;
    if (t.type === "char") {
      const s = this.unquoteBody(text.slice(1, -1), "'", t.pos);
      const cps = [...s];
      if (cps.length !== 1) this.fail(t.pos, `malformed character constant: ${text}`);
      return { type: "number", pos: t.pos, text, value: cps[0].codePointAt(0)! };
    }
    const v = parseGoNumber(text);
    if (v === null) this.fail(t.pos, `illegal number syntax: ${goQuote(text)}`);
    return { type: "number", pos: t.pos, text, value: v };
  }

  private unquote(t: Token): string {
    if (t.type === "rawString") return t.val.slice(1, -1).replaceAll("\r", "");
    return this.unquoteBody(t.val.slice(1, -1), '"', t.pos);
  }

  private unquoteBody(body: string, q: string, pos: number): string {
    const bytes: number[] = [];
    const pushStr = (s: string) => {
      for (const b of utf8Bytes(s)) bytes.push(b);
    };
    const bad = (): never => this.fail(pos, "invalid syntax");
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === q) bad();
      if (c !== "\\") {
        const cp = body.codePointAt(i)!;
        if (cp > 0xffff) i++;
        pushStr(String.fromCodePoint(cp));
        continue;
      }
      const e = body[++i];
      const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92 };
      if (e in simple) {
        bytes.push(simple[e]);
      } else if (e === q) {
        bytes.push(q.charCodeAt(0));
      } else if (e === "x") {
        const h = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) bad();
        bytes.push(parseInt(h, 16));
        i += 2;
      } else if (e === "u" || e === "U") {
        const n = e === "u" ? 4 : 8;
        const h = body.slice(i + 1, i + 1 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) bad();
        const cp = parseInt(h, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bad();
        pushStr(String.fromCodePoint(cp));
        i += n;
      } else if (e !== undefined && /[0-7]/.test(e)) {
        const o = body.slice(i, i + 3);
        if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) bad();
        bytes.push(parseInt(o, 8));
        i += 2;
      } else {
        bad();
      }
    }
    return utf8Decode(new Uint8Array(bytes));
  }
}

/** Parses a Go number literal (ints with base prefixes and `_`, floats); null when invalid or complex. */
export function parseGoNumber(text: string): number | bigint | null {
  let s = text;
  let neg = false;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "" || s.endsWith("i")) return null;
  const sign = (v: bigint): number | bigint => {
    const r = neg ? -v : v;
    if (r >= BigInt(Number.MIN_SAFE_INTEGER) && r <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(r);
    if (r >= -(2n ** 63n) && r < 2n ** 63n) return r;
    return Number(r);
  };
  const underscoresOk = (digits: string) => !/__|_$/.test(digits);
  let m = /^0([xX])([0-9a-fA-F_]+)$/.exec(s) ?? /^0([oO])([0-7_]+)$/.exec(s) ?? /^0([bB])([01_]+)$/.exec(s);
  if (m) {
    if (!underscoresOk(m[2])) return null;
    const prefix = { x: "0x", o: "0o", b: "0b" }[m[1].toLowerCase()]!;
    const digits = m[2].replaceAll("_", "");
    if (digits === "") return null;
    return sign(BigInt(prefix + digits));
  }
  m = /^0([0-7_]*)$/.exec(s);
  if (m) {
    if (!underscoresOk(m[1])) return null;
    const digits = m[1].replaceAll("_", "");
    return sign(digits === "" ? 0n : BigInt("0o" + digits));
  }
  if (/^[1-9][0-9_]*$/.test(s)) {
    if (!underscoresOk(s)) return null;
    return sign(BigInt(s.replaceAll("_", "")));
  }
  if (/^([0-9][0-9_]*)?(\.[0-9_]*)?([eE][+-]?[0-9][0-9_]*)?$/.test(s) && /[0-9]/.test(s)) {
    if (s.includes("_") && !/^[0-9]/.test(s)) return null;
    const v = Number(s.replaceAll("_", ""));
    if (Number.isNaN(v)) return null;
    return neg ? -v : v;
  }
  return null;
}
