/**
 * The layer table of docs/architecture.md as code: which folder of lib/ may import which. Parses every static
 * import and literal dynamic `import("…")` of lib/, mod.ts and cli.ts and exits 1, one line per violation, on
 * an import the table does not allow or on any import cycle.
 *
 *     deno run -A scripts/check_layers.ts           # check
 *     deno run -A scripts/check_layers.ts --table   # print the table (markdown) for the docs
 * @module
 */

import { findImports } from "./layers/imports.ts";
import { checkImport, cycleThrough, cyclicComponents, type Graph, type LayerRule } from "./layers/graph.ts";

/** Files every layer but oci and format may import; they import nothing in lib themselves. */
const LEAVES = ["errors.ts", "log.ts", "version.ts", "proc.ts", "gc_valve.ts"];

/** The table: the one place that says who may import whom. A file may always import its own layer. */
export const LAYERS: LayerRule[] = [
  { layer: "errors.ts", match: ["lib/errors.ts"], may: [], note: "PodError and exit codes (leaf)" },
  { layer: "log.ts", match: ["lib/log.ts"], may: [], note: "debug/warn logging (leaf)" },
  { layer: "version.ts", match: ["lib/version.ts"], may: [], note: "the version (leaf)" },
  { layer: "proc.ts", match: ["lib/proc.ts"], may: [], note: "is a pid alive, its start time (leaf)" },
  { layer: "gc_valve.ts", match: ["lib/gc_valve.ts"], may: [], note: "forced GC while streaming (leaf)" },
  { layer: "oci", match: ["lib/oci/"], may: ["errors.ts"], note: "pure OCI types and parsers, no I/O" },
  { layer: "format", match: ["lib/format/"], may: [], note: "Go templates, tables, units; pure" },
  { layer: "registry", match: ["lib/registry/"], may: ["oci", ...LEAVES], note: "the network" },
  { layer: "store", match: ["lib/store/"], may: ["oci", ...LEAVES], note: "the disk" },
  {
    layer: "unpack",
    match: ["lib/unpack/"],
    may: ["oci", "lib/ns/libc.ts", "lib/ns/fs.ts", ...LEAVES],
    note: "the security boundary; of ns only the fs calls (fs.ts, libc.ts's SysError)",
  },
  {
    layer: "ns",
    match: ["lib/ns/"],
    may: ["lib/unpack/contain.ts", ...LEAVES],
    note: "the only FFI; of unpack only the containment resolver (a leaf)",
  },
  {
    layer: "stage2.ts",
    match: ["lib/stage2.ts"],
    may: ["ns", "unpack", "store", ...LEAVES],
    note: "stage 2",
  },
  {
    layer: "image",
    match: ["lib/image/"],
    may: ["oci", "registry", "store", "unpack", "ns", ...LEAVES],
    note: "image use cases",
  },
  {
    layer: "volume",
    match: ["lib/volume/"],
    // ns: only lib/ns/userns.ts, to work on subordinate-id-owned volume data as the rootless user's namespace
    may: ["store", "unpack", "oci", "format", "lib/ns/userns.ts", ...LEAVES],
    note: "volume use cases",
  },
  {
    layer: "network",
    match: ["lib/network/"],
    may: ["oci", "store", "ns", "format", ...LEAVES],
    note: "networks and container networking: configs, subnets, slirp4netns/pasta/netavark, ports",
  },
  {
    layer: "container",
    match: ["lib/container/"],
    may: ["oci", "store", "ns", "unpack", "image", "format", "volume", "network", ...LEAVES],
    note: "container use cases",
  },
  {
    layer: "build",
    match: ["lib/build/"],
    may: ["oci", "registry", "store", "ns", "unpack", "image", "container", ...LEAVES],
    note: "`pod build`: Containerfiles, contexts, steps, the layer cache",
  },
  {
    layer: "api.ts",
    match: ["lib/api.ts", "lib/api_types.ts"],
    may: ["image", "container", "store", "oci", "format", "network", ...LEAVES],
    note: "the library's `Pod` class and its data types",
  },
  {
    layer: "cli",
    match: ["lib/cli/", "cli.ts"],
    may: [
      "oci",
      "format",
      "registry",
      "store",
      "unpack",
      "ns",
      "stage2.ts",
      "image",
      "container",
      "volume",
      "network",
      "build",
      "api.ts",
      ...LEAVES,
    ],
    note: "argv, commands, output; everything",
  },
  {
    layer: "mod.ts",
    match: ["mod.ts"],
    may: ["api.ts", ...LEAVES],
    mayTypes: ["oci", "registry", "store", "unpack", "ns", "image", "container", "format", "network"],
    note: "the library's exports: the api and public types",
  },
];

/** The table as markdown, for docs/architecture.md. */
export function tableMarkdown(rules: LayerRule[] = LAYERS): string {
  const leaves = new Set(LEAVES);
  const rows = rules.map((r) => {
    const may = r.may.filter((m) => !leaves.has(m));
    const hasLeaves = LEAVES.every((l) => r.may.includes(l));
    const parts = [...may, ...(hasLeaves ? ["leaves"] : r.may.filter((m) => leaves.has(m)))];
    if (r.mayTypes?.length) parts.push(`types of ${r.mayTypes.join(", ")}`);
    return [r.match.map((m) => `\`${m}\``).join(", "), parts.join(", ") || "nothing in lib", r.note ?? ""];
  });
  const head = ["files", "may import", "what"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    `leaves: ${LEAVES.join(", ")}. A file may always import files of its own layer. No import cycles.`,
  ].join("\n");
}

/** Repo-relative paths of the checked files: lib/**\/*.ts, mod.ts, cli.ts. */
function sourceFiles(root: string): string[] {
  const out = ["mod.ts", "cli.ts"];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(`${root}/${dir}`)) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory) walk(rel);
      else if (e.isFile && /\.tsx?$/.test(e.name)) out.push(rel);
    }
  };
  walk("lib");
  return out.sort();
}

/** `spec` imported by repo-relative `from`, as a repo-relative path; null for npm:, node:, URLs. */
export function resolveSpecifier(from: string, spec: string): string | null {
  if (!spec.startsWith("./") && !spec.startsWith("../")) return null;
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

/** Violations (one line each) of the tree at `root`: forbidden imports, then cycles. */
export function checkTree(root: string, rules: LayerRule[] = LAYERS): string[] {
  const problems: string[] = [];
  const graph: Graph = new Map();
  const checked = sourceFiles(root);
  const inTree = new Set(checked);
  for (const file of checked) {
    const edges = new Set<string>();
    graph.set(file, edges);
    for (const imp of findImports(Deno.readTextFileSync(`${root}/${file}`))) {
      const target = resolveSpecifier(file, imp.specifier);
      if (target === null) continue;
      if (!target.startsWith("lib/") && !inTree.has(target)) continue; // deno.json and the like
      edges.add(target);
      const why = checkImport(rules, file, target, imp.typeOnly);
      if (why) {
        problems.push(`${file}:${imp.line} → ${target}: ${why}${imp.dynamic ? " (dynamic import)" : ""}`);
      }
    }
  }
  for (const comp of cyclicComponents(graph)) {
    problems.push(`import cycle: ${cycleThrough(graph, comp).join(" → ")}`);
  }
  return problems;
}

if (import.meta.main) {
  if (Deno.args.includes("--table")) {
    console.log(tableMarkdown());
    Deno.exit(0);
  }
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const problems = checkTree(root);
  for (const p of problems) console.log(p);
  if (problems.length) {
    console.error(`check_layers: ${problems.length} problem(s)`);
    Deno.exit(1);
  }
  console.log("check_layers: the imports follow the layer table, no cycles");
}
