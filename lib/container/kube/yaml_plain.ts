/**
 * A fast path for `kube` YAML (pods5, issue 15): the plain subset Kubernetes files are written in, read
 * without loading the npm `yaml` package (which costs a `kube play`/`kube down` ~80–100 ms of Deno's npm and
 * CommonJS start-up). Block mappings and sequences (compact `- key: v` entries too), one-line flow `[…]` and
 * `{…}`, quoted and plain scalars (YAML 1.2 core schema: null, true/false, decimal integers), comments and
 * `---` between documents.
 *
 * Anything else — anchors, tags, block scalars, multi-line scalars, floats, odd indentation, duplicate keys,
 * an empty document, any syntax error — makes {@link parsePlainYaml} return `undefined`, and the caller
 * parses the text with the full parser (whose values and error messages are the reference). So this path
 * only ever answers for text whose meaning is unambiguous, and gives the same values as the `yaml` package
 * (tests/unit/kube_yaml_plain_test.ts compares both).
 * @module
 */

/** A parsed YAML document: its 1-based number in the file and its value. */
export interface YamlDoc {
  /** 1-based position in the stream. */
  index: number;
  /** The line the document starts on (1-based). */
  line: number;
  /** The document as plain data. */
  value: unknown;
}

/** Thrown inside: the text leaves the subset (never escapes {@link parsePlainYaml}). */
class Unsupported extends Error {}

const no = (): never => {
  throw new Unsupported();
};

interface Line {
  /** 1-based line number. */
  no: number;
  /** Column of the first non-space character. */
  indent: number;
  /** The text from `indent` on (no trailing spaces). */
  text: string;
}

const KEY = /^([A-Za-z_][A-Za-z0-9_.\/-]*):(?: +|$)/;
const RESERVED = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE|__proto__)$/;
const INT = /^(?:0|-?[1-9][0-9]{0,14})$/;
const NUMBERISH = [
  /^[-+]?[0-9][0-9_]*$/,
  /^0[oO]?[0-7_]+$/,
  /^[-+]?0[xXbB][0-9a-fA-F_]+$/,
  /^[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
];

/** A plain (unquoted) scalar, resolved as the YAML 1.2 core schema does; anything doubtful is refused. */
function plain(s: string, flow: boolean): unknown {
  if (!s || /[\t#]|: |:$|^[?:,\[\]{}&*!|>'"%@`]|^- |^-$/.test(s)) no();
  if (flow && /[,\[\]{}:]/.test(s)) no();
  if (s === "~" || s === "null" || s === "Null" || s === "NULL") return null;
  if (s === "true" || s === "True" || s === "TRUE") return true;
  if (s === "false" || s === "False" || s === "FALSE") return false;
  if (INT.test(s)) return Number(s);
  // floats, octal/hex, signed or exotic numbers, .inf/.nan: left to the full parser (a superset of the core
  // schema's forms); other text that starts with a digit (`127.0.0.1:5000/img`, `1.2.3`) is a string
  if (NUMBERISH.some((re) => re.test(s))) no();
  return s;
}

/**
 * One scalar or flow collection at the start of `s`: the value and the rest of `s` after it. `flow`: inside
 * `[…]`/`{…}` (a plain scalar ends at `,`, `]` or `}`).
 */
function scalarAt(s: string, flow: boolean): [unknown, string] {
  if (s[0] === '"') {
    const m = /^"((?:[^"\\]|\\["\\\/nt])*)"/.exec(s) ?? no();
    const v = m[1].replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c === "t" ? "\t" : c);
    return [v, s.slice(m[0].length)];
  }
  if (s[0] === "'") {
    const m = /^'((?:[^']|'')*)'/.exec(s) ?? no();
    return [m[1].replaceAll("''", "'"), s.slice(m[0].length)];
  }
  if (s[0] === "[" || s[0] === "{") {
    if (flow) no(); // nested flow collections: the full parser
    return flowAt(s);
  }
  if (flow) {
    const m = /^[^,\[\]{}]*/.exec(s)!;
    const text = m[0].trimEnd();
    return [plain(text, true), s.slice(text.length)];
  }
  const cut = s.indexOf(" #");
  const text = (cut < 0 ? s : s.slice(0, cut)).trimEnd();
  return [plain(text, false), s.slice(text.length)];
}

/** A one-line `[a, b]` or `{k: v}` at the start of `s`, and the rest of `s`. */
function flowAt(s: string): [unknown, string] {
  const map = s[0] === "{";
  const close = map ? "}" : "]";
  const out: unknown[] = [];
  const obj: Record<string, unknown> = {};
  let rest = s.slice(1).trimStart();
  if (rest[0] === close) return [map ? obj : out, rest.slice(1)];
  for (;;) {
    if (map) {
      const k = KEY.exec(rest) ?? no();
      if (RESERVED.test(k[1]) || Object.hasOwn(obj, k[1])) no();
      rest = rest.slice(k[0].length);
      if (!rest.startsWith(" ") && k[0].endsWith(":")) no(); // `{a:b}` or `{a:}`: the full parser
      const [v, after] = scalarAt(rest.trimStart(), true);
      obj[k[1]] = v;
      rest = after.trimStart();
    } else {
      const [v, after] = scalarAt(rest, true);
      out.push(v);
      rest = after.trimStart();
    }
    if (rest[0] === close) return [map ? obj : out, rest.slice(1)];
    if (rest[0] !== ",") no();
    rest = rest.slice(1).trimStart();
    if (!rest || rest[0] === close || rest[0] === ",") no(); // a trailing or empty entry
  }
}

/** A whole value written after `key: ` or `- ` (a trailing comment allowed). */
function inlineValue(s: string): unknown {
  const [v, rest] = scalarAt(s, false);
  if (rest && !/^ +#/.test(rest)) no();
  return v;
}

/** Recursive descent over the document's content lines (blank and comment lines already dropped). */
class Reader {
  i = 0;
  constructor(private lines: Line[]) {}

  /** The block (mapping or sequence) starting at the current line, whose indentation is `indent`. */
  block(indent: number): unknown {
    const l = this.lines[this.i];
    if (l.indent !== indent) no();
    return l.text === "-" || l.text.startsWith("- ") ? this.seq(indent) : this.map(indent);
  }

  /** The value of `key:` / `-` with nothing after it: a nested block, or null. */
  nested(parent: number, seqAllowedAtParent: boolean): unknown {
    const next = this.lines[this.i];
    if (!next || next.indent < parent) return null;
    if (next.indent > parent) return this.block(next.indent);
    // `key:` followed by `- item` at the key's own indentation is a sequence (as kube generate writes)
    if (seqAllowedAtParent && (next.text === "-" || next.text.startsWith("- "))) return this.seq(parent);
    return null;
  }

  map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length) {
      const l = this.lines[this.i];
      if (l.indent < indent) break;
      if (l.indent > indent || l.text.startsWith("- ") || l.text === "-") no();
      const k = KEY.exec(l.text) ?? no();
      if (RESERVED.test(k[1]) || Object.hasOwn(out, k[1])) no();
      const rest = l.text.slice(k[0].length);
      this.i++;
      if (rest === "" || rest.startsWith("#")) {
        if (rest && !k[0].endsWith(" ")) no();
        out[k[1]] = this.nested(indent, true);
      } else {
        out[k[1]] = inlineValue(rest);
        this.after(indent);
      }
    }
    return out;
  }

  seq(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const l = this.lines[this.i];
      if (l.indent < indent) break;
      if (l.indent > indent || !(l.text === "-" || l.text.startsWith("- "))) {
        // after a sequence at its key's indentation, the parent mapping's next key
        if (l.indent === indent && KEY.test(l.text)) break;
        no();
      }
      const body = l.text.slice(1).replace(/^ +/, "");
      if (body === "" || body.startsWith("#")) {
        if (body && l.text[1] !== " ") no();
        this.i++;
        out.push(this.nested(indent + 1, false));
        continue;
      }
      if (body === "-" || body.startsWith("- ")) no(); // `- - x`: the full parser
      const col = l.indent + (l.text.length - body.length);
      if (KEY.test(body)) {
        // a compact mapping: its first key on the dash's line, the others at the same column
        this.lines[this.i] = { no: l.no, indent: col, text: body };
        out.push(this.map(col));
        continue;
      }
      this.i++;
      out.push(inlineValue(body));
      this.after(indent);
    }
    return out;
  }

  /** After a one-line value, a deeper line would continue it (a multi-line scalar): refused. */
  private after(indent: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > indent) no();
  }
}

/**
 * The documents of `text` when it stays in the plain subset (see the module doc), as `parseYamlDocuments`
 * returns them; `undefined` when the full parser must read it.
 */
export function parsePlainYaml(text: string): YamlDoc[] | undefined {
  try {
    if (/[\t\r\uFEFF]/.test(text)) return undefined;
    const docs: Line[][] = [[]];
    let sawContent = false;
    for (const [n, raw] of text.split("\n").entries()) {
      const line = raw.trimEnd();
      if (line === "---") {
        // a first `---` after nothing but comments opens document 1; any other closes one
        if (docs.length > 1 || sawContent) docs.push([]);
        sawContent = true;
        continue;
      }
      const t = line.trimStart();
      if (!t || t.startsWith("#")) continue;
      if (/^(?:\.\.\.|---|%)/.test(line)) return undefined;
      sawContent = true;
      docs[docs.length - 1].push({ no: n + 1, indent: line.length - t.length, text: t });
    }
    const out: YamlDoc[] = [];
    for (const [i, lines] of docs.entries()) {
      if (!lines.length) {
        if (docs.length === 1) return []; // nothing but comments
        return undefined; // an empty document: numbering as the full parser does is its job
      }
      const r = new Reader(lines);
      if (lines[0].indent !== 0) return undefined;
      const value = r.block(0);
      if (r.i !== lines.length) return undefined;
      out.push({ index: i + 1, line: lines[0].no, value });
    }
    return out;
  } catch (e) {
    if (e instanceof Unsupported || e instanceof RangeError) return undefined;
    throw e;
  }
}
