/**
 * The compiled template object: `compileTemplate(src)` parses once, `execute(data)` runs it.
 * @module
 */

import { executeTemplate } from "./exec.ts";
import { markLazy } from "./exec.ts";
import { type BuiltinFunc, BUILTINS } from "./funcs.ts";
import { type ParsedTemplate, parseTemplate } from "./parser.ts";
import { PODMAN_FUNCS } from "./podman_funcs.ts";

/** A function callable from a template; it receives evaluated arguments, its result is the value. */
// deno-lint-ignore no-explicit-any
export type TemplateFunction = (...args: any[]) => unknown;

/** Options of {@link compileTemplate}. */
export interface CompileOptions {
  /** Template name used in error messages (default `output`). */
  name?: string;
  /** Extra functions (they may replace predefined ones). */
  funcs?: Record<string, TemplateFunction>;
  /** Include podman's `json upper lower title join split truncate pad` (default true). */
  podmanFuncs?: boolean;
}

/** Options of {@link Template.execute}. */
export interface ExecuteOptions {
  /**
   * Field names whose plain-object values are Go maps (missing keys print `<no value>`, printing is
   * `map[k:v]`); default {@link PODMAN_MAP_FIELDS}. Objects can also be marked with `goMap()`.
   */
  mapFields?: Iterable<string>;
  /** Evaluation step budget (default 10,000,000). */
  maxSteps?: number;
  /** Output size budget in characters (default 64 Mi). */
  maxOutput?: number;
}

/** Fields that are maps in podman's inspect and list data (labels, annotations, port maps, options…). */
export const PODMAN_MAP_FIELDS: readonly string[] = [
  "Labels",
  "Annotations",
  "Ports",
  "Networks",
  "Options",
  "Sysctls",
  "ExposedPorts",
  "DriverOpts",
  "Volumes",
];

const lazyBuiltins = new Map<string, BuiltinFunc>(
  Object.entries(BUILTINS).map(([k, f]) => [k, k === "and" || k === "or" ? markLazy(f) : f]),
);

function wrap(fn: TemplateFunction): BuiltinFunc {
  return { min: 0, max: Infinity, call: (_c, a) => fn(...a) };
}

/** A parsed Go template. */
export class Template {
  /** Template name used in messages. */
  readonly name: string;
  /** The template text. */
  readonly source: string;
  /** @internal parse tree */
  readonly tree: ParsedTemplate;
  private funcs: Map<string, BuiltinFunc>;

  /** Use {@link compileTemplate}. */
  constructor(source: string, options: CompileOptions = {}) {
    this.name = options.name ?? "output";
    this.source = source;
    this.funcs = new Map(lazyBuiltins);
    if (options.podmanFuncs ?? true) {
      for (const [k, f] of Object.entries(PODMAN_FUNCS)) {
        this.funcs.set(k, f);
      }
    }
    for (const [k, f] of Object.entries(options.funcs ?? {})) this.funcs.set(k, wrap(f));
    this.tree = parseTemplate(source, this.name, (n) => this.funcs.has(n));
  }

  /**
   * Executes the template with `data` as dot and `$`. `funcs` may supply or replace implementations of
   * functions (names unknown at compile time are parse errors). Throws `TemplateError`.
   */
  execute(data: unknown, funcs?: Record<string, TemplateFunction>, options: ExecuteOptions = {}): string {
    let table = this.funcs;
    if (funcs && Object.keys(funcs).length > 0) {
      table = new Map(this.funcs);
      for (const [k, f] of Object.entries(funcs)) table.set(k, wrap(f));
    }
    return executeTemplate(this.tree, this.source, this.name, data, table, {
      mapFields: new Set(options.mapFields ?? PODMAN_MAP_FIELDS),
      maxSteps: options.maxSteps ?? 10_000_000,
      maxOutput: options.maxOutput ?? 64 * 1024 * 1024,
    });
  }
}

/** Parses a Go text/template; throws `TemplateError` (with line and column) on syntax errors. */
export function compileTemplate(src: string, options?: CompileOptions): Template {
  return new Template(src, options);
}
