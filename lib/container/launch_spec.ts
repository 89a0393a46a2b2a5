/**
 * Turns a container record into lib/ns's {@link LaunchSpec}: namespaces, id maps, mounts, generated /etc
 * files and the process (user resolved against the prepared rootfs).
 * @module
 */

import type { LaunchSpec, MountSpec, ProcessSpec } from "../ns/spec.ts";
import { type ContainerConfig, type ContainerMount, containerPaths } from "../store/containers.ts";
import { treePath } from "../store/trees.ts";
import { EnvList } from "./process_options.ts";
import { parseGroup, parsePasswd, readInRoot, resolveUserInRoot } from "./user.ts";
import { writeUserdata } from "./userdata.ts";
import { launchNamespaces } from "./namespaces.ts";
import { containerCapabilities, maskedPaths } from "./security.ts";
import { PodError } from "../errors.ts";
import { INIT_PATH } from "../ns/spec.ts";
import { timezoneFile } from "./runtime_options.ts";
import { seccompFilter } from "./seccomp.ts";
import { debug } from "../log.ts";

/** Path depth of a mount destination (`/` = 0, `/run` = 1, `/run/host` = 2). */
function depth(dst: string): number {
  return dst.split("/").filter((p) => p).length;
}

/** Where a `--read-only` container still gets a writable tmpfs (podman's `--read-only-tmpfs`, its default). */
const READ_ONLY_TMPFS = ["/run", "/tmp", "/var/tmp"];

/**
 * The tmpfs mounts of a `--read-only` container: /run, /tmp and /var/tmp, unless a mount of the user's has that
 * destination. Unlike podman's (`tmpcopyup`), they start empty.
 */
function readOnlyTmpfs(c: ContainerConfig): ContainerMount[] {
  if (!c.readOnly || c.noReadOnlyTmpfs) return [];
  return READ_ONLY_TMPFS.filter((d) => !c.mounts.some((m) => m.destination === d))
    .map((destination) => ({ type: "tmpfs", destination, readonly: false, options: [] }));
}

/**
 * The mounts stage 2 applies, in order: parents before children (a stable sort by destination depth, as
 * podman does), so `--mount type=tmpfs,destination=/run` does not hide an earlier `-v /:/run/host`.
 */
export function launchMounts(c: ContainerConfig): MountSpec[] {
  const sorted = [...readOnlyTmpfs(c), ...c.mounts].map((m, i) => ({ m, i })).sort((a, b) =>
    depth(a.m.destination) - depth(b.m.destination) || a.i - b.i
  ).map((x) => x.m);
  return sorted.map((m) =>
    m.type === "tmpfs" || m.volumeType === "tmpfs"
      ? { type: "tmpfs", destination: m.destination, readonly: m.readonly, data: m.data || undefined }
      : {
        type: "bind",
        source: m.source,
        destination: m.destination,
        readonly: m.readonly,
        propagation: m.propagation as MountSpec["propagation"],
        recursive: m.recursive ?? true,
        ...(m.copyUp ? { copyUp: true } : {}),
      }
  );
}

/** The spec shared by the prepare and the run launches. */
export function baseSpec(root: string, c: ContainerConfig): LaunchSpec {
  const cp = containerPaths(root, c.id);
  return {
    id: c.id,
    rootfs: cp.rootfs,
    stateDir: `${cp.dir}/run`,
    hostname: c.hostname,
    ...launchNamespaces(c),
    mounts: [],
    etc: {},
    privileged: c.privileged,
  };
}

/** A spec that only extracts the image layers into the rootfs. */
export function prepareSpec(root: string, c: ContainerConfig): LaunchSpec {
  return { ...baseSpec(root, c), prepare: { layers: c.layers } };
}

/**
 * `--userns=keep-id` running as the user's own uid: when the image's /etc/passwd lacks that uid, podman adds
 * the user (host name and home, `/bin/sh`) and a group, and HOME is the user's home.
 */
function keepIdUser(
  rootfs: string,
  c: ContainerConfig,
  uid: number,
  gid: number,
): { home: string; passwd: string; group?: string } | undefined {
  if (c.userns.mode !== "keep-id" || uid !== Deno.uid()) return undefined;
  if (parsePasswd(readInRoot(rootfs, "/etc/passwd")).some((p) => p.uid === uid)) return undefined;
  let name = Deno.env.get("USER") || `user${uid}`, gecos = "", home = "/";
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f.length >= 7 && f[2] === String(uid)) {
        [name, gecos, home] = [f[0], f[4], f[5] || "/"];
        break;
      }
    }
  } catch { /* no host passwd */ }
  const hasGroup = parseGroup(readInRoot(rootfs, "/etc/group")).some((g) => g.gid === gid);
  return {
    home,
    passwd: `${name}:*:${uid}:${gid}:${gecos}:${home}:/bin/sh`,
    group: hasGroup ? undefined : `${name}:x:${gid}:${name}`,
  };
}

/** The container's process: user resolved in the rootfs, HOME from its passwd entry. */
export function processSpec(rootfs: string, c: ContainerConfig, terminal = c.process.terminal): ProcessSpec {
  const u = resolveUserInRoot(rootfs, c.process.user);
  const keep = keepIdUser(rootfs, c, u.uid, u.gid);
  const extraGids = c.groupAdd && !c.groupAdd.includes("keep-groups") ? groupIds(rootfs, c.groupAdd) : [];
  const env = new EnvList();
  env.setAll(c.process.env);
  if (!env.has("HOME")) env.set(`HOME=${keep?.home ?? u.home}`);
  return {
    passwdEntry: keep?.passwd,
    groupEntry: keep?.group,
    args: c.init ? [INIT_PATH, "--", ...c.process.args] : c.process.args,
    env: env.toArray(),
    cwd: c.process.cwd,
    uid: u.uid,
    gid: u.gid,
    additionalGids: [...new Set([...u.additionalGids, ...extraGids])],
    terminal,
  };
}

/** `--group-add`: numbers as they are, names looked up in the container's /etc/group. */
function groupIds(rootfs: string, groups: string[]): number[] {
  const table = groups.some((g) => !/^\d+$/.test(g)) ? parseGroup(readInRoot(rootfs, "/etc/group")) : [];
  return groups.map((g) => {
    if (/^\d+$/.test(g)) return Number(g);
    const found = table.find((e) => e.name === g);
    if (!found) throw new PodError(`unable to find group ${g}: no matching entries in group file`);
    return found.gid;
  });
}

const ETC_DESTINATIONS = {
  hosts: "/etc/hosts",
  hostname: "/etc/hostname",
  resolvConf: "/etc/resolv.conf",
  containerEnv: "/run/.containerenv",
} as const;

/**
 * Generated files that a user mount of a parent directory would hide (stage 2 binds them before the user
 * mounts), e.g. distrobox's `--mount type=tmpfs,destination=/run` over /run/.containerenv: bound again after
 * the user mounts, as podman does. A user mount of the file itself (`-v /etc/hosts:/etc/hosts`) wins.
 */
export function etcRebinds(etc: LaunchSpec["etc"], mounts: MountSpec[]): MountSpec[] {
  const out: MountSpec[] = [];
  for (const [key, dst] of Object.entries(ETC_DESTINATIONS)) {
    const src = etc[key as keyof LaunchSpec["etc"]];
    if (!src || mounts.some((m) => m.destination === dst)) continue;
    const covered = mounts.some((m) => m.destination === "/" || dst.startsWith(`${m.destination}/`));
    if (covered) out.push({ type: "bind", source: src, destination: dst, recursive: false });
  }
  return out;
}

/** Everything of the run spec but the process. */
export function runSpecWithoutProcess(root: string, c: ContainerConfig): LaunchSpec {
  const base = baseSpec(root, c);
  const etc: LaunchSpec["etc"] = writeUserdata(containerPaths(root, c.id).dir, c, c.userns.mode !== "host");
  if (c.net?.noHosts) delete etc.hosts; // net scope: `--no-hosts` keeps the image's /etc/hosts
  const mounts = launchMounts(c);
  const spec: LaunchSpec = {
    ...base,
    mounts: [...mounts, ...etcRebinds(etc, mounts)],
    etc,
    readonlyRootfs: c.readOnly,
  };
  // runtime2 (issue 13)
  if (c.security?.securityOpt?.some((o) => /^(un)?mask[=:]/.test(o))) {
    const masks = maskedPaths(c);
    spec.maskedPaths = masks.masked;
    spec.readonlyPaths = masks.readonly;
  }
  if (c.init) spec.init = c.init.path;
  if (c.devices?.length) {
    spec.devices = c.devices.map((d) => ({ source: d.source, destination: d.destination }));
  }
  if (c.sysctls) spec.sysctls = c.sysctls;
  if (c.groupAdd?.includes("keep-groups")) spec.keepGroups = true;
  if (c.timezone && !spec.mounts.some((m) => m.destination === "/etc/localtime")) {
    spec.mounts.push({
      type: "bind",
      source: timezoneFile(c.timezone),
      destination: "/etc/localtime",
      readonly: true,
      recursive: false,
    });
  }
  return spec;
}

/** The full spec to run the container (rootfs already prepared). */
export function runSpec(root: string, c: ContainerConfig, terminal = c.process.terminal): LaunchSpec {
  const spec = runSpecWithoutProcess(root, c);
  return { ...spec, process: processSpec(spec.rootfs, c, terminal) };
}

/**
 * The spec of a first start in one launch: stage 2 prepares the rootfs (extracts the layers itself when
 * `extract`, else waits for this process to have done it), then receives the process, which stage 1 resolves
 * against the fresh rootfs with {@link processSpec}.
 */
export function preparingRunSpec(root: string, c: ContainerConfig, extract: boolean): LaunchSpec {
  return {
    ...runSpecWithoutProcess(root, c),
    prepare: extract ? { layers: c.layers } : undefined,
    deferProcess: true,
  };
}

/**
 * The spec of an overlay container's start: stage 2 builds the image tree first when `buildTree` (it is
 * missing), mounts the overlay on the rootfs, then receives the process, which stage 1 resolves against
 * that root through stage 2's /proc/<pid>/root.
 */
export function overlayRunSpec(root: string, c: ContainerConfig, buildTree: boolean): LaunchSpec {
  const cp = containerPaths(root, c.id);
  return {
    ...runSpecWithoutProcess(root, c),
    overlay: {
      lower: c.rootfsDir?.path ?? treePath(root, c.storage!.tree),
      upper: cp.upper,
      work: cp.work,
      ...(c.autoRemove ? { volatile: true } : {}), // runperf: no sync on exit of what `--rm` deletes
    },
    prepare: buildTree ? { layers: c.layers } : undefined,
    deferProcess: true,
  };
}

/**
 * The security part of a run spec: bounding capabilities, the seccomp filter (built and cached on first use),
 * no-new-privileges, ulimits, oom_score_adj and a non-root user's `--cap-add` capabilities (ambient).
 */
export async function securitySpec(root: string, c: ContainerConfig): Promise<Partial<LaunchSpec>> {
  const t0 = performance.now();
  const sec = c.security;
  const out: Partial<LaunchSpec> = { capabilities: containerCapabilities(c) };
  const filter = await seccompFilter(root, c);
  debug(`security settings of ${c.id.slice(0, 12)} in ${(performance.now() - t0).toFixed(2)} ms`);
  if (filter) out.seccomp = filter;
  if (sec?.noNewPrivileges) out.noNewPrivileges = true;
  if (sec?.ulimits?.length) out.rlimits = sec.ulimits;
  if (sec?.oomScoreAdj !== undefined) out.oomScoreAdj = sec.oomScoreAdj;
  const added = (sec?.capAdd ?? []).includes("ALL") ? out.capabilities! : sec?.capAdd ?? [];
  if (added.length) out.ambientCapabilities = added.filter((a) => out.capabilities!.includes(a));
  return out;
}
