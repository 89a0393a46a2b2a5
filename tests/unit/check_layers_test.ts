import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { findImports } from "../../scripts/layers/imports.ts";
import {
  checkImport,
  cycleThrough,
  cyclicComponents,
  type Graph,
  layerOf,
  type LayerRule,
} from "../../scripts/layers/graph.ts";
import { checkTree, LAYERS, resolveSpecifier, tableMarkdown } from "../../scripts/check_layers.ts";

const graph = (edges: Record<string, string[]>): Graph =>
  new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

Deno.test("findImports: static, re-exports, side effects, literal dynamic; type-only marked", () => {
  const src = `
import { a } from "./a.ts";
import type { B } from "./b.ts";
import {
  type C,
  type D,
} from "./cd.ts";
import { type E, f } from "./ef.ts";
import * as g from "./g.ts";
import "./side.ts";
export { h } from "./h.ts";
export type { I } from "./i.ts";
export * from "./all.ts";
export const x = 1;
export { x as y };
const m = await import("./dyn.ts");
type T = typeof import("./typed.ts");
const meta = import.meta.url;
`;
  assertEquals(
    findImports(src).map((i) => [i.specifier, i.dynamic, i.typeOnly]),
    [
      ["./a.ts", false, false],
      ["./b.ts", false, true],
      ["./cd.ts", false, true],
      ["./ef.ts", false, false],
      ["./g.ts", false, false],
      ["./side.ts", false, false],
      ["./h.ts", false, false],
      ["./i.ts", false, true],
      ["./all.ts", false, false],
      ["./dyn.ts", true, false],
      ["./typed.ts", true, true],
    ],
  );
  assertEquals(findImports(src)[2].line, 7);
});

Deno.test("findImports: nothing from comments, strings, templates or regular expressions", () => {
  const src = `
/**
 * import { x } from "./doc.ts";
 * await import("./doc2.ts");
 */
// import { y } from "./line.ts";
const s = 'import { z } from "./string.ts"';
const t = \`import("./template.ts") \${ n / 2 } import { w } from "./t2.ts"\`;
const r = /import\\("\\.\\/regex.ts"\\)/;
const q = a / b; const spec = "./x.ts";
const dyn = import(spec);
import { real } from "./real.ts";
`;
  assertEquals(findImports(src).map((i) => i.specifier), ["./real.ts"]);
});

Deno.test("findImports: an import inside a template expression is found", () => {
  const src = 'const t = `${(await import("./in_template.ts")).x}`;\nimport { a } from "./after.ts";';
  assertEquals(findImports(src).map((i) => i.specifier), ["./in_template.ts", "./after.ts"]);
});

Deno.test("resolveSpecifier: relative paths against the importer; npm:, node:, URLs ignored", () => {
  assertEquals(resolveSpecifier("lib/container/create.ts", "../store/paths.ts"), "lib/store/paths.ts");
  assertEquals(resolveSpecifier("lib/cli/commands/rm.ts", "../../errors.ts"), "lib/errors.ts");
  assertEquals(resolveSpecifier("mod.ts", "./lib/api.ts"), "lib/api.ts");
  assertEquals(resolveSpecifier("lib/a.ts", "node:fs"), null);
  assertEquals(resolveSpecifier("lib/a.ts", "npm:x@1"), null);
});

const RULES: LayerRule[] = [
  { layer: "errors.ts", match: ["lib/errors.ts"], may: [] },
  { layer: "oci", match: ["lib/oci/"], may: ["errors.ts"] },
  { layer: "ns", match: ["lib/ns/"], may: ["errors.ts", "lib/unpack/contain.ts"] },
  { layer: "unpack", match: ["lib/unpack/"], may: ["oci", "lib/ns/libc_fs.ts"] },
  { layer: "stage2.ts", match: ["lib/stage2.ts"], may: ["ns"] },
  { layer: "mod.ts", match: ["mod.ts"], may: ["errors.ts"], mayTypes: ["oci"] },
];

Deno.test("layerOf: a file rule beats its folder; unknown files have none", () => {
  assertEquals(layerOf(RULES, "lib/oci/digest.ts")?.layer, "oci");
  assertEquals(layerOf(RULES, "lib/stage2.ts")?.layer, "stage2.ts");
  assertEquals(layerOf(RULES, "lib/errors.ts")?.layer, "errors.ts");
  assertEquals(layerOf(RULES, "lib/nowhere/x.ts"), undefined);
  const nested: LayerRule[] = [...RULES, { layer: "ns-fs", match: ["lib/ns/libc_fs.ts"], may: [] }];
  assertEquals(layerOf(nested, "lib/ns/libc_fs.ts")?.layer, "ns-fs");
});

Deno.test("checkImport: own folder, allowed layers and files pass; upward and unlisted imports fail", () => {
  assertEquals(checkImport(RULES, "lib/oci/a.ts", "lib/oci/b.ts", false), null);
  assertEquals(checkImport(RULES, "lib/oci/a.ts", "lib/errors.ts", false), null);
  assertEquals(checkImport(RULES, "lib/unpack/apply.ts", "lib/ns/libc_fs.ts", false), null);
  assertEquals(checkImport(RULES, "lib/ns/mounts.ts", "lib/unpack/contain.ts", false), null);
  assertEquals(checkImport(RULES, "lib/stage2.ts", "lib/ns/mounts.ts", false), null);
  assertEquals(
    checkImport(RULES, "lib/unpack/apply.ts", "lib/ns/mounts.ts", false),
    "unpack may not import ns",
  );
  assertEquals(
    checkImport(RULES, "lib/ns/mounts.ts", "lib/unpack/tar.ts", false),
    "ns may not import unpack",
  );
  assertEquals(checkImport(RULES, "lib/oci/a.ts", "lib/stage2.ts", false), "oci may not import stage2.ts");
  assert(checkImport(RULES, "lib/oci/a.ts", "lib/nowhere/x.ts", false)?.includes("no layer"));
  assert(checkImport(RULES, "lib/nowhere/x.ts", "lib/oci/a.ts", false)?.includes("no layer"));
});

Deno.test("checkImport: mayTypes admits only type-only imports", () => {
  assertEquals(checkImport(RULES, "mod.ts", "lib/oci/manifest.ts", true), null);
  assertEquals(checkImport(RULES, "mod.ts", "lib/oci/manifest.ts", false), "mod.ts may not import oci");
  assertEquals(checkImport(RULES, "mod.ts", "lib/ns/x.ts", true), "mod.ts may not import ns");
});

Deno.test("cyclicComponents: none in a DAG", () => {
  assertEquals(cyclicComponents(graph({ a: ["b", "c"], b: ["c"], c: [] })), []);
});

Deno.test("cyclicComponents and cycleThrough: two-file, three-file and self cycles, each reported once", () => {
  const g = graph({
    a: ["b"],
    b: ["a", "c"],
    c: ["d"],
    d: ["e"],
    e: ["c", "f"],
    f: [],
    s: ["s"],
  });
  const comps = cyclicComponents(g).sort((x, y) => x[0].localeCompare(y[0]));
  assertEquals(comps, [["a", "b"], ["c", "d", "e"], ["s"]]);
  assertEquals(cycleThrough(g, comps[0]), ["a", "b", "a"]);
  assertEquals(cycleThrough(g, comps[1]), ["c", "d", "e", "c"]);
  assertEquals(cycleThrough(g, comps[2]), ["s", "s"]);
});

Deno.test("cycleThrough: the shortest cycle of a component with several", () => {
  const g = graph({ a: ["b", "x"], b: ["c"], c: ["a"], x: ["a"] });
  assertEquals(cycleThrough(g, cyclicComponents(g)[0]), ["a", "x", "a"]);
});

Deno.test("cyclicComponents: a long chain does not overflow the stack", () => {
  const edges: Record<string, string[]> = {};
  for (let i = 0; i < 20000; i++) edges[`n${i}`] = [`n${i + 1}`];
  edges.n20000 = ["n0"];
  assertEquals(cyclicComponents(graph(edges))[0].length, 20001);
});

Deno.test("checkTree: reports an upward import and a cycle with file and line", async () => {
  const root = await Deno.makeTempDir({ prefix: "pod-layers-" });
  try {
    await Deno.mkdir(`${root}/lib/oci`, { recursive: true });
    await Deno.mkdir(`${root}/lib/store`, { recursive: true });
    await Deno.writeTextFile(`${root}/mod.ts`, 'export type { X } from "./lib/oci/a.ts";\n');
    await Deno.writeTextFile(`${root}/cli.ts`, "");
    await Deno.writeTextFile(
      `${root}/lib/oci/a.ts`,
      '\nimport { s } from "../store/s.ts";\nexport type X = 1;\n',
    );
    await Deno.writeTextFile(`${root}/lib/store/s.ts`, 'import { t } from "./t.ts";\nexport const s = t;\n');
    await Deno.writeTextFile(`${root}/lib/store/t.ts`, 'export const t = (await import("./s.ts")).s;\n');
    assertEquals(checkTree(root), [
      "lib/oci/a.ts:2 → lib/store/s.ts: oci may not import store",
      "import cycle: lib/store/s.ts → lib/store/t.ts → lib/store/s.ts",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the repository has no import cycles, and every file belongs to a layer", () => {
  const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
  const problems = checkTree(root).filter((p) => p.startsWith("import cycle") || p.includes("no layer"));
  assertEquals(problems, []);
});

Deno.test("tableMarkdown: one row per layer", () => {
  const table = tableMarkdown();
  for (const r of LAYERS) assert(table.includes(`\`${r.match[0]}\``), r.layer);
});
