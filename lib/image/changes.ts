/**
 * `--change` instructions of `commit` (and later `import`): Dockerfile-like lines applied to an image's runtime
 * config — CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD — as podman accepts
 * them. Pure.
 * @module
 */

import { UsageError } from "../errors.ts";
import type { ImageConfig } from "../oci/manifest.ts";

/** The runtime part of an image config. */
export type RuntimeConfig = NonNullable<ImageConfig["config"]>;

/** Splits `a=b "c d"=e f='g h'` into words, honouring double and single quotes and backslashes. */
export function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = "";
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = "";
      else if (ch === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === "\\" && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote) throw new UsageError(`unterminated quote in "${s}"`);
  if (has || cur) out.push(cur);
  return out;
}

/** A JSON array of strings (`["a","b"]`), or undefined when `s` is not one. */
function jsonArray(s: string): string[] | undefined {
  if (!s.trimStart().startsWith("[")) return undefined;
  try {
    const v = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch { /* shell form */ }
  return undefined;
}

/** `k=v` pairs, or the legacy `k v` form (one pair: the rest of the line is the value). */
function pairs(args: string, what: string): [string, string][] {
  const words = splitWords(args);
  if (!words.length) throw new UsageError(`${what} needs at least one argument`);
  if (!words[0].includes("=")) {
    const sp = args.trim().search(/\s/);
    if (sp < 0) throw new UsageError(`${what} ${args}: want KEY=VALUE`);
    return [[args.trim().slice(0, sp), args.trim().slice(sp).trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf("=");
    if (i <= 0) throw new UsageError(`${what} ${args}: want KEY=VALUE`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** Applies `changes` to a copy of `config` and returns it. Throws {@link UsageError} for a bad instruction. */
export function applyChanges(config: RuntimeConfig | undefined, changes: string[]): RuntimeConfig {
  const c: RuntimeConfig = structuredClone(config ?? {});
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(change);
    if (!m) throw new UsageError(`invalid change "${change}"`);
    const instr = m[1].toUpperCase();
    const args = (m[2] ?? "").trim();
    const need = () => {
      if (!args) throw new UsageError(`invalid change "${change}": ${instr} needs an argument`);
    };
    switch (instr) {
      case "CMD":
      case "ENTRYPOINT": {
        need();
        const v = jsonArray(args) ?? ["/bin/sh", "-c", args];
        if (instr === "CMD") c.Cmd = v;
        else c.Entrypoint = v;
        break;
      }
      case "ENV": {
        need();
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(args, "ENV")) {
          const i = env.findIndex((e) => e.split("=")[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case "LABEL": {
        need();
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of pairs(args, "LABEL")) c.Labels[k] = v;
        break;
      }
      case "EXPOSE": {
        need();
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of splitWords(args)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) {
            throw new UsageError(`EXPOSE: invalid port "${p}"`);
          }
          c.ExposedPorts[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        break;
      }
      case "VOLUME": {
        need();
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of jsonArray(args) ?? splitWords(args)) c.Volumes[v] = {};
        break;
      }
      case "USER":
        need();
        c.User = args;
        break;
      case "WORKDIR":
        need();
        c.WorkingDir = args.startsWith("/") || !c.WorkingDir
          ? args
          : `${c.WorkingDir.replace(/\/+$/, "")}/${args}`;
        break;
      case "STOPSIGNAL":
        need();
        c.StopSignal = args;
        break;
      case "ONBUILD":
        need();
        c.OnBuild = [...((c.OnBuild as string[] | undefined) ?? []), args];
        break;
      default:
        throw new UsageError(`invalid change "${change}": ${instr} is not a supported instruction`);
    }
  }
  return c;
}
