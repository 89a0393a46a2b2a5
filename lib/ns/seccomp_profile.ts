/**
 * Seccomp profiles (the OCI/containers-common JSON format: `defaultAction`, `defaultErrnoRet`, `archMap`,
 * `syscalls[]` with `names`, `action`, `errnoRet`, `args`, `includes`/`excludes` by `caps`, `arches` and
 * `minKernel`) translated, for one container's capabilities on this machine, into the flat
 * {@link CompiledSeccomp} that stage 2 hands to libseccomp (lib/ns/seccomp.ts). Pure: no I/O, no FFI.
 *
 * The translation follows containers/common's `pkg/seccomp` (what podman does): a rule is kept when every
 * `includes.caps` capability is the container's, no `excludes.caps` one is, the native architecture is in
 * `includes.arches` (when given) and not in `excludes.arches`, and the kernel is at least
 * `includes.minKernel`; conditions on distinct argument indexes make one rule, several on the same index one
 * rule each (libseccomp cannot AND two comparisons of one argument).
 * @module
 */

/** A seccomp profile as JSON (containers-common's `seccomp.json`, or a user's `--security-opt seccomp=FILE`). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  syscalls?: SeccompSyscall[] | null;
}

/** One `syscalls[]` entry of a {@link SeccompProfile}. */
export interface SeccompSyscall {
  names?: string[] | null;
  name?: string;
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: SeccompFilter | null;
  excludes?: SeccompFilter | null;
}

/** `includes`/`excludes` of a {@link SeccompSyscall}. */
export interface SeccompFilter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string;
}

/** A comparison of one syscall argument (`struct scmp_arg_cmp`): `op` is libseccomp's `enum scmp_compare`. */
export interface CompiledArg {
  index: number;
  op: number;
  a: number;
  b: number;
}

/** A rule: these syscalls (by name, resolved by libseccomp) get `action` when every `args` comparison holds. */
export interface CompiledRule {
  names: string[];
  action: number;
  args: CompiledArg[];
}

/** What stage 2 loads: libseccomp action values, `SCMP_ARCH_*` names, rules in profile order. */
export interface CompiledSeccomp {
  defaultAction: number;
  arches: string[];
  rules: CompiledRule[];
}

/** What a profile is compiled for. */
export interface SeccompTarget {
  /** The container's capabilities (bounding set), with or without `CAP_`. */
  capabilities: string[];
  /** Go's name of the native architecture (`amd64`, `arm64`…); default: this machine's. */
  arch?: string;
  /** Kernel release (`6.1.0-13-amd64`); default: this machine's. */
  kernel?: string;
}

const EPERM = 1;

const OPS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** Go's GOARCH for Deno's `build.arch`. */
const GOARCH: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };

/** Go's architecture names of the `SCMP_ARCH_*` ones (a profile without `archMap` lists the latter). */
const SCMP_ARCH: Record<string, string> = { amd64: "SCMP_ARCH_X86_64", arm64: "SCMP_ARCH_AARCH64" };

/** The libseccomp action value of a profile action (`SCMP_ACT_ERRNO` with its errno). */
export function actionValue(action: string, errnoRet: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return 0;
    case "SCMP_ACT_KILL_PROCESS":
      return 0x80000000;
    case "SCMP_ACT_TRAP":
      return 0x00030000;
    case "SCMP_ACT_ERRNO":
      return (0x00050000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case "SCMP_ACT_TRACE":
      return (0x7ff00000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case "SCMP_ACT_LOG":
      return 0x7ffc0000;
    case "SCMP_ACT_ALLOW":
      return 0x7fff0000;
    default:
      throw new Error(`seccomp profile: unsupported action "${action}"`);
  }
}

function capName(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith("CAP_") ? u : `CAP_${u}`;
}

/** `a.b.c` kernel versions compared numerically (`6.1.0-13-amd64` ≥ `4.8`). */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string) => (v.match(/^\d+(\.\d+)*/)?.[0] ?? "0").split(".").map(Number);
  const k = parse(kernel), m = parse(min);
  for (let i = 0; i < Math.max(k.length, m.length); i++) {
    if ((k[i] ?? 0) !== (m[i] ?? 0)) return (k[i] ?? 0) > (m[i] ?? 0);
  }
  return true;
}

function kernelRelease(): string {
  try {
    return Deno.osRelease();
  } catch {
    return "0";
  }
}

function applies(s: SeccompSyscall, caps: Set<string>, arch: string, kernel: string): boolean {
  const inc = s.includes ?? {}, exc = s.excludes ?? {};
  if (inc.caps?.length && !inc.caps.every((c) => caps.has(capName(c)))) return false;
  if (inc.arches?.length && !inc.arches.includes(arch)) return false;
  if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  if (exc.caps?.some((c) => caps.has(capName(c)))) return false;
  if (exc.arches?.includes(arch)) return false;
  if (exc.minKernel && kernelAtLeast(kernel, exc.minKernel)) return false;
  return true;
}

function compileArgs(args: NonNullable<SeccompSyscall["args"]>): CompiledArg[] {
  return args.map((a) => {
    const op = OPS[a.op];
    if (!op) throw new Error(`seccomp profile: unsupported argument operator "${a.op}"`);
    if (!(a.index >= 0 && a.index <= 5)) {
      throw new Error(`seccomp profile: argument index ${a.index} out of range`);
    }
    return { index: a.index, op, a: a.value ?? 0, b: a.valueTwo ?? 0 };
  });
}

/** Compiles `profile` for a container with `target`'s capabilities on this (or `target`'s) machine. */
export function compileProfile(profile: SeccompProfile, target: SeccompTarget): CompiledSeccomp {
  if (typeof profile?.defaultAction !== "string") throw new Error("seccomp profile: no defaultAction");
  const arch = target.arch ?? GOARCH[Deno.build.arch] ?? Deno.build.arch;
  const kernel = target.kernel ?? kernelRelease();
  const caps = new Set(target.capabilities.map(capName));
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const native = SCMP_ARCH[arch];
  let arches: string[] = [];
  const map = (profile.archMap ?? []).find((m) => m.architecture === native);
  if (map) arches = [map.architecture, ...(map.subArchitectures ?? [])];
  else if (profile.architectures?.length) arches = [...profile.architectures];
  const rules: CompiledRule[] = [];
  for (const s of profile.syscalls ?? []) {
    const names = s.names?.length ? s.names : s.name ? [s.name] : [];
    if (!names.length || !applies(s, caps, arch, kernel)) continue;
    const action = actionValue(s.action, s.errnoRet);
    if (action === defaultAction) continue; // libseccomp refuses rules that repeat the default
    const args = compileArgs(s.args ?? []);
    const distinct = new Set(args.map((a) => a.index)).size === args.length;
    if (distinct) rules.push({ names, action, args });
    else for (const a of args) rules.push({ names, action, args: [a] });
  }
  return { defaultAction, arches, rules };
}
