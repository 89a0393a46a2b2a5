/**
 * Instructions that change only the image config: ENV LABEL WORKDIR USER EXPOSE VOLUME ENTRYPOINT CMD SHELL
 * STOPSIGNAL HEALTHCHECK ONBUILD MAINTAINER, with CMD/ENTRYPOINT's shell and exec forms and their interplay as
 * Docker documents it (an ENTRYPOINT resets a CMD inherited from the base). Pure.
 * @module
 */

import type { ImageConfig } from "../oci/manifest.ts";
import { type Instruction, jsonForm } from "./containerfile/parser.ts";
import { keyValues, type Lookup, processWord, processWords } from "./containerfile/vars.ts";

/** The runtime part of an image config. */
export type RuntimeConfig = NonNullable<ImageConfig["config"]>;

/** What a config step needs besides the instruction. */
export interface ConfigContext {
  /** Variable lookup (ARG and ENV in scope). */
  lookup: Lookup;
  /** Escape character. */
  escape: string;
  /** The shell of shell-form commands (SHELL, default `/bin/sh -c`). */
  shell: string[];
  /** Whether CMD was set in this stage (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

/** A config step's invalid argument. */
export class ConfigError extends Error {}

const DURATION = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/;
const UNIT: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`30s`, `1m30s`) in nanoseconds. */
export function parseDuration(s: string): number {
  let total = 0;
  let rest = s;
  if (!rest) throw new ConfigError(`invalid duration ""`);
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/.exec(rest);
    if (!m) throw new ConfigError(`invalid duration "${s}"`);
    total += Number(m[1]) * UNIT[m[2]];
    rest = rest.slice(m[0].length);
  }
  if (!DURATION.test(s) && total === 0) throw new ConfigError(`invalid duration "${s}"`);
  return Math.round(total);
}

/** Applies `ins` to a copy of `c`; returns it and the shell (SHELL changes it). */
export function applyConfigStep(
  ins: Instruction,
  config: RuntimeConfig,
  x: ConfigContext,
): { config: RuntimeConfig; shell: string[]; author?: string } {
  const c: RuntimeConfig = structuredClone(config);
  const word = (s: string) => processWord(s, x.lookup, x.escape);
  const command = () => ins.json ?? [...x.shell, ins.args];
  let shell = x.shell;
  let author: string | undefined;
  switch (ins.cmd) {
    case "ENV": {
      const env = [...(c.Env ?? [])];
      for (const [k, v] of keyValues(ins.args, x.lookup, x.escape)) {
        if (v === undefined) throw new ConfigError(`ENV ${k}: want KEY=VALUE`);
        const i = env.findIndex((e) => e.split("=")[0] === k);
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      c.Env = env;
      break;
    }
    case "LABEL": {
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of keyValues(ins.args, x.lookup, x.escape)) c.Labels[k] = v ?? "";
      break;
    }
    case "WORKDIR": {
      const w = word(ins.args);
      c.WorkingDir = w.startsWith("/") ? w : `${(c.WorkingDir || "/").replace(/\/+$/, "")}/${w}`;
      break;
    }
    case "USER":
      c.User = word(ins.args);
      break;
    case "EXPOSE": {
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of processWords(ins.args, x.lookup, x.escape)) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new ConfigError(`EXPOSE: invalid port "${p}"`);
        c.ExposedPorts[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      break;
    }
    case "VOLUME": {
      c.Volumes = { ...(c.Volumes ?? {}) };
      const vols = ins.json ?? processWords(ins.args, x.lookup, x.escape);
      for (const v of vols) {
        if (!v.trim()) throw new ConfigError("VOLUME specified can not be an empty string");
        c.Volumes[v] = {};
      }
      break;
    }
    case "CMD":
      c.Cmd = ins.args === "" ? null : command();
      break;
    case "ENTRYPOINT":
      c.Entrypoint = ins.args === "" ? null : command();
      if (!x.cmdSet) c.Cmd = null;
      break;
    case "SHELL":
      shell = ins.json!;
      break;
    case "STOPSIGNAL":
      c.StopSignal = word(ins.args);
      break;
    case "MAINTAINER":
      author = word(ins.args);
      break;
    case "ONBUILD":
      c.OnBuild = [...((c.OnBuild as string[] | undefined) ?? []), ins.args];
      break;
    case "HEALTHCHECK": {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(ins.args)!;
      if (m[1].toUpperCase() === "NONE") {
        if (m[2].trim()) throw new ConfigError("HEALTHCHECK NONE takes no arguments");
        c.Healthcheck = { Test: ["NONE"] };
        break;
      }
      const rest = m[2].trim();
      if (!rest) throw new ConfigError("HEALTHCHECK CMD requires a command");
      const j = jsonForm(rest);
      const test = j ? ["CMD", ...j] : ["CMD-SHELL", rest];
      const hc: Record<string, unknown> = { Test: test };
      const f = (n: string) => ins.flags[n]?.at(-1);
      if (f("interval")) hc.Interval = parseDuration(f("interval")!);
      if (f("timeout")) hc.Timeout = parseDuration(f("timeout")!);
      if (f("start-period")) hc.StartPeriod = parseDuration(f("start-period")!);
      if (f("start-interval")) hc.StartInterval = parseDuration(f("start-interval")!);
      if (f("retries")) {
        const r = Number(f("retries"));
        if (!Number.isInteger(r) || r < 0) throw new ConfigError(`invalid retries "${f("retries")}"`);
        hc.Retries = r;
      }
      c.Healthcheck = hc;
      break;
    }
    default:
      throw new ConfigError(`${ins.cmd} is not a config instruction`);
  }
  return { config: c, shell, author };
}
