/**
 * Parse tree of a Go text/template, and Go's `String()` rendering of nodes (used as error context).
 * @module
 */

/** `.A.B` — a field chain on dot. */
export interface FieldNode {
  type: "field";
  pos: number;
  ident: string[];
}
/** `$x` or `$x.A.B`. */
export interface VariableNode {
  type: "variable";
  pos: number;
  ident: string[];
}
/** `(pipeline).A.B` or another term followed by fields. */
export interface ChainNode {
  type: "chain";
  pos: number;
  node: ArgNode;
  field: string[];
}
/** A function name. */
export interface IdentifierNode {
  type: "identifier";
  pos: number;
  name: string;
}
/** `.` */
export interface DotNode {
  type: "dot";
  pos: number;
}
/** `nil` */
export interface NilNode {
  type: "nil";
  pos: number;
}
/** `true` / `false` */
export interface BoolNode {
  type: "bool";
  pos: number;
  value: boolean;
}
/** A numeric or character constant. */
export interface NumberNode {
  type: "number";
  pos: number;
  text: string;
  value: number | bigint;
}
/** A quoted or raw string constant. */
export interface StringNode {
  type: "string";
  pos: number;
  quoted: string;
  text: string;
}
/** A pipeline with optional variable declarations: `$x := a | b`. */
export interface PipeNode {
  type: "pipe";
  pos: number;
  decl: VariableNode[];
  isAssign: boolean;
  cmds: CommandNode[];
}
/** One command of a pipeline: operands separated by spaces. */
export interface CommandNode {
  type: "command";
  pos: number;
  args: ArgNode[];
}
/** Anything that can be an operand. */
export type ArgNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

/** Plain text outside actions. */
export interface TextNode {
  type: "text";
  pos: number;
  text: string;
}
/** `{{pipeline}}` */
export interface ActionNode {
  type: "action";
  pos: number;
  pipe: PipeNode;
}
/** `{{if}}`, `{{with}}` and `{{range}}` (with optional `{{else}}` list). */
export interface BranchNode {
  type: "if" | "with" | "range";
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
/** `{{break}}` / `{{continue}}` */
export interface LoopControlNode {
  type: "break" | "continue";
  pos: number;
}
/** `{{template "name" pipeline}}` */
export interface TemplateNode {
  type: "template";
  pos: number;
  name: string;
  pipe: PipeNode | null;
}
/** A sequence of nodes. */
export interface ListNode {
  type: "list";
  pos: number;
  nodes: Node[];
}
/** Any node of a list. */
export type Node = TextNode | ActionNode | BranchNode | LoopControlNode | TemplateNode;

/** Go's `String()` of a node, e.g. `.Config.Labels` or `index .A "b"`. */
export function nodeString(n: ArgNode | CommandNode | Node | ListNode): string {
  switch (n.type) {
    case "field":
      return n.ident.map((f) => "." + f).join("");
    case "variable":
      return n.ident.join(".");
    case "chain": {
      const inner = n.node.type === "pipe" ? `(${nodeString(n.node)})` : nodeString(n.node);
      return inner + n.field.map((f) => "." + f).join("");
    }
    case "identifier":
      return n.name;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(n.value);
    case "number":
      return n.text;
    case "string":
      return n.quoted;
    case "pipe": {
      let s = "";
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(", ") + (n.isAssign ? " = " : " := ");
      return s + n.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return n.args.map((a) => a.type === "pipe" ? `(${nodeString(a)})` : nodeString(a)).join(" ");
    case "text":
      return n.text;
    case "action":
      return `{{${nodeString(n.pipe)}}}`;
    case "if":
    case "with":
    case "range": {
      const e = n.elseList ? `{{else}}${nodeString(n.elseList)}` : "";
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${e}{{end}}`;
    }
    case "break":
    case "continue":
      return `{{${n.type}}}`;
    case "template":
      return `{{template ${JSON.stringify(n.name)}${n.pipe ? " " + nodeString(n.pipe) : ""}}}`;
    case "list":
      return n.nodes.map(nodeString).join("");
  }
}
