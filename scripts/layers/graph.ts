/**
 * The checks of scripts/check_layers.ts on a module graph: which layer a file belongs to, whether one file may
 * import another under a layer table, and the import cycles (strongly connected components) of the graph.
 * @module
 */

/** One row of the layer table: files matching `match` may import files of the layers in `may`. */
export interface LayerRule {
  /** The layer's name as the table prints it (`store`, `errors.ts`, `cli`). */
  layer: string;
  /** Path patterns of its files: `lib/store/` (a folder, recursively) or `lib/errors.ts` (one file). */
  match: string[];
  /** Layers (by name) or single files (`lib/ns/libc_fs.ts`) its files may import. */
  may: string[];
  /** Layers or files it may import only with `import type`/`export type` (public types). */
  mayTypes?: string[];
  /** What the row means, for `--table`. */
  note?: string;
}

function matches(pattern: string, file: string): boolean {
  return pattern.endsWith("/") ? file.startsWith(pattern) : file === pattern;
}

/** The rule whose pattern matches `file` most specifically (a file beats its folder), or undefined. */
export function layerOf(rules: LayerRule[], file: string): LayerRule | undefined {
  let best: LayerRule | undefined;
  let bestLen = -1;
  for (const rule of rules) {
    for (const p of rule.match) {
      if (matches(p, file) && p.length > bestLen) {
        best = rule;
        bestLen = p.length;
      }
    }
  }
  return best;
}

/** Whether an entry of a `may` list (a layer name or a file path) admits `target`. */
function admits(entry: string, target: string, targetLayer: LayerRule | undefined): boolean {
  if (entry.includes("/")) return matches(entry, target);
  return targetLayer?.layer === entry;
}

/**
 * Why `from` may not import `to` (both repo-relative paths), or null when it may. A file may always import its
 * own layer; a file of no layer, or a target of no layer outside it, is reported too so the table stays complete.
 */
export function checkImport(
  rules: LayerRule[],
  from: string,
  to: string,
  typeOnly: boolean,
): string | null {
  const src = layerOf(rules, from);
  const dst = layerOf(rules, to);
  if (!src) return `${from} belongs to no layer of the table`;
  if (!dst) return `${to} belongs to no layer of the table`;
  if (src === dst) return null;
  if (src.may.some((e) => admits(e, to, dst))) return null;
  if (typeOnly && (src.mayTypes ?? []).some((e) => admits(e, to, dst))) return null;
  return `${src.layer} may not import ${dst.layer}`;
}

/** A directed graph: file → files it imports. */
export type Graph = Map<string, Set<string>>;

/** The strongly connected components of `graph` that hold a cycle (two or more files, or a file importing itself). */
export function cyclicComponents(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;

  // iterative Tarjan, so deep graphs cannot overflow the call stack
  const nodes = [...new Set([...graph.keys(), ...[...graph.values()].flatMap((s) => [...s])])].sort();
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; edges: string[]; i: number }[] = [];
    const enter = (n: string) => {
      index.set(n, counter);
      low.set(n, counter);
      counter++;
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, edges: [...(graph.get(n) ?? [])].sort(), i: 0 });
    };
    enter(root);
    while (work.length) {
      const frame = work[work.length - 1];
      if (frame.i < frame.edges.length) {
        const next = frame.edges[frame.i++];
        if (!index.has(next)) enter(next);
        else if (onStack.has(next)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(next)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const comp: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          comp.push(n);
        } while (n !== frame.node);
        const selfLoop = comp.length === 1 && (graph.get(comp[0])?.has(comp[0]) ?? false);
        if (comp.length > 1 || selfLoop) out.push(comp.sort());
      }
    }
  }
  return out;
}

/**
 * One shortest cycle through the first file of a cyclic component, as a path that starts and ends there
 * (`a → b → a`), found by breadth-first search inside the component.
 */
export function cycleThrough(graph: Graph, component: string[]): string[] {
  const inside = new Set(component);
  const start = component[0];
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const n = queue.shift()!;
    for (const next of [...(graph.get(n) ?? [])].sort()) {
      if (!inside.has(next)) continue;
      if (next === start) {
        return [start, ...pathFrom(prev, start, n), start];
      }
      if (!prev.has(next) && next !== start) {
        prev.set(next, n);
        queue.push(next);
      }
    }
  }
  return [start];
}

function pathFrom(prev: Map<string, string>, start: string, end: string): string[] {
  const path: string[] = [];
  for (let at = end; at !== start; at = prev.get(at)!) path.unshift(at);
  return path;
}
