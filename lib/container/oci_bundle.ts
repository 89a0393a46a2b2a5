/**
 * The OCI runtime spec (`config.json` of a bundle) of a container, for `--runtime runc`: what stage 2 would do,
 * as data — process (args, env, cwd, user, capabilities, rlimits, no_new_privs, oom_score_adj), root,
 * hostname, mounts (/proc, /dev, devpts, shm, mqueue, /sys, the generated /etc files, user mounts, the init
 * binary), namespaces, masked/read-only paths, sysctls, devices and the seccomp profile (containers-common's,
 * filtered for the container's capabilities, architecture and kernel as podman does before handing it to runc).
 * Pure but for reading the seccomp profile and the devices' numbers.
 * @module
 */

import type { ContainerConfig } from "../store/container_types.ts";
import type { LaunchSpec, ProcessSpec } from "../ns/spec.ts";
import { INIT_PATH } from "../ns/spec.ts";
import { kernelAtLeast, type SeccompProfile } from "../ns/seccomp_profile.ts";
import { containerCapabilities, maskedPaths } from "./security.ts";

type Json = Record<string, unknown>;

const NATIVE_ARCH: Record<string, string> = { x86_64: "SCMP_ARCH_X86_64", aarch64: "SCMP_ARCH_AARCH64" };

/**
 * A seccomp profile as OCI's `linux.seccomp`: the rules that apply to `caps` on this architecture and kernel
 * (containers-common's `includes`/`excludes`), the native architecture and its sub-architectures.
 */
export function ociSeccomp(profile: SeccompProfile, caps: string[], kernel: string): Json {
  const arch = NATIVE_ARCH[Deno.build.arch] ?? "SCMP_ARCH_NATIVE";
  const goArch = Deno.build.arch === "x86_64"
    ? "amd64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
  const archMap = profile.archMap?.find((a) => a.architecture === arch);
  const architectures = archMap
    ? [arch, ...(archMap.subArchitectures ?? [])]
    : profile.architectures ?? [arch];
  const syscalls = (profile.syscalls ?? []).filter((s) => {
    const inc = s.includes ?? {}, exc = s.excludes ?? {};
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) return false;
    if (exc.caps?.length && exc.caps.some((c) => caps.includes(c))) return false;
    if (inc.arches?.length && !inc.arches.includes(goArch)) return false;
    if (exc.arches?.length && exc.arches.includes(goArch)) return false;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
    return true;
  }).map((s) => ({
    names: s.names ?? (s.name ? [s.name] : []),
    action: s.action,
    ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
    ...(s.args?.length ? { args: s.args } : {}),
  }));
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    syscalls,
  };
}

function mountOptions(m: LaunchSpec["mounts"][number]): Json {
  if (m.type === "tmpfs") {
    return {
      destination: m.destination,
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", ...(m.data ? m.data.split(",") : []), ...(m.readonly ? ["ro"] : [])],
    };
  }
  return {
    destination: m.destination,
    type: "bind",
    source: m.source,
    options: [
      m.recursive === false ? "bind" : "rbind",
      m.readonly ? "ro" : "rw",
      m.propagation ?? "rprivate",
    ],
  };
}

/** What {@link ociConfig} needs besides the container's record. */
export interface BundleInputs {
  /** The root file system (a mount point the runtime finds mounted). */
  rootfs: string;
  /** The run spec stage 2 would get (mounts, /etc files, …) and its resolved process. */
  spec: LaunchSpec;
  process: ProcessSpec;
  /** The seccomp profile (absent: unconfined). */
  seccomp?: SeccompProfile;
  /** `uname -r`. */
  kernel: string;
}

/** The OCI `config.json` of container `c`. */
export function ociConfig(c: ContainerConfig, b: BundleInputs): Json {
  const caps = containerCapabilities(c);
  const p = b.process;
  const added = c.security?.capAdd ?? [];
  const ambient = p.uid === 0 ? [] : added.includes("ALL") ? caps : caps.filter((x) => added.includes(x));
  const ns = c.namespaces;
  const mounts: Json[] = [
    ns.pid === "private"
      ? { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] }
      : { destination: "/proc", type: "bind", source: "/proc", options: ["rbind", "rw"] },
    c.privileged ? { destination: "/dev", type: "bind", source: "/dev", options: ["rbind", "rw"] } : {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    ...(ns.ipc === "private"
      ? [{
        destination: "/dev/mqueue",
        type: "mqueue",
        source: "mqueue",
        options: ["nosuid", "noexec", "nodev"],
      }]
      : []),
    ns.net === "private"
      ? { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] }
      : {
        destination: "/sys",
        type: "bind",
        source: "/sys",
        options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
      },
  ];
  const etc: [string | undefined, string][] = [
    [b.spec.etc.hosts, "/etc/hosts"],
    [b.spec.etc.hostname, "/etc/hostname"],
    [b.spec.etc.resolvConf, "/etc/resolv.conf"],
    [b.spec.etc.containerEnv, "/run/.containerenv"],
  ];
  for (const [src, dst] of etc) {
    if (src) mounts.push({ destination: dst, type: "bind", source: src, options: ["bind", "rprivate"] });
  }
  for (const m of b.spec.mounts) mounts.push(mountOptions(m));
  if (c.init) {
    mounts.push({ destination: INIT_PATH, type: "bind", source: c.init.path, options: ["bind", "ro"] });
  }
  const namespaces = [
    { type: "mount" },
    ...(["pid", "ipc", "uts"] as const).filter((n) => ns[n] === "private").map((type) => ({ type })),
    ...(ns.net === "private" ? [{ type: "network" }] : []),
  ];
  const masks = c.privileged ? { masked: [], readonly: [] } : maskedPaths(c);
  const devices = (c.devices ?? []).map((d) => {
    const st = Deno.statSync(d.source);
    const rdev = st.rdev ?? 0;
    return {
      path: d.destination,
      type: st.isBlockDevice ? "b" : "c",
      major: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
      minor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff & 0xfffff),
      fileMode: (st.mode ?? 0o666) & 0o777,
      uid: st.uid ?? 0,
      gid: st.gid ?? 0,
      access: d.permissions || "rwm",
    };
  });
  const linux: Json = {
    namespaces,
    maskedPaths: masks.masked,
    readonlyPaths: masks.readonly,
  };
  if (c.sysctls) linux.sysctl = c.sysctls;
  if (devices.length) {
    linux.devices = devices.map(({ access: _a, ...d }) => d);
    linux.resources = {
      devices: devices.map((d) => ({
        allow: true,
        type: d.type,
        major: d.major,
        minor: d.minor,
        access: d.access,
      })),
    };
  }
  if (b.seccomp) linux.seccomp = ociSeccomp(b.seccomp, caps, b.kernel);
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: p.uid, gid: p.gid, additionalGids: p.additionalGids },
      args: p.args,
      env: p.env,
      cwd: p.cwd || "/",
      capabilities: {
        bounding: caps,
        effective: p.uid === 0 ? caps : ambient,
        permitted: p.uid === 0 ? caps : ambient,
        inheritable: ambient,
        ambient,
      },
      rlimits: (c.security?.ulimits ?? []).map((u) => ({
        type: `RLIMIT_${u.name.toUpperCase()}`,
        soft: u.soft === -1 ? 18446744073709551615n : u.soft,
        hard: u.hard === -1 ? 18446744073709551615n : u.hard,
      })),
      noNewPrivileges: !!c.security?.noNewPrivileges,
      ...(c.security?.oomScoreAdj !== undefined ? { oomScoreAdj: c.security.oomScoreAdj } : {}),
    },
    root: { path: b.rootfs, readonly: c.readOnly },
    hostname: c.hostname,
    // the container's annotations reach the runtime (crun honours run.oci.keep_original_groups=1, which
    // `--group-add keep-groups` sets, as podman does)
    annotations: {
      ...c.annotations,
      ...(c.groupAdd?.includes("keep-groups") ? { "run.oci.keep_original_groups": "1" } : {}),
    },
    mounts,
    linux,
  };
}

/** JSON of {@link ociConfig}'s result (unlimited rlimits are 2^64-1, beyond JSON numbers). */
export function configJson(config: Json): string {
  return JSON.stringify(config, (_k, v) => typeof v === "bigint" ? `@@${v}@@` : v).replace(
    /"@@(\d+)@@"/g,
    "$1",
  );
}
