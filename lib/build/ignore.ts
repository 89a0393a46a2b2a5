/**
 * `.containerignore` / `.dockerignore`: Docker's pattern rules. One pattern a line, `#` comments, `!` makes an
 * exception, `*` `?` `[…]` within one path component, `**` any number of components; a pattern matching a
 * directory matches everything below it; the last matching pattern decides. Pure.
 * @module
 */

/** One compiled pattern. */
interface Rule {
  re: RegExp;
  exclude: boolean;
}

/** Compiles a cleaned pattern (no leading `/`, no `./`) to a regular expression over a relative path. */
export function patternRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let cls = pattern.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (cls.startsWith("^") || cls.startsWith("!")) cls = "^" + cls.slice(1);
        re += `[${cls}]`;
        i = end;
      }
    } else if (ch === "\\" && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Cleans a pattern like Go's filepath.Clean, without a leading `/`. */
function cleanPattern(p: string): string {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === ".." && out.length && out[out.length - 1] !== "..") out.pop();
    else out.push(c);
  }
  return out.join("/");
}

/** The ignore rules of a context. */
export class IgnoreRules {
  readonly #rules: Rule[];
  /** Whether any rule is an exception (then excluded directories must still be walked). */
  readonly hasExceptions: boolean;

  /** Rules from the lines of an ignore file. */
  constructor(lines: string[]) {
    this.#rules = [];
    for (let l of lines) {
      l = l.trim();
      if (!l || l.startsWith("#")) continue;
      const exclude = !l.startsWith("!");
      if (!exclude) l = l.slice(1).trim();
      const p = cleanPattern(l);
      if (!p) continue;
      this.#rules.push({ re: patternRegExp(p), exclude });
    }
    this.hasExceptions = this.#rules.some((r) => !r.exclude);
  }

  /** Rules from an ignore file's text. */
  static parse(text: string): IgnoreRules {
    return new IgnoreRules(text.split(/\r?\n/));
  }

  /** Whether the context path `rel` (`a/b`, no leading `/`) is excluded. */
  excludes(rel: string): boolean {
    if (!this.#rules.length || rel === "") return false;
    const parts = rel.split("/");
    let excluded = false;
    for (const r of this.#rules) {
      // a pattern matching the path or one of its parents
      let hit = false;
      for (let n = parts.length; n >= 1 && !hit; n--) hit = r.re.test(parts.slice(0, n).join("/"));
      if (hit) excluded = r.exclude;
    }
    return excluded;
  }
}
