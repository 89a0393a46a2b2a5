/**
 * Parsing of `WWW-Authenticate` challenges (RFC 7235) as registries send them:
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:x:pull"` or `Basic realm="…"`.
 * @module
 */

/** One authentication challenge. */
export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Parameters with lower-cased names (`realm`, `service`, `scope`, `error`…). */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Parses a `WWW-Authenticate` header value into its challenges. Throws an `Error` naming the problem when the
 * value is malformed (unterminated quote, parameter without a value, no scheme, Bearer without realm).
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const s = header;
  let i = 0;
  const out: Challenge[] = [];
  const bad = (why: string): never => {
    throw new Error(`malformed WWW-Authenticate header ${JSON.stringify(s.slice(0, 200))}: ${why}`);
  };
  const skipWs = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TOKEN.test(s[i])) i++;
    return s.slice(start, i);
  };
  let cur: Challenge | undefined;
  while (true) {
    skipWs();
    while (i < s.length && s[i] === ",") {
      i++;
      skipWs();
    }
    if (i >= s.length) break;
    const start = i;
    const name = token();
    if (name === "") bad(`unexpected character ${JSON.stringify(s[i])} at ${i}`);
    skipWs();
    if (s[i] === "=" && cur) {
      // auth-param (or token68 padding, which registries do not use)
      i++;
      skipWs();
      let value: string;
      if (s[i] === '"') {
        i++;
        value = "";
        while (true) {
          if (i >= s.length) bad("unterminated quoted string");
          const c = s[i++];
          if (c === "\\") {
            if (i >= s.length) bad("unterminated quoted string");
            value += s[i++];
          } else if (c === '"') break;
          else value += c;
        }
      } else {
        value = token();
        if (value === "") bad(`parameter "${name}" has no value`);
      }
      cur.params[name.toLowerCase()] = value;
      skipWs();
      if (i < s.length && s[i] !== ",") bad(`expected "," after parameter "${name}"`);
      continue;
    }
    if (s[i] === "=") bad(`parameter "${name}" before any scheme`);
    // a new challenge: scheme name
    i = start + name.length;
    cur = { scheme: name.toLowerCase(), params: {} };
    out.push(cur);
  }
  if (out.length === 0) bad("no challenge");
  for (const c of out) {
    if (c.scheme === "bearer" && !c.params.realm) bad("Bearer challenge without realm");
  }
  return out;
}
