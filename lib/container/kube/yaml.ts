/**
 * YAML for `kube` (scope "pods", issue 15) through the npm `yaml` package, loaded only when a kube command
 * runs (never on `run`/`exec`'s path). Parse errors become one line naming the document and the line.
 * @module
 */

import { PodError } from "../../errors.ts";

// deno-lint-ignore no-explicit-any
type YamlModule = any;
let mod: Promise<YamlModule> | undefined;

/** The `yaml` package (loaded once). */
function yaml(): Promise<YamlModule> {
  // an inline npm: specifier, not an import map entry: pod also runs without its deno.json (`--no-config`,
  // the bundle, any working directory), where a bare "yaml" would not resolve
  // deno-lint-ignore no-import-prefix
  mod ??= import("npm:yaml@2.9.1").then((m) => m.default ?? m, (e) => {
    mod = undefined;
    const first = String(e instanceof Error ? e.message : e).split("\n")[0];
    throw new PodError(`kube: loading the YAML reader (npm package yaml@2.9.1): ${first}`, {
      hint:
        "its first use needs the npm registry (or NPM_CONFIG_REGISTRY's mirror); the one-file build has it inside",
    });
  });
  return mod;
}

export type { YamlDoc } from "./yaml_plain.ts";
import type { YamlDoc } from "./yaml_plain.ts";

/**
 * Parses every document of `text` (empty ones are skipped). Invalid YAML: a PodError (125)
 * `<what>: document N, line L: <problem>`.
 */
export async function parseYamlDocuments(text: string, what: string): Promise<YamlDoc[]> {
  // pods5: the plain subset Kubernetes files are written in needs no npm package (~80-100 ms to load)
  const plain = (await import("./yaml_plain.ts")).parsePlainYaml(text);
  if (plain) return plain;
  const YAML = await yaml();
  const lineOf = (offset: number) => text.slice(0, Math.max(0, offset)).split("\n").length;
  // deno-lint-ignore no-explicit-any
  const docs: any[] = YAML.parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  const out: YamlDoc[] = [];
  for (const [i, d] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    const errs = d.errors ?? [];
    if (errs.length) {
      const e = errs[0];
      const line = e.linePos?.[0]?.line ?? lineOf(e.pos?.[0] ?? 0);
      const msg = String(e.message ?? e).split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      // pods2: bad input, so the library's code is USAGE (the CLI's line and exit code are unchanged)
      throw new PodError(`${what}: document ${i + 1}, line ${line}: ${msg}`, { code: "USAGE" });
    }
    let value: unknown;
    try {
      value = d.toJS({ maxAliasCount: 100 });
    } catch (e) {
      const line = lineOf(d.range?.[0] ?? 0);
      throw new PodError(`${what}: document ${i + 1}, line ${line}: ${e instanceof Error ? e.message : e}`, {
        code: "USAGE",
      });
    }
    if (value === null || value === undefined) continue;
    out.push({ index: i + 1, line: lineOf(d.contents?.range?.[0] ?? d.range?.[0] ?? 0), value });
  }
  return out;
}

/** Serializes documents as a YAML stream (`---` between them). */
export async function stringifyYamlDocuments(values: unknown[]): Promise<string> {
  const YAML = await yaml();
  return values.map((v) => YAML.stringify(v, { lineWidth: 0 })).join("---\n");
}
