/**
 * A container's security settings: `--cap-add`/`--cap-drop`, `--security-opt` (`seccomp=`, `no-new-privileges`),
 * `--ulimit` and `--oom-score-adj` parsed into a {@link SecurityConfig} at create, and the capability set a
 * container ends up with ({@link containerCapabilities}), as podman computes it.
 * @module
 */

import { UsageError } from "../errors.ts";
import { CAPABILITY_NAMES, DEFAULT_CAPABILITIES, RLIMITS } from "../ns/spec.ts";
import type { ContainerConfig, SecurityConfig } from "../store/container_types.ts";
import { MASKED_PATHS, READONLY_PATHS } from "../ns/spec.ts";
import { warn } from "../log.ts";

/** The security flags as written on the command line. */
export interface SecurityFlags {
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  ulimit?: string[];
  oomScoreAdj?: number;
}

/** `chown`, `CAP_CHOWN`, `cap_chown` → `CAP_CHOWN`; `all` → `ALL`; an unknown name is a usage error. */
export function normalizeCap(name: string): string {
  const u = name.trim().toUpperCase();
  if (u === "ALL") return "ALL";
  const bare = u.startsWith("CAP_") ? u.slice(4) : u;
  if (!CAPABILITY_NAMES.includes(bare)) throw new UsageError(`unknown capability "${name}"`);
  return `CAP_${bare}`;
}

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).filter((v) => v.trim());
}

/** One `--ulimit` value: `nofile=1024:2048`, `nproc=512`, `core=-1` (unlimited); `host` is handled apart. */
export function parseUlimit(v: string): { name: string; soft: number; hard: number } {
  const eq = v.indexOf("=");
  const name = (eq < 0 ? v : v.slice(0, eq)).trim().toLowerCase().replace(/^rlimit_/, "");
  if (eq < 0 || !(name in RLIMITS)) {
    throw new UsageError(
      `invalid ulimit "${v}": use NAME=SOFT[:HARD] with NAME one of ${Object.keys(RLIMITS).join(", ")}`,
    );
  }
  const parts = v.slice(eq + 1).split(":");
  const num = (s: string) => {
    if (!/^-?\d+$/.test(s.trim())) {
      throw new UsageError(`invalid ulimit "${v}": ${JSON.stringify(s)} is not a number`);
    }
    const n = Number(s);
    if (n < -1) throw new UsageError(`invalid ulimit "${v}": negative value`);
    return n;
  };
  if (parts.length > 2) throw new UsageError(`invalid ulimit "${v}": too many colons`);
  const soft = num(parts[0]);
  const hard = parts.length > 1 ? num(parts[1]) : soft;
  if (hard !== -1 && (soft === -1 || soft > hard)) {
    throw new UsageError(`ulimit error: ${name} soft limit ${soft} is greater than hard limit ${hard}`);
  }
  return { name, soft, hard };
}

/** Parses the security flags; `undefined` when none was given (podman's defaults). */
export function parseSecurity(f: SecurityFlags): SecurityConfig | undefined {
  const out: SecurityConfig = {};
  const add = splitList(f.capAdd).map(normalizeCap);
  const drop = splitList(f.capDrop).map(normalizeCap);
  if (add.length) out.capAdd = add;
  if (drop.length) out.capDrop = drop;
  for (const opt of f.securityOpt ?? []) {
    const eq = opt.search(/[=:]/);
    const key = eq < 0 ? opt : opt.slice(0, eq), value = eq < 0 ? "" : opt.slice(eq + 1);
    if (key === "no-new-privileges") {
      if (value && value !== "true" && value !== "false") {
        throw new UsageError(`invalid --security-opt "${opt}": no-new-privileges takes true or false`);
      }
      out.noNewPrivileges = value !== "false";
    } else if (key === "seccomp") {
      if (!value) throw new UsageError(`invalid --security-opt "${opt}": seccomp=unconfined|PROFILE.json`);
      if (value === "unconfined") out.seccomp = "unconfined";
      else {
        const path = value.startsWith("/") ? value : `${Deno.cwd()}/${value}`;
        try {
          JSON.parse(Deno.readTextFileSync(path));
        } catch (e) {
          const why = e instanceof SyntaxError ? "not JSON" : "cannot be read";
          throw new UsageError(`opening seccomp profile failed: ${value}: ${why}`);
        }
        out.seccomp = path;
      }
    } else if (key === "mask" || key === "unmask") {
      if (!value) throw new UsageError(`invalid --security-opt "${opt}": ${key}=PATH[:PATH…]`);
      for (const p of value.split(":")) {
        if (!p.startsWith("/") && !(key === "unmask" && p === "ALL")) {
          warn(`Path "${p}" is not an absolute path, skipping...`);
        }
      }
    } else if (key === "label" || key === "apparmor" || key === "proc-opts") {
      // SELinux/AppArmor do not apply to pod's runtime
    } else throw new UsageError(`invalid --security-opt "${opt}"`);
  }
  if (f.securityOpt?.length) out.securityOpt = [...f.securityOpt];
  const ulimits = (f.ulimit ?? []).filter((u) => u !== "host").map(parseUlimit);
  if (ulimits.length) out.ulimits = ulimits;
  if (f.oomScoreAdj !== undefined) {
    if (!Number.isInteger(f.oomScoreAdj) || f.oomScoreAdj < -1000 || f.oomScoreAdj > 1000) {
      throw new UsageError(`invalid --oom-score-adj ${f.oomScoreAdj}: must be between -1000 and 1000`);
    }
    out.oomScoreAdj = f.oomScoreAdj;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * The capabilities (`CAP_` names) of the container's bounding set: privileged → every one; else podman's
 * default set, then `--cap-drop` (ALL empties it), then `--cap-add` (ALL = every one), as podman applies
 * them (an added capability wins over a dropped one).
 */
export function containerCapabilities(c: Pick<ContainerConfig, "privileged" | "security">): string[] {
  const all = CAPABILITY_NAMES.map((n) => `CAP_${n}`);
  const add = c.security?.capAdd ?? [], drop = c.security?.capDrop ?? [];
  let caps = c.privileged ? all : DEFAULT_CAPABILITIES.map((n) => `CAP_${n}`);
  if (drop.includes("ALL")) caps = [];
  else caps = caps.filter((x) => !drop.includes(x));
  if (add.includes("ALL")) caps = all;
  else for (const a of add) if (!caps.includes(a)) caps.push(a);
  return all.filter((x) => caps.includes(x));
}

/** A path pattern of `unmask=` (`*` within one component, as Go's filepath.Match) as a RegExp. */
function globRegExp(pattern: string): RegExp {
  const esc = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*").replaceAll("?", "[^/]");
  return new RegExp(`^${esc}$`);
}

/**
 * The masked and read-only paths of a container, as podman computes them: its default lists, less what
 * `--security-opt unmask=ALL|PATH[:PATH…]` names (globs allowed), plus `mask=PATH[:PATH…]` (masked).
 */
export function maskedPaths(c: Pick<ContainerConfig, "security">): { masked: string[]; readonly: string[] } {
  let masked = [...MASKED_PATHS], readonly = [...READONLY_PATHS];
  for (const opt of c.security?.securityOpt ?? []) {
    const eq = opt.search(/[=:]/);
    const key = eq < 0 ? opt : opt.slice(0, eq), paths = eq < 0 ? [] : opt.slice(eq + 1).split(":");
    if (key === "unmask") {
      if (paths.includes("ALL")) masked = readonly = [];
      const res = paths.filter((p) => p.startsWith("/")).map(globRegExp);
      masked = masked.filter((p) => !res.some((r) => r.test(p)));
      readonly = readonly.filter((p) => !res.some((r) => r.test(p)));
    } else if (key === "mask") {
      for (const p of paths) if (p.startsWith("/") && !masked.includes(p)) masked.push(p);
    }
  }
  return { masked, readonly };
}
