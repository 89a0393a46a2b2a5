/**
 * The container process from the image config and the command line: ENTRYPOINT/CMD/`--entrypoint`/args,
 * the environment (`-e`, `--env-file`, image Env, defaults) and `-u` parsing. Pure except for reading an
 * env file.
 * @module
 */

import { PodError } from "../errors.ts";

/** podman's default PATH. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Parses `--entrypoint`: a JSON array (`["/bin/sh","-c"]`) or one word (not split), `""` clears it.
 */
export function parseEntrypoint(value: string): string[] {
  if (value === "") return [];
  const t = value.trim();
  if (t.startsWith("[")) {
    try {
      const v = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
    } catch { /* not JSON: one word */ }
  }
  return [value];
}

/** OCI/docker semantics of ENTRYPOINT and CMD (`entrypointFlag`: `--entrypoint` as written, or as a list). */
export function mergeCommand(
  image: { Entrypoint?: string[] | null; Cmd?: string[] | null },
  entrypointFlag: string | string[] | undefined,
  args: string[],
): { entrypoint: string[]; cmd: string[]; args: string[] } {
  const overridden = entrypointFlag !== undefined;
  const entrypoint = typeof entrypointFlag === "string"
    ? parseEntrypoint(entrypointFlag)
    : [...(entrypointFlag ?? image.Entrypoint ?? [])];
  // a new entrypoint drops the image's CMD (docker/podman)
  const cmd = args.length ? [...args] : overridden ? [] : [...(image.Cmd ?? [])];
  const all = [...entrypoint, ...cmd];
  if (all.length === 0) {
    throw new PodError("no command or entrypoint provided, and no CMD or ENTRYPOINT from image");
  }
  return { entrypoint, cmd, args: all };
}

/** An ordered environment: later values replace earlier ones, keeping the first position. */
export class EnvList {
  #map = new Map<string, string>();

  /** Sets one `KEY=value` (a value without `=` sets an empty value). */
  set(entry: string): void {
    const eq = entry.indexOf("=");
    const k = eq < 0 ? entry : entry.slice(0, eq);
    this.#map.set(k, eq < 0 ? "" : entry.slice(eq + 1));
  }

  /** Sets several entries. */
  setAll(entries: Iterable<string>): void {
    for (const e of entries) this.set(e);
  }

  /** True when the key is set. */
  has(key: string): boolean {
    return this.#map.has(key);
  }

  /** The value of a key. */
  get(key: string): string | undefined {
    return this.#map.get(key);
  }

  /** `KEY=value` lines in order. */
  toArray(): string[] {
    return [...this.#map].map(([k, v]) => `${k}=${v}`);
  }
}

/**
 * Expands one `-e` value: `K=V` as is; `K` takes the host's value (dropped when unset); `PREFIX*` takes every
 * host variable starting with PREFIX.
 */
export function expandEnvArg(arg: string, hostEnv: Record<string, string>): string[] {
  const eq = arg.indexOf("=");
  if (eq === 0) throw new PodError(`invalid environment variable: "${arg}"`);
  if (eq > 0) {
    const k = arg.slice(0, eq);
    if (/\s/.test(k)) throw new PodError(`invalid environment variable: "${arg}"`);
    return [arg];
  }
  if (/\s/.test(arg)) throw new PodError(`invalid environment variable: "${arg}"`);
  if (arg.endsWith("*")) {
    const prefix = arg.slice(0, -1);
    return Object.entries(hostEnv).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => `${k}=${v}`);
  }
  return arg in hostEnv ? [`${arg}=${hostEnv[arg]}`] : [];
}

/** Parses the text of an `--env-file`: `K=V` lines, `K` (host value), blank lines and `#` comments skipped. */
export function parseEnvFileText(text: string, hostEnv: Record<string, string>, file = "env file"): string[] {
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "").replace(/^[ \t]+/, "");
    if (line === "" || line.startsWith("#")) continue;
    try {
      out.push(...expandEnvArg(line, hostEnv));
    } catch {
      throw new PodError(`invalid environment variable in ${file}: "${line}"`);
    }
  }
  return out;
}

/** Reads and parses `--env-file` files. */
export async function readEnvFiles(files: string[], hostEnv: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(f);
    } catch (e) {
      throw new PodError(`open ${f}: ${e instanceof Deno.errors.NotFound ? "no such file or directory" : e}`);
    }
    out.push(...parseEnvFileText(text, hostEnv, f));
  }
  return out;
}

/**
 * The container environment, in podman's order: PATH default, image Env, `container=podman`, HOSTNAME,
 * TERM (with a terminal), `--env-file`, `-e`. HOME is added at start from the user's passwd entry.
 */
export function buildEnv(opts: {
  imageEnv?: string[] | null;
  envFile: string[];
  env: string[];
  hostname: string;
  terminal: boolean;
}): string[] {
  const e = new EnvList();
  e.set(`PATH=${DEFAULT_PATH}`);
  e.setAll(opts.imageEnv ?? []);
  e.set("container=podman");
  if (opts.terminal) e.set("TERM=xterm");
  e.setAll(opts.envFile);
  e.setAll(opts.env);
  if (!e.has("HOSTNAME")) e.set(`HOSTNAME=${opts.hostname}`);
  return e.toArray();
}

/** `-u` split into its user and optional group parts. */
export function splitUserSpec(spec: string): { user: string; group?: string } {
  if (spec === "") return { user: "" };
  const colon = spec.indexOf(":");
  if (colon < 0) return { user: spec };
  return { user: spec.slice(0, colon), group: spec.slice(colon + 1) };
}

/** Parses `--label k=v` / `--label k` values into a map. */
export function parseLabels(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const k = eq < 0 ? v : v.slice(0, eq);
    if (!k) throw new PodError(`invalid label "${v}": empty key`);
    out[k] = eq < 0 ? "" : v.slice(eq + 1);
  }
  return out;
}
