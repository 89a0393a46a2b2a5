/**
 * The launch spec: everything stage 2 needs to build a container's namespaces and run its command.
 * Stage 1 (`launch.ts`) writes it as JSON in the container's state dir; stage 2 (`stage2.ts`) reads it.
 * @module
 */

import type { CgroupSpec } from "./cgroup.ts";

/** One id-map range: `size` ids from `containerId` map to `hostId` onwards. */
export interface IdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

/** A user mount (volume, bind or tmpfs), applied after the standard mounts, in order. */
export interface MountSpec {
  type: "bind" | "tmpfs";
  /** Host path (bind). */
  source?: string;
  /** Path inside the container (symlinks resolved inside the rootfs). */
  destination: string;
  readonly?: boolean;
  propagation?: "rprivate" | "private" | "rslave" | "slave" | "rshared" | "shared";
  /** Bind recursively (default true, like podman's `rbind`). */
  recursive?: boolean;
  /** tmpfs options, e.g. `size=65536k,mode=1777`. */
  data?: string;
  /**
   * A volume's data dir (`<volume>/_data`, beside its `volume.json`): at its first use stage 2 copies the
   * image's content at the destination into it (podman's copy-up), as the container's ids.
   */
  copyUp?: boolean;
}

/** An image layer to extract into the rootfs inside the namespace (rootless ownership). */
export interface LayerSpec {
  digest: string;
  mediaType: string;
  path: string;
  diffId?: string;
}

/** The container's process. */
export interface ProcessSpec {
  args: string[];
  /** The whole environment, `KEY=value`. */
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  /**
   * A line for the container's /etc/passwd, appended (as podman does for `--userns=keep-id`) when it has no
   * entry for `uid` yet.
   */
  passwdEntry?: string;
  /** Likewise a line for /etc/group, appended when it has no entry for `gid`. */
  groupEntry?: string;
  /**
   * net5 (issue 12): a deferred process sent before the container's network is ready: stage 2 builds the root
   * meanwhile and, before it runs the process, reads a second line on the process fifo: `go` (ready) or
   * `abort`.
   */
  gate?: boolean;
}

/** A resource limit (`--ulimit`): `RLIMIT_*` name without the prefix, lower case (`nofile`); -1 = unlimited. */
export interface Rlimit {
  name: string;
  soft: number;
  hard: number;
}

/** What stage 2 builds and runs. */
export interface LaunchSpec {
  id: string;
  /** Host path of the root file system, already prepared unless `prepare` is set. */
  rootfs: string;
  /** The container's state dir (outside the rootfs): the spec, the pid file, the exec fifo. */
  stateDir: string;
  hostname: string;
  /** `false` = share the host's namespace. */
  namespaces: { user: boolean; pid: boolean; ipc: boolean; uts: boolean; net: boolean };
  /**
   * Namespaces joined instead of made (scope "pods": `--network container:ID`, `ns:PATH`…): paths of
   * namespace files by kind, entered with `nsenter` before `unshare` makes the rest. A joined `user`
   * namespace is entered, not made: `namespaces.user` stays true (stage 2 runs in a user namespace) and no
   * maps are written. A joined `pid` namespace: stage 2 is forked into it (not its pid 1), so it mounts a
   * fresh /proc of it; a joined `ipc` one gets its own mqueue mount.
   */
  join?: { user?: string; net?: string; ipc?: string; uts?: string; pid?: string };
  /** Rootless id maps (written by stage 1 with newuidmap/newgidmap). */
  uidMap?: IdMapping[];
  gidMap?: IdMapping[];
  /**
   * Extract these layers inside the namespace: into the overlay's lower tree when `overlay` is set (built as
   * `<lower>.tmp-<host pid>`, renamed into place; a tree another start finished first wins), else into
   * `<rootfs>.tmp`, renamed to `rootfs`. `from` (overlay only): a finished tree of the first `count` layers,
   * cloned with hard links (`cp -al`) so that only the other layers are applied (a new tree per RUN of a
   * build otherwise unpacks every layer again); any failure falls back to extracting every layer.
   */
  prepare?: { layers: LayerSpec[]; from?: { tree: string; count: number } };
  /**
   * The root is an overlay mounted on `rootfs` (which is then only a mount point): `lower` is the image tree
   * (read-only, shared), `upper` and `work` the container's own (made on first start, `upper` with the
   * owner and mode of the tree's root).
   */
  overlay?: { lower: string; upper: string; work: string; volatile?: boolean };
  mounts: MountSpec[];
  /** Host paths of generated files bound at /etc/hosts, /etc/hostname, /etc/resolv.conf, /run/.containerenv. */
  etc: { hosts?: string; hostname?: string; resolvConf?: string; containerEnv?: string };
  privileged: boolean;
  readonlyRootfs?: boolean;
  /**
   * Capabilities kept in the bounding set (names like `CAP_CHOWN` or `CHOWN`); default: podman's default
   * set, or all of them when privileged.
   */
  capabilities?: string[];
  /**
   * Host path of the seccomp filter to load before `execve`: a BPF program libseccomp exported
   * (lib/ns/seccomp.ts, cached by lib/container/seccomp.ts); absent: unconfined.
   */
  seccomp?: string;
  /** `--security-opt no-new-privileges`: `PR_SET_NO_NEW_PRIVS` before `execve`. */
  noNewPrivileges?: boolean;
  /** `--ulimit`: resource limits set with `prlimit` before `execve`. */
  rlimits?: Rlimit[];
  /** `--oom-score-adj`, written to `/proc/self/oom_score_adj`. */
  oomScoreAdj?: number;
  /**
   * Capabilities a process that is not uid 0 keeps across `execve` (podman: only the `--cap-add` ones, as
   * ambient capabilities).
   */
  ambientCapabilities?: string[];
  /** runtime3 (issue 13): `run --preserve-fds N`: fds 3..3+N-1 (inherited through stage 1) stay open. */
  preserveFds?: number;
  /** Absent = prepare only, then exit 0 (unless `deferProcess`). */
  process?: ProcessSpec;
  /**
   * The process is sent later (it is resolved against the prepared rootfs): after the optional `prepare`,
   * stage 2 writes `prepared\n` on the exec fifo and reads the {@link ProcessSpec} as one JSON line from
   * the process fifo (`abort` or EOF = give up), so one launch both extracts and runs.
   */
  deferProcess?: boolean;
  /** Set by stage 1 when the process has a terminal: the host path of the pty slave. */
  ttyPath?: string;
  /**
   * cgroups (issue 13): the container's cgroup, made (with its limits) by stage 2 before pivot_root and
   * entered right before `execve`.
   */
  cgroup?: CgroupSpec;
  // --- runtime2 (issue 13) ---
  /** Paths hidden (an empty read-only tmpfs on a dir, /dev/null on a file); absent: {@link MASKED_PATHS}. */
  maskedPaths?: string[];
  /** Paths made read-only; absent: {@link READONLY_PATHS}. */
  readonlyPaths?: string[];
  /** `--init`: host path of the init binary, bound read-only at `/run/podman-init`. */
  init?: string;
  /** `--device`: host device nodes made (mknod, root) or bound (rootless) at `destination`. */
  devices?: { source: string; destination: string }[];
  /** `--sysctl`: written to `/proc/sys` inside the namespaces before `pivot_root`. */
  sysctls?: Record<string, string>;
  /** `--group-add keep-groups`: the process keeps the supplementary groups it was started with. */
  keepGroups?: boolean;
  // --- pods3 (issue 15) ---
  /**
   * Run a namespace holder (`catatonit -P` from the host, lib/ns/holder.ts) instead of stage 2: a pod's
   * default infra container. No root is built, no mount namespace made; `deferProcess` must be set.
   */
  holder?: HolderSpec;
}

/** pods3: what a namespace holder runs (lib/ns/holder.ts): host paths of its binaries. */
export interface HolderSpec {
  /** The host's `catatonit`. */
  catatonit: string;
  /** The host's `hostname` (sets the UTS namespace's name). */
  hostname: string;
}

/** podman's (containers-common's) masked paths of a container that is not privileged. */
export const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/fs/selinux",
  "/sys/dev/block",
  "/sys/devices/virtual/powercap",
];

/** podman's read-only paths of a container that is not privileged. */
export const READONLY_PATHS = [
  "/proc/asound",
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** Where the init binary is bound in the container (podman's path). */
export const INIT_PATH = "/run/podman-init";

/** Files stage 1 and stage 2 share in the state dir. */
export function stateFiles(
  stateDir: string,
): { spec: string; pid: string; fifo: string; processFifo: string } {
  return {
    spec: `${stateDir}/launch.json`,
    pid: `${stateDir}/pid`,
    fifo: `${stateDir}/exec.fifo`,
    processFifo: `${stateDir}/process.fifo`,
  };
}

/** podman's default PATH, used when the container's environment has none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** podman's default capabilities of a container that is not privileged. */
export const DEFAULT_CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];

/** Linux capability names without `CAP_`, by number (`CAPABILITY_NAMES[21]` = `SYS_ADMIN`). */
export const CAPABILITY_NAMES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
]; // deno-fmt-ignore

/** `RLIMIT_*` resources by podman's `--ulimit` names (x86_64 and aarch64 share the numbers). */
export const RLIMITS: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};
