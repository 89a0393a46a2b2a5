/**
 * The records of a container in the store: what it was created with (`config.json`, {@link ContainerConfig}),
 * its mutable state (`state.json`, {@link ContainerState}) and the supervisor's exit record (`exit.json`).
 * Types only, plus the zero time. The files: lib/store/container_paths.ts.
 * @module
 */

import type { ContainerNetConfig } from "./container_net.ts";

/** Lifecycle states, as podman names them. */
export type ContainerStatus = "created" | "running" | "paused" | "stopping" | "exited";

/** A bind, volume or tmpfs mount, as requested and resolved (volumes carry their host path in `source`). */
export interface ContainerMount {
  /** `bind` (host path), `volume` (named or anonymous volume) or `tmpfs`. */
  type: "bind" | "volume" | "tmpfs";
  /** Host path (bind, and volume once resolved). */
  source?: string;
  /** Volume name (volume mounts). */
  name?: string;
  /** True for an anonymous volume (`-v /dst`): removed with `rm -v`. */
  anonymous?: boolean;
  /** Absolute path inside the container. */
  destination: string;
  /** Mounted read-only. */
  readonly: boolean;
  /** Mount propagation (`rprivate`, `rslave`, …). */
  propagation?: string;
  /** Recursive bind (rbind, the default). */
  recursive?: boolean;
  /** tmpfs data (`size=…,mode=…`). */
  data?: string;
  /** The options as the user wrote them. */
  options: string[];
  /** A volume made with `-o type=tmpfs`: a fresh tmpfs (with `data`) at every start. */
  volumeType?: "tmpfs";
  /** A volume that gets the image's content at the destination at its first use (podman's copy-up). */
  copyUp?: boolean;
}

/** The container's process, resolved at create time (the user is resolved against the rootfs at start). */
export interface ContainerProcess {
  /** Effective entrypoint (image's, or `--entrypoint`). */
  entrypoint: string[];
  /** Effective command (image's Cmd, or the args given). */
  cmd: string[];
  /** entrypoint + cmd: what is executed. */
  args: string[];
  /** Environment (`KEY=value`). */
  env: string[];
  /** Working directory. */
  cwd: string;
  /** `user[:group]` as given (`-u`) or from the image; empty = root. */
  user: string;
  /** Allocate a terminal (`-t`). */
  terminal: boolean;
  /** Keep stdin open (`-i`). */
  stdin: boolean;
}

/** One id-map range: `size` ids from `containerId` map to `hostId` onwards (same shape as lib/ns's). */
export interface IdMapEntry {
  /** First id inside the container. */
  containerId: number;
  /** First id on the host. */
  hostId: number;
  /** Number of ids. */
  size: number;
}

/** An image layer to extract into the rootfs. */
export interface ContainerLayer {
  /** Blob digest. */
  digest: string;
  /** Layer media type. */
  mediaType: string;
  /** Blob path in the store. */
  path: string;
  /** Uncompressed digest. */
  diffId?: string;
}

/**
 * Namespace choice: a new one, the host's, or (scope "pods") another container's (`container:<full id>`) or
 * the one at a path (`ns:/path`).
 */
export type NsMode = "private" | "host" | `container:${string}` | `ns:${string}`;

/** What a container was created with (`config.json`). Written once; `name` changes with `rename`. */
export interface ContainerConfig {
  /** 64 hex characters. */
  id: string;
  /** Unique name. */
  name: string;
  /** Creation time, RFC 3339 with nanoseconds. */
  created: string;
  /** The image. */
  image: {
    /** As given on the command line. */
    name: string;
    /** The resolved full reference (`docker.io/library/busybox:latest`), if the image has one. */
    ref?: string;
    /** Image ID (config digest hex). */
    id: string;
    /** Manifest digest. */
    digest?: string;
  };
  /** Layers to extract on first start (copied from the image at create time). */
  layers: ContainerLayer[];
  /** The process. */
  process: ContainerProcess;
  /** Hostname inside the container. */
  hostname: string;
  /** Labels (image labels merged with `--label`). */
  labels: Record<string, string>;
  /** Annotations (`--annotation`). */
  annotations: Record<string, string>;
  /** The mount options as written (`-v`, `--mount`, `--tmpfs`), for inspect. */
  mountArgs: string[];
  /** Resolved mounts. */
  mounts: ContainerMount[];
  /** Namespaces. */
  namespaces: { pid: NsMode; ipc: NsMode; uts: NsMode; net: NsMode };
  /**
   * User namespace: `host` (none, root only), `private` (rootless default), `keep-id`, `auto`, or (rootless,
   * joining another container's namespaces; scope "pods") `container:<id>`, that container's.
   */
  userns: { mode: string; uidMap?: IdMapEntry[]; gidMap?: IdMapEntry[] };
  /** `--privileged`. */
  privileged: boolean;
  /** `--read-only`. */
  readOnly: boolean;
  /** Stop signal name (`SIGTERM`). */
  stopSignal: string;
  /** Seconds `stop` waits before SIGKILL. */
  stopTimeout: number;
  /** `--rm`: removed when it exits. */
  autoRemove: boolean;
  /** The pod command line that created it. */
  createCommand: string[];
  /** `--platform`, when given. */
  platform?: string;
  /** Program name that created it (pod, lilipod). */
  createdBy?: string;
  /** `--cap-add`/`--cap-drop`, `--security-opt`, `--ulimit`, `--oom-score-adj`; absent: podman's defaults. */
  security?: SecurityConfig;
  /** `--runtime` (or the global one) as given: recorded for inspect; pod runs every container itself. */
  ociRuntime?: string;
  /**
   * How the root file system is stored. `overlay`: the image tree `tree` (lib/store/trees.ts) under the
   * container's own upper dir; absent (older stores, or `POD_STORAGE_DRIVER=vfs`): a copy per container.
   */
  storage?: { driver: "overlay"; tree: string };
  // --- runtime3 (issue 13) ---
  /** `--rootfs DIR[:O]`: the root is this host directory (`overlay`: under an upper dir of the container's). */
  rootfsDir?: { path: string; overlay: boolean };
  // ---- netcmd (issue 12): the networks the container is attached to ----
  /**
   * Network name → the container's options on it (netavark's `PerNetworkOptions`), as `create --network`
   * and `network connect`/`disconnect` record them. Absent: no named network.
   */
  networks?: Record<string, PerNetworkOptions>;
  // --- cgroups (issue 13): resource limits ---
  /** `--memory`, `--cpus`, `--pids-limit`… (lib/container/resources.ts); absent: none given (root: defaults). */
  resources?: ResourceConfig;
  // --- scope "pods" (issue 15) ---
  /** The pod it belongs to (full pod id; lib/store/pods.ts). */
  pod?: string;
  /** It is its pod's infra container (holds the shared namespaces, runs `catatonit -P`). */
  isInfra?: boolean;
  // --- pods3 (issue 15) ---
  /** The default infra (catatonit -P): it runs a namespace holder, not stage 2 (lib/ns/holder.ts). */
  isInfraHolder?: boolean;
  // --- runtime2 (issue 13): init, restart policy, health check, devices, groups, sysctls, masks ---
  /** `--init`: the init binary (catatonit) bound at /run/podman-init as pid 1, the command its child. */
  init?: { path: string };
  /** `--restart`: `always`, `on-failure` (with at most `maxRetries` restarts, 0 = unlimited), `unless-stopped`. */
  restartPolicy?: { name: "always" | "on-failure" | "unless-stopped"; maxRetries: number };
  /** The health check (`--health-*` or the image's HEALTHCHECK); absent: none. */
  healthcheck?: HealthcheckConfig;
  /** `--device HOST[:CTR][:perms]`. */
  devices?: DeviceConfig[];
  /** `--group-add` as given (names resolved in the container at start); `keep-groups` kept as a word. */
  groupAdd?: string[];
  /** `--sysctl name=value` (namespaced ones only, checked at create). */
  sysctls?: Record<string, string>;
  /** `--read-only-tmpfs=false`: a `--read-only` container without tmpfs on /run, /tmp, /var/tmp. */
  noReadOnlyTmpfs?: boolean;
  /** `--pidfile`: written with the init's host pid at each start. */
  pidFile?: string;
  /** `--conmon-pidfile`: written with the supervisor's pid (pod's own in the foreground) at each start. */
  conmonPidFile?: string;
  // --- surface2 scope (issue 14): --log-driver / --log-opt (lib/container/log_options.ts) ---
  /** `--log-driver` other than k8s-file: nothing is logged. */
  logDriver?: "none" | "passthrough";
  /** `--log-opt path=`: the log file (default `ctr.log` in the container's directory). */
  logPath?: string;
  /** `--log-opt max-size=` in bytes: past it the log is rotated to `<path>.1`. */
  logMaxSize?: number;
  /** `--log-opt tag=`. */
  logTag?: string;
  /** Other `--log-opt key=value`s, kept as podman keeps them. */
  logOpts?: Record<string, string>;
  /** `--tz`: `local` (the host's /etc/localtime) or a zoneinfo name, bound at /etc/localtime. */
  timezone?: string;
  /** `--timeout N`: seconds after which the container is killed (SIGKILL). */
  timeout?: number;
  // --- net scope (issue 12): networking ---
  /** Network mode, published ports, DNS and hosts settings; absent in records made before networking. */
  net?: ContainerNetConfig;
}

/** A container's options on one network: netavark's per-network options (snake case, as netavark reads them). */
export interface PerNetworkOptions {
  /** The interface inside the container (`eth0`, `eth1`…). */
  interface_name: string;
  /** Static addresses (`--ip`, `--ip6`). */
  static_ips?: string[];
  /** DNS aliases (`--alias`), besides the container's name. */
  aliases?: string[];
  /** Static MAC address (`--mac-address`). */
  static_mac?: string;
}

// --- cgroups (issue 13) ---
/** Limits written to a container's cgroup (the same shape as lib/ns/cgroup.ts's `CgroupLimits`). */
export interface ResourceLimits {
  /** Bytes; memory plus swap in bytes (-1 unlimited); soft limit in bytes; swappiness 0–100. */
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  /** CPU weight, CFS quota and period (µs). */
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  /** cpuset lists (`0-1,3`). */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** Tasks; 0 or -1 unlimited. */
  pidsLimit?: number;
  /** 10–1000. */
  blkioWeight?: number;
}

/** A container's resource settings (see {@link ContainerConfig.resources}). */
export interface ResourceConfig {
  /** What its cgroup gets. */
  limits: ResourceLimits;
  /** `--cpus` × 10⁹ (inspect's `NanoCpus`). */
  nanoCpus?: number;
  /** `--cgroup-parent` (default `/libpod_parent`). */
  cgroupParent?: string;
  /** `--cgroups disabled`: no cgroup of its own. */
  cgroups?: "disabled";
  /** Recorded but not applied (rootless without a delegated cgroup v2 subtree: podman's warning was printed). */
  ignored?: boolean;
}

/** A container's health check, podman's `Config.Healthcheck` plus its on-failure action. */
export interface HealthcheckConfig {
  /** `["CMD-SHELL", "cmd"]` or `["CMD", arg…]`. */
  test: string[];
  /** Nanoseconds between checks; 0 = no timer (`--health-interval disable`: `healthcheck run` only). */
  interval: number;
  /** Nanoseconds a check may take. */
  timeout: number;
  /** Nanoseconds after a start during which failures do not count. */
  startPeriod: number;
  /** Consecutive failures that make the container unhealthy. */
  retries: number;
  /** `none`, `kill`, `restart` or `stop`, once unhealthy. */
  onFailure: "none" | "kill" | "restart" | "stop";
}

/** A `--device` entry. */
export interface DeviceConfig {
  /** Host path. */
  source: string;
  /** Path in the container. */
  destination: string;
  /** cgroup permissions as given (`rwm`; empty: podman's default). */
  permissions: string;
}

/** The security settings of a container (see {@link ContainerConfig.security}). */
export interface SecurityConfig {
  /** Capabilities added to podman's default set (`CAP_` names), `ALL` for every one. */
  capAdd?: string[];
  /** Capabilities dropped from it (`CAP_` names), `ALL` for every one. */
  capDrop?: string[];
  /** Seccomp: `unconfined`, or the absolute path of a profile; absent: containers-common's default profile. */
  seccomp?: string;
  /** `--security-opt no-new-privileges`. */
  noNewPrivileges?: boolean;
  /** `--ulimit name=soft[:hard]` (-1 = unlimited). */
  ulimits?: { name: string; soft: number; hard: number }[];
  /** `--oom-score-adj`. */
  oomScoreAdj?: number;
  /** The `--security-opt` values as given (inspect's `HostConfig.SecurityOpt`). */
  securityOpt?: string[];
}

/** Mutable state (`state.json`). */
export interface ContainerState {
  /** Status. */
  status: ContainerStatus;
  /** Host pid of the container's init process (0 when not running). */
  pid: number;
  /** `/proc/<pid>/stat` start time of that process (guards against pid reuse). */
  pidStart?: number;
  /** Pid of the process that waits for the container (the detached supervisor or the foreground pod). */
  waiterPid?: number;
  /** Start time of `waiterPid` (clock ticks since boot, /proc/<pid>/stat field 22), against pid reuse. */
  waiterStart?: number;
  /** Last start (RFC 3339), or the zero time. */
  startedAt: string;
  /** Last exit (RFC 3339), or the zero time. */
  finishedAt: string;
  /** Last exit code. */
  exitCode: number;
  /** Number of times it was started. */
  restartCount?: number;
  /** Error of the last failed start. */
  error?: string;
  /** Whether the last start was detached (logs in ctr.log). */
  detached?: boolean;
  // --- cgroups (issue 13) ---
  /** The memory limit killed a process of the last run (inspect's `State.OOMKilled`). */
  oomKilled?: boolean;
  /** The running container's cgroup directories (one per hierarchy), which `exec`'d processes join. */
  cgroupDirs?: string[];
  // --- runtime2 (issue 13) ---
  /** Stopped or killed by `stop`/`kill`: the restart policy does not bring it back (podman's StoppedByUser). */
  stoppedByUser?: boolean;
  /** Between an exit and the restart its policy asked for (inspect's `State.Restarting`). */
  restarting?: boolean;
  /** Restarts in a row by the policy (the backoff doubles with each; reset after 10 s of running). */
  restartStreak?: number;
}

/** A container: its config, its (refreshed) state and its directory. */
export interface ContainerRecord {
  /** config.json. */
  config: ContainerConfig;
  /** state.json, refreshed against the live process. */
  state: ContainerState;
  /** `$ROOT/containers/<id>`. */
  dir: string;
}

/** The exit record the supervisor writes. */
export interface ExitRecord {
  /** Exit code (128+signal when killed). */
  exitCode: number;
  /** When it ended (RFC 3339). */
  finishedAt: string;
  /** cgroups (issue 13): the memory limit killed a process of the container. */
  oomKilled?: boolean;
}

/** Go's zero time, as podman prints it for times never set. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";
