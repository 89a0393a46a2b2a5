/**
 * Seeded fuzzing of the template engine: random templates (built from grammar pieces and random
 * characters) over random data must either render or throw `TemplateError` — nothing else — and
 * finish quickly (execution is bounded by the step/output budget).
 */
import assert from "node:assert/strict";
import {
  compileTemplate,
  goMap,
  renderTemplateRows,
  sprintf,
  TemplateError,
} from "../../lib/format/template/mod.ts";
import { alignColumns } from "../../lib/format/table.ts";

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "{{",
  "}}",
  "{{- ",
  " -}}",
  "{{/*",
  "*/}}",
  ".",
  ".A",
  ".B",
  ".C.D",
  ".List",
  ".Map",
  ".Map.k",
  "$",
  "$x",
  "$i",
  ":=",
  "=",
  ",",
  "|",
  "(",
  ")",
  " ",
  "\n",
  "\t",
  "if",
  "else",
  "end",
  "range",
  "with",
  "break",
  "continue",
  "define",
  "template",
  "block",
  `"x"`,
  `"a b"`,
  "`raw`",
  "'c'",
  "0",
  "1",
  "-1",
  "3",
  "1.5",
  "1e3",
  "0x1f",
  "true",
  "nil",
  "and",
  "or",
  "not",
  "len",
  "index",
  "slice",
  "print",
  "printf",
  "println",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "html",
  "js",
  "urlquery",
  "json",
  "upper",
  "lower",
  "title",
  "join",
  "split",
  "truncate",
  "pad",
  `"%s"`,
  `"%d %q"`,
  `"%5.2f"`,
  `"%v%x%!"`,
  "text",
  "table ",
  "\\t",
  "\\n",
  "é",
  "\u0000",
  "}",
  "{",
  "-",
  "'",
  '"',
  "`",
];

const GOOD = [
  "{{range $i, $e := .List}}{{$i}}:{{$e}} {{end}}",
  "{{if .A}}{{.A}}{{else if .B}}b{{else}}c{{end}}",
  "{{with .C}}{{.D}}{{end}}",
  "{{range .Map}}{{.}}{{end}}",
  `{{printf "%v %q" .List .A}}`,
  "{{range 1000000000}}{{.}}{{end}}",
  "{{range .List}}{{range $.List}}{{range $.List}}{{.}}{{end}}{{end}}{{end}}",
  `{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}`,
  "{{json .}}",
  `{{index .Map "k"}}`,
  `{{slice .A 1 2}}`,
];

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 7 : 10));
  switch (k) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return r() < 0.5;
    case 3:
      return Math.floor(r() * 2000) - 1000;
    case 4:
      return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 5:
    case 6:
      return ["", "a", "héllo", "x\ny", "<&>", "\u0000\u2028", "%d", "{{.}}"][Math.floor(r() * 8)];
    case 7:
      return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    case 8: {
      const m: Record<string, unknown> = {};
      for (let i = 0; i < r() * 4; i++) {
        m[["k", "A", "B", "x y", ""][Math.floor(r() * 5)]] = randomValue(r, depth + 1);
      }
      return goMap(m);
    }
    default:
      return {
        A: randomValue(r, depth + 1),
        B: randomValue(r, depth + 1),
        C: { D: randomValue(r, depth + 1) },
        List: randomValue(r, depth + 1),
        Map: randomValue(r, depth + 1),
      };
  }
}

function randomTemplate(r: () => number): string {
  if (r() < 0.15) return GOOD[Math.floor(r() * GOOD.length)];
  let s = "";
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    if (r() < 0.1) s += String.fromCharCode(Math.floor(r() * 128));
    else s += PIECES[Math.floor(r() * PIECES.length)];
  }
  return s;
}

const OPTS = { maxSteps: 20_000, maxOutput: 200_000 };

Deno.test("template fuzz: only TemplateError, bounded time", () => {
  const r = rng(0x5eed);
  const deadline = performance.now() + 2000;
  let runs = 0;
  let parsed = 0;
  while (performance.now() < deadline && runs < 200_000) {
    runs++;
    const src = randomTemplate(r);
    const data = randomValue(r, 0);
    const t0 = performance.now();
    try {
      const t = compileTemplate(src);
      parsed++;
      t.execute(data, undefined, OPTS);
    } catch (e) {
      if (!(e instanceof TemplateError)) {
        throw new Error(`non-TemplateError for ${JSON.stringify(src)}: ${e}`);
      }
      assert.match(e.message, /^template: output:/);
    }
    const took = performance.now() - t0;
    assert.ok(took < 1000, `${JSON.stringify(src)} took ${took}ms`);
  }
  assert.ok(runs > 100, `only ${runs} runs`);
  assert.ok(parsed > 10, `only ${parsed} templates parsed`);
});

Deno.test("template fuzz: renderTemplateRows and sprintf never throw anything else", () => {
  const r = rng(42);
  const deadline = performance.now() + 600;
  while (performance.now() < deadline) {
    const src = randomTemplate(r);
    const rows = Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, 0));
    try {
      renderTemplateRows(src, rows, OPTS);
    } catch (e) {
      if (!(e instanceof TemplateError)) {
        throw new Error(`non-TemplateError for ${JSON.stringify(src)}: ${e}`);
      }
    }
    const fmt = Array.from(
      { length: 6 },
      () =>
        [
          "%",
          "d",
          "s",
          "q",
          "v",
          "x",
          "-",
          "0",
          "5",
          ".",
          "*",
          "[",
          "]",
          "1",
          "a",
          "#",
          "+",
          " ",
          "é",
        ][Math.floor(r() * 19)],
    ).join("");
    sprintf(fmt, [randomValue(r, 0), randomValue(r, 0)]);
    alignColumns(src.replaceAll("{", "\t"));
  }
});
