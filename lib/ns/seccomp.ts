/**
 * Seccomp filters through libseccomp (`libseccomp.so.2`, Debian's `libseccomp2`, the library runc, crun and
 * podman use) — pod never assembles BPF itself. libseccomp builds the filter of a {@link CompiledSeccomp}
 * and exports its BPF program ({@link exportSeccompBpf}, ~30 ms: stage 1 caches the result in the store, see
 * lib/container/seccomp.ts); stage 2 hands that program to the kernel right before `execve`
 * ({@link loadSeccompBpf}: `prctl(PR_SET_SECCOMP)`, what `seccomp_load` does), so the container's command
 * starts filtered. {@link loadSeccomp} builds and loads in one go (tests, no cache).
 *
 * The filter is loaded on the calling thread only (libseccomp's `SCMP_FLTATR_CTL_TSYNC` off; `execve` ends
 * Deno's other threads anyway) and `no_new_privs` is left to the caller (`SCMP_FLTATR_CTL_NNP` off, as runc
 * and crun do): stage 2 has `CAP_SYS_ADMIN` in its user namespace, so the kernel accepts the filter without it.
 * @module
 */

import { PodError } from "../errors.ts";
import { check, close, cstr, libc, O, open, ptr } from "./libc.ts";
import type { CompiledSeccomp } from "./seccomp_profile.ts";

const symbols = {
  seccomp_init: { parameters: ["u32"], result: "pointer" },
  seccomp_release: { parameters: ["pointer"], result: "void" },
  seccomp_arch_resolve_name: { parameters: ["buffer"], result: "u32" },
  seccomp_arch_add: { parameters: ["pointer", "u32"], result: "i32" },
  seccomp_syscall_resolve_name: { parameters: ["buffer"], result: "i32" },
  seccomp_rule_add_array: { parameters: ["pointer", "u32", "i32", "u32", "buffer"], result: "i32" },
  seccomp_attr_set: { parameters: ["pointer", "u32", "u32"], result: "i32" },
  seccomp_load: { parameters: ["pointer"], result: "i32" },
  seccomp_export_bpf: { parameters: ["pointer", "i32"], result: "i32" },
} as const;

type Lib = Deno.DynamicLibrary<typeof symbols>["symbols"];
let lib: Lib | undefined;

/** libseccomp's `enum scmp_filter_attr` values pod sets. */
const ATTR = { ACT_BADARCH: 2, CTL_NNP: 3, CTL_TSYNC: 4 } as const;
const EEXIST = 17;
/** `SCMP_ACT_ERRNO(ENOSYS)`: what a syscall of an architecture the filter does not list gets (runc's choice). */
const BADARCH_ENOSYS = 0x00050000 | 38;

/** Opens libseccomp (once); a missing library is one clear error naming the package. */
export function seccompLibrary(): Lib {
  if (lib) return lib;
  try {
    lib = Deno.dlopen("libseccomp.so.2", symbols).symbols;
  } catch {
    throw new PodError(
      "seccomp: libseccomp.so.2 not found: install libseccomp2 (apt-get install libseccomp2), " +
        "or run with --security-opt seccomp=unconfined",
    );
  }
  return lib;
}

function fail(call: string, r: number, what = ""): never {
  throw new PodError(`seccomp: ${call}${what ? ` ${what}` : ""}: errno ${-r}`);
}

/**
 * Builds the filter of `f` with libseccomp and passes its context to `use` (then released). Syscall names
 * this libseccomp does not know (newer than it) are skipped, as runc does; any other failure throws.
 */
function withFilter(f: CompiledSeccomp, use: (s: Lib, ctx: Deno.PointerObject) => void): void {
  const s = seccompLibrary();
  const ctx = s.seccomp_init(f.defaultAction >>> 0);
  if (!ctx) throw new PodError("seccomp: seccomp_init failed");
  try {
    for (const name of f.arches) {
      const token = s.seccomp_arch_resolve_name(cstr(name));
      if (token === 0) continue; // an architecture this libseccomp does not know
      const r = s.seccomp_arch_add(ctx, token);
      if (r < 0 && -r !== EEXIST) fail("seccomp_arch_add", r, name);
    }
    let r = s.seccomp_attr_set(ctx, ATTR.CTL_NNP, 0);
    if (r < 0) fail("seccomp_attr_set", r, "CTL_NNP");
    r = s.seccomp_attr_set(ctx, ATTR.ACT_BADARCH, BADARCH_ENOSYS);
    if (r < 0) fail("seccomp_attr_set", r, "ACT_BADARCH");
    const nrs = new Map<string, number>();
    for (const rule of f.rules) {
      const cmp = new BigUint64Array(rule.args.length * 3 || 1);
      const dv = new DataView(cmp.buffer);
      rule.args.forEach((a, i) => {
        dv.setUint32(i * 24, a.index, true);
        dv.setUint32(i * 24 + 4, a.op, true);
        cmp[i * 3 + 1] = BigInt.asUintN(64, BigInt(a.a));
        cmp[i * 3 + 2] = BigInt.asUintN(64, BigInt(a.b));
      });
      const buf = new Uint8Array(cmp.buffer);
      for (const name of rule.names) {
        let nr = nrs.get(name);
        if (nr === undefined) nrs.set(name, nr = s.seccomp_syscall_resolve_name(cstr(name)));
        if (nr === -1) continue; // __NR_SCMP_ERROR: unknown to this libseccomp (negative others: pseudo numbers)
        const r = s.seccomp_rule_add_array(ctx, rule.action >>> 0, nr, rule.args.length, buf);
        if (r < 0) fail("seccomp_rule_add", r, name);
      }
    }
    use(s, ctx);
  } finally {
    s.seccomp_release(ctx);
  }
}

/** Builds the filter of `f` and loads it on the calling thread (`seccomp_load`). */
export function loadSeccomp(f: CompiledSeccomp): void {
  withFilter(f, (s, ctx) => {
    const r = s.seccomp_load(ctx);
    if (r < 0) fail("seccomp_load", r);
  });
}

/** Builds the filter of `f` and writes libseccomp's BPF program of it to the file `path` (created, mode 0600). */
export function exportSeccompBpf(f: CompiledSeccomp, path: string): void {
  withFilter(f, (s, ctx) => {
    const fd = open(path, O.WRONLY | O.CLOEXEC | 0o100 /* O_CREAT */ | 0o1000, /* O_TRUNC */ 0o600);
    try {
      const r = s.seccomp_export_bpf(ctx, fd);
      if (r < 0) fail("seccomp_export_bpf", r, path);
    } finally {
      close(fd);
    }
  });
}

/**
 * Loads a BPF program libseccomp exported ({@link exportSeccompBpf}) as the calling thread's seccomp filter:
 * `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sock_fprog)`, as `seccomp_load` does without TSYNC.
 */
export function loadSeccompBpf(program: Uint8Array<ArrayBuffer>): void {
  if (program.length === 0 || program.length % 8 !== 0) {
    throw new PodError(`seccomp: not a BPF program (${program.length} bytes)`);
  }
  const fprog = new BigUint64Array(2); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  new DataView(fprog.buffer).setUint16(0, program.length / 8, true);
  fprog[1] = ptr(program);
  check(
    libc().prctl(
      22, /* PR_SET_SECCOMP */
      2n, /* SECCOMP_MODE_FILTER */
      ptr(new Uint8Array(fprog.buffer)),
      0n,
      0n,
    ),
    "PR_SET_SECCOMP",
  );
}
