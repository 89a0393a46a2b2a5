/**
 * Finds the imports of a TypeScript module without a compiler: a small lexer that skips comments, strings,
 * template text and regular expression literals, then reads `import … from "x"`, `export … from "x"`,
 * `import "x"` and literal dynamic `import("x")` off the token stream.
 * @module
 */

/** One import of a module. */
export interface ImportRef {
  /** The specifier as written, e.g. `"../store/paths.ts"`. */
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
  /** `import("…")` rather than a static import or re-export. */
  dynamic: boolean;
  /** `import type`/`export type`, or every named binding is `type`. */
  typeOnly: boolean;
}

interface Token {
  kind: "word" | "punct" | "string" | "template" | "regex" | "number";
  text: string;
  line: number;
}

/** Keywords after which a `/` starts a regular expression, not a division. */
const REGEX_AFTER_WORDS = new Set([
  "return",
  "typeof",
  "case",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
  "else",
  "do",
]);

function isIdentStart(c: string): boolean {
  return /[A-Za-z_$\u0080-\uffff]/.test(c);
}

function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
}

/** Splits source text into the tokens the import reader needs; comments vanish. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  // brace depths at which a template literal's `${` was opened
  const templateStack: number[] = [];
  let braceDepth = 0;

  const prevAllowsRegex = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.kind === "word") return REGEX_AFTER_WORDS.has(prev.text);
    if (prev.kind === "punct") return prev.text !== ")" && prev.text !== "]";
    return false;
  };

  const readString = (quote: string): string => {
    let value = "";
    i++;
    while (i < src.length && src[i] !== quote) {
      if (src[i] === "\\") {
        value += src[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (src[i] === "\n") line++;
      value += src[i++];
    }
    i++;
    return value;
  };

  /** Reads template text up to the closing backtick or a `${`; returns true when it stopped at `${`. */
  const readTemplateText = (): boolean => {
    while (i < src.length) {
      const c = src[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "`") {
        i++;
        return false;
      }
      if (c === "$" && src[i + 1] === "{") {
        i += 2;
        return true;
      }
      if (c === "\n") line++;
      i++;
    }
    return false;
  };

  const readRegex = (): void => {
    i++;
    let inClass = false;
    while (i < src.length && src[i] !== "\n") {
      const c = src[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "[") inClass = true;
      else if (c === "]") inClass = false;
      else if (c === "/" && !inClass) break;
      i++;
    }
    i++;
    while (i < src.length && isIdentPart(src[i])) i++;
  };

  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === "\n") line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      const at = line;
      tokens.push({ kind: "string", text: readString(c), line: at });
    } else if (c === "`") {
      tokens.push({ kind: "template", text: "`", line });
      i++;
      if (readTemplateText()) templateStack.push(braceDepth);
    } else if (c === "/" && prevAllowsRegex()) {
      tokens.push({ kind: "regex", text: "/", line });
      readRegex();
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < src.length && isIdentPart(src[i])) i++;
      tokens.push({ kind: "word", text: src.slice(start, i), line });
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < src.length && /[0-9A-Za-z_.]/.test(src[i])) i++;
      tokens.push({ kind: "number", text: src.slice(start, i), line });
    } else if (c === "{") {
      braceDepth++;
      tokens.push({ kind: "punct", text: c, line });
      i++;
    } else if (c === "}") {
      if (templateStack.length && templateStack[templateStack.length - 1] === braceDepth) {
        templateStack.pop();
        if (readTemplateText()) templateStack.push(braceDepth);
        tokens.push({ kind: "template", text: "`", line });
      } else {
        braceDepth--;
        tokens.push({ kind: "punct", text: c, line });
        i++;
      }
    } else {
      tokens.push({ kind: "punct", text: c, line });
      i++;
    }
  }
  return tokens;
}

/** Reads `{ a, type B, c as d }` starting at `tokens[k] === "{"`; returns the index after `}` and whether every binding was `type`. */
function readBindings(tokens: Token[], k: number): { next: number; allTypes: boolean } {
  let allTypes = true;
  let sawBinding = false;
  let expectName = true;
  k++;
  while (k < tokens.length && tokens[k].text !== "}") {
    const t = tokens[k];
    if (t.text === ",") {
      expectName = true;
    } else if (expectName) {
      sawBinding = true;
      if (t.text !== "type" || tokens[k + 1]?.text === "," || tokens[k + 1]?.text === "}") allTypes = false;
      expectName = false;
    }
    k++;
  }
  return { next: k + 1, allTypes: allTypes && sawBinding };
}

/** The static and literal dynamic imports of one module's source text. */
export function findImports(src: string): ImportRef[] {
  const tokens = tokenize(src);
  const found: ImportRef[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== "word" || (t.text !== "import" && t.text !== "export")) continue;
    const prev = tokens[k - 1];
    if (prev && prev.kind === "punct" && prev.text === ".") continue; // obj.import
    const next = tokens[k + 1];
    if (!next) break;
    if (t.text === "import" && next.text === "(") {
      const arg = tokens[k + 2];
      if (arg?.kind === "string" && tokens[k + 3]?.text === ")") {
        // `typeof import("x")` only names the module's type
        const typeOnly = prev?.kind === "word" && prev.text === "typeof";
        found.push({ specifier: arg.text, line: arg.line, dynamic: true, typeOnly });
      }
      continue;
    }
    if (t.text === "import" && next.text === ".") continue; // import.meta
    if (t.text === "import" && next.kind === "string") {
      found.push({ specifier: next.text, line: next.line, dynamic: false, typeOnly: false });
      continue;
    }
    // a declaration clause up to `from "x"`; `export const …`/`export function …` have none
    let j = k + 1;
    let typeOnly = false;
    if (tokens[j]?.text === "type" && tokens[j + 1]?.text !== "," && tokens[j + 1]?.text !== "from") {
      typeOnly = true;
      j++;
    }
    if (t.text === "export" && tokens[j]?.text !== "{" && tokens[j]?.text !== "*") continue;
    let bindingsAllTypes = false;
    let hasDefaultOrStar = false;
    while (j < tokens.length && tokens[j].text !== "from" && tokens[j].text !== ";") {
      if (tokens[j].text === "{") {
        const r = readBindings(tokens, j);
        bindingsAllTypes = r.allTypes;
        j = r.next;
        continue;
      }
      if (tokens[j].text !== ",") hasDefaultOrStar = true;
      j++;
    }
    const spec = tokens[j + 1];
    if (tokens[j]?.text !== "from" || spec?.kind !== "string") continue;
    found.push({
      specifier: spec.text,
      line: spec.line,
      dynamic: false,
      typeOnly: typeOnly || (bindingsAllTypes && !hasDefaultOrStar),
    });
    k = j + 1;
  }
  return found;
}
