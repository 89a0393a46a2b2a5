/**
 * Executor of parsed Go templates over JavaScript data, following Go's text/template evaluation:
 * field chains, variables and their scopes, pipelines (the previous value is the last argument),
 * lazy `and`/`or`, `if`/`with`/`range` (maps in sorted key order, integers since Go 1.22) with
 * `break`/`continue`, `template`, and Go's printing of values. Bounded by a step and output budget.
 *
 * One file over 400 lines on purpose: the evaluator of one tree of node kinds.
 * @module
 */

import type {
  ArgNode,
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  PipeNode,
  TemplateNode,
  VariableNode,
} from "./ast.ts";
import { nodeString } from "./ast.ts";
import { execError, TemplateError } from "./errors.ts";
import { ArgTypeError, type BuiltinFunc, type FuncContext, isTrue } from "./funcs.ts";
import type { ParsedTemplate } from "./parser.ts";
import { formatGoValue } from "./printf.ts";
import { goKind, goMap, goTypeName, mapEntries, mapGet, sliceItems } from "../gofmt.ts";

/** Limits and map hints for one execution. */
export interface ExecLimits {
  /** Field names whose (plain object) values are Go maps, e.g. `Labels`. */
  mapFields: ReadonlySet<string>;
  /** Maximum evaluation steps before failing (guards huge ranges). */
  maxSteps: number;
  /** Maximum output length in characters. */
  maxOutput: number;
}

const MISSING: unique symbol = Symbol("missing");
type Final = unknown | typeof MISSING;
type Signal = "break" | "continue" | undefined;

const MAX_TEMPLATE_DEPTH = 1000;
const EMPTY_MAP = Object.freeze(goMap({}, ""));

/** Runs a parsed template; throws `TemplateError`. */
export function executeTemplate(
  tree: ParsedTemplate,
  src: string,
  name: string,
  data: unknown,
  funcs: Map<string, BuiltinFunc>,
  limits: ExecLimits,
): string {
  const st = new State(tree, src, name, funcs, limits, data);
  try {
    st.walkList(data, tree.root);
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    const msg = e instanceof RangeError ? "stack overflow" : e instanceof Error ? e.message : String(e);
    throw st.error(msg);
  }
  return st.out.join("");
}

interface Var {
  name: string;
  value: unknown;
}

class State {
  out: string[] = [];
  private outLen = 0;
  private steps = 0;
  private vars: Var[];
  private node: { pos: number; ctx: string } | null = null;
  private depth = 0;
  private ctx: FuncContext;

  constructor(
    private tree: ParsedTemplate,
    private src: string,
    private name: string,
    private funcs: Map<string, BuiltinFunc>,
    private limits: ExecLimits,
    data: unknown,
  ) {
    this.vars = [{ name: "$", value: data }];
    this.ctx = { maps: new WeakSet(), mapFields: limits.mapFields };
  }

  error(detail: string): TemplateError {
    if (!this.node) {
      return new TemplateError("exec", `template: ${this.name}: ${detail}`, this.name, 0, 0, detail);
    }
    return execError(this.src, this.name, this.node.pos, this.node.ctx, detail);
  }
  private fail(detail: string): never {
    throw this.error(detail);
  }
  private at(n: ArgNode | CommandNode | Node): void {
    this.node = { pos: n.pos, ctx: nodeString(n) };
  }
  private step(): void {
    if (++this.steps > this.limits.maxSteps) this.fail(`execution exceeded ${this.limits.maxSteps} steps`);
  }
  private write(s: string): void {
    this.outLen += s.length;
    if (this.outLen > this.limits.maxOutput) this.fail(`output exceeds ${this.limits.maxOutput} characters`);
    this.out.push(s);
  }

  walkList(dot: unknown, list: ListNode): Signal {
    for (const n of list.nodes) {
      const sig = this.walk(dot, n);
      if (sig) return sig;
    }
    return undefined;
  }

  private walk(dot: unknown, n: Node): Signal {
    this.step();
    switch (n.type) {
      case "text":
        this.write(n.text);
        return undefined;
      case "action": {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.printValue(n, v);
        return undefined;
      }
      case "if":
      case "with":
        return this.walkIfOrWith(dot, n);
      case "range":
        return this.walkRange(dot, n);
      case "break":
      case "continue":
        return n.type;
      case "template":
        this.walkTemplate(dot, n);
        return undefined;
    }
  }

  private walkIfOrWith(dot: unknown, n: BranchNode): Signal {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, n.pipe);
      if (isTrue(val, this.ctx.maps)) return this.walkList(n.type === "with" ? val : dot, n.list);
      if (n.elseList) return this.walkList(dot, n.elseList);
      return undefined;
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, r: BranchNode): Signal {
    this.at(r);
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: unknown, elem: unknown): Signal => {
        this.step();
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0].ident[0], decl.length > 1 ? index : elem);
          else this.vars[this.vars.length - 1].value = elem;
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1].ident[0], elem);
          else this.vars[this.vars.length - 2].value = index;
        }
        try {
          return this.walkList(elem, r.list);
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      const kind = goKind(val, this.ctx.maps);
      switch (kind) {
        case "slice": {
          const items = sliceItems(val);
          for (let i = 0; i < items.length; i++) {
            ran = true;
            if (one(i, items[i]) === "break") break;
          }
          break;
        }
        case "map":
          for (const [k, v] of mapEntries(val)) {
            ran = true;
            if (one(k, v) === "break") break;
          }
          break;
        case "int": {
          if (decl.length > 1) {
            this.fail(`can't use ${formatGoValue(val)} to iterate over more than one variable`);
          }
          const n = Number(val);
          for (let i = 0; i < n; i++) {
            ran = true;
            if (one(i, i) === "break") break;
          }
          break;
        }
        case "invalid":
        case "nil":
          break;
        default:
          this.at(r);
          this.fail(`range can't iterate over ${formatGoValue(val, this.ctx.maps)}`);
      }
      if (!ran && r.elseList) return this.walkList(dot, r.elseList);
      return undefined;
    } finally {
      this.vars.length = outer;
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const list = this.tree.defines.get(t.name);
    if (!list) this.fail(`no such template "${t.name}"`);
    if (this.depth >= MAX_TEMPLATE_DEPTH) {
      this.fail(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    }
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const saved = this.vars;
    this.vars = [{ name: "$", value: newDot }];
    this.depth++;
    try {
      this.walkList(newDot, list);
    } finally {
      this.depth--;
      this.vars = saved;
    }
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) return this.vars[i].value;
    }
    this.fail(`undefined variable: ${name}`);
  }

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const v = value === MISSING ? undefined : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.ident[0], v);
      else this.vars.push({ name: d.ident[0], value: v });
    }
    return v;
  }

  private notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.fail(`can't give argument to non-function ${nodeString(args[0])}`);
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    this.step();
    const first = cmd.args[0];
    switch (first.type) {
      case "field":
        return this.evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        this.fail("nil is not a command");
        break;
      case "number":
        return first.value;
      case "string":
        return first.text;
    }
    this.fail(`can't evaluate command ${goTypeName(first)}`);
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: ArgNode[], final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: ArgNode[], final: Final): unknown {
    this.at(chain);
    if (chain.node.type === "nil") this.fail(`indirection through explicit nil in ${nodeString(chain)}`);
    const recv = this.evalArg(dot, chain.node);
    this.at(chain);
    return this.evalFieldChain(dot, recv, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: ArgNode[], final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: ArgNode,
    ident: string[],
    args: ArgNode[],
    final: Final,
  ): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i], node, [], MISSING, receiver);
    return this.evalField(dot, ident[n - 1], node, args, final, receiver);
  }

  private evalField(
    dot: unknown,
    fieldName: string,
    node: ArgNode,
    args: ArgNode[],
    final: Final,
    receiver: unknown,
  ): unknown {
    if (receiver === undefined || receiver === null) return undefined;
    const hasArgs = args.length > 1 || final !== MISSING;
    const kind = goKind(receiver, this.ctx.maps);
    if (kind === "map") {
      if (hasArgs) this.fail(`${fieldName} is not a method but has arguments`);
      const got = mapGet(receiver, fieldName);
      return got.found ? got.value : undefined;
    }
    if (typeof receiver === "object" && kind !== "slice" && hasField(receiver, fieldName)) {
      const v = (receiver as Record<string, unknown>)[fieldName];
      if (typeof v === "function") {
        const fn: BuiltinFunc = { min: 0, max: Infinity, call: (_c, a) => v.apply(receiver, a) };
        return this.evalCall(dot, fn, node, fieldName, args, final);
      }
      if (hasArgs) this.fail(`${fieldName} has arguments but cannot be invoked as function`);
      if (this.limits.mapFields.has(fieldName)) {
        if (v === null) return EMPTY_MAP;
        if (goKind(v, this.ctx.maps) === "struct") this.ctx.maps.add(v as object);
      }
      return v;
    }
    this.fail(`can't evaluate field ${fieldName} in type ${goTypeName(receiver, this.ctx.maps)}`);
  }

  private evalFunction(
    dot: unknown,
    node: IdentifierNode,
    cmd: CommandNode | IdentifierNode,
    args: ArgNode[],
    final: Final,
  ): unknown {
    this.at(node);
    const name = node.name;
    const fn = this.funcs.get(name);
    if (!fn) this.fail(`"${name}" is not a defined function`);
    return this.evalCall(dot, fn, cmd, name, args, final);
  }

  private evalCall(
    dot: unknown,
    fn: BuiltinFunc,
    site: CommandNode | ArgNode,
    name: string,
    args: ArgNode[],
    final: Final,
  ): unknown {
    const params = args.slice(1);
    const numIn = params.length + (final !== MISSING ? 1 : 0);
    if (numIn < fn.min || numIn > fn.max) {
      this.at(site);
      if (fn.max === Infinity) {
        this.fail(`wrong number of args for ${name}: want at least ${fn.min} got ${numIn}`);
      }
      this.fail(`wrong number of args for ${name}: want ${fn.min} got ${numIn}`);
    }
    if ((name === "and" || name === "or") && fn === this.funcs.get(name) && isLazy(fn)) {
      let v: unknown;
      for (const a of params) {
        v = this.evalArg(dot, a);
        if (isTrue(v, this.ctx.maps) === (name === "or")) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv = params.map((a) => this.evalArg(dot, a));
    if (final !== MISSING) argv.push(final);
    this.at(site);
    try {
      return fn.call(this.ctx, argv);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(site);
      if (e instanceof ArgTypeError) this.fail(e.message);
      this.fail(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private evalArg(dot: unknown, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "field":
        return this.evalFieldNode(dot, n, [n], MISSING);
      case "variable":
        return this.evalVariableNode(dot, n, [], MISSING);
      case "pipe":
        return this.evalPipeline(dot, n);
      case "identifier":
        return this.evalFunction(dot, n, n, [n], MISSING);
      case "chain":
        return this.evalChainNode(dot, n, [], MISSING);
      case "bool":
        return n.value;
      case "number":
        return n.value;
      case "string":
        return n.text;
    }
  }

  private printValue(n: Node, v: unknown): void {
    this.at(n);
    if (typeof v === "function") this.fail(`can't print ${nodeString(n)} of type func`);
    this.write(formatGoValue(v, this.ctx.maps));
  }
}

const lazy = new WeakSet<BuiltinFunc>();

/** Marks a builtin as Go's short-circuit `and`/`or`. */
export function markLazy(fn: BuiltinFunc): BuiltinFunc {
  lazy.add(fn);
  return fn;
}

function isLazy(fn: BuiltinFunc): boolean {
  return lazy.has(fn);
}

function hasField(obj: object, name: string): boolean {
  if (Object.hasOwn(obj, name)) return true;
  return name in obj && !(name in Object.prototype);
}
