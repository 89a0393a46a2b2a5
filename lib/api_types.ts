/**
 * The data the library API ({@link "./api.ts"}) takes and returns: options are plain data (mounts, an
 * environment map…), never command-line flag strings; results are typed summaries.
 *
 * One file over 400 lines on purpose: the API's whole data vocabulary, declarations only.
 * @module
 */

import type { PullEvent } from "./image/events.ts";

/** Something the library reports while it works: pull progress, warnings and (with `POD_DEBUG`) debug notes. */
export type PodEvent =
  | PullEvent
  | { type: "warning"; message: string }
  | { type: "debug"; message: string };

/** Options of `Pod.open`. */
export interface PodOpenOptions {
  /** The store (default: as the CLI: `$POD_HOME`, else `$XDG_DATA_HOME/pod`, else `~/.local/share/pod`). */
  root?: string;
  /** Receives pull progress, warnings and debug notes (the library never prints). */
  onEvent?: (e: PodEvent) => void;
}

/** Registry credentials. */
export interface RegistryCredentials {
  /** User name. */
  username: string;
  /** Password or access token. */
  password: string;
}

/** Options of `Pod.pull`. */
export interface PullImageOptions {
  /** `os/arch[/variant]` (default: this machine's). */
  platform?: string;
  /**
   * `false`: HTTPS without certificate verification, plain HTTP only when the registry has no TLS (default
   * true).
   */
  tlsVerify?: boolean;
  /** A directory of the registry's CA `*.crt` and client `*.cert`/`*.key` (default: podman's `certs.d`). */
  certDir?: string;
  /** Credentials (default: looked up in `auth.json` / the docker config). */
  credentials?: RegistryCredentials;
  /** An explicit `auth.json`. */
  authFile?: string;
  /** Cancels the pull (a `CANCELLED` PodError; nothing is registered). */
  signal?: AbortSignal;
}

/** A pulled image. */
export interface PulledImage {
  /** Image ID (hex of the config digest). */
  id: string;
  /** The full name it is stored under (`docker.io/library/busybox:latest`). */
  ref: string;
  /** The digest the reference resolved to (the index's when there was one). */
  digest: string;
}

/** Options of `Pod.images`. */
export interface ImagesOptions {
  /** Also the intermediate images (nameless images another image was built on), as `podman images -a`. */
  all?: boolean;
}

/** One image of the store. */
export interface ImageInfo {
  /** Image ID (hex of the config digest). */
  id: string;
  /** Full names; empty for a dangling image. */
  names: string[];
  /** Digest of its platform manifest. */
  digest: string;
  /** Creation time from its config (else when it was stored). */
  created: Date;
  /** Bytes in the store (manifest, config and compressed layers). */
  size: number;
  /** `os/arch[/variant]`. */
  platform: string;
}

/** A mount into a container. */
export type Mount =
  | {
    /** A host directory or file. */
    type: "bind";
    /** Absolute host path. */
    source: string;
    /** Absolute path in the container. */
    destination: string;
    /** Read-only. */
    readonly?: boolean;
    /** Propagation (default `rprivate`). */
    propagation?: "rprivate" | "private" | "rslave" | "slave" | "rshared" | "shared";
    /** Bind sub-mounts too (default true). */
    recursive?: boolean;
  }
  | {
    /** A named volume (made when missing), or a new anonymous one without `name`. */
    type: "volume";
    /** Volume name. */
    name?: string;
    /** Absolute path in the container. */
    destination: string;
    /** Read-only. */
    readonly?: boolean;
  }
  | {
    /** A fresh tmpfs. */
    type: "tmpfs";
    /** Absolute path in the container. */
    destination: string;
    /** Size limit (`64m`, `1g`, bytes). */
    size?: string;
    /** Mode of its root (octal text, `1777`). */
    mode?: string;
    /** Read-only. */
    readonly?: boolean;
  };

/** A namespace the container gets of its own (`private`) or shares with the host (`host`). */
export type NamespaceMode = "private" | "host";

/** What a container is made of (`Pod.create`, `Pod.run`). */
export interface ContainerOptions {
  /** Image name or ID (pulled when missing, per `pull`). */
  image: string;
  /** Command and arguments (default: the image's CMD). */
  args?: string[];
  /** Name (default: a generated one). */
  name?: string;
  /** Entrypoint (default: the image's; `[]`: none). */
  entrypoint?: string[];
  /** Environment, over the image's. */
  env?: Record<string, string>;
  /** Mounts. */
  mounts?: Mount[];
  /** Working directory (absolute; default: the image's). */
  workdir?: string;
  /** `user[:group]`, names or ids (default: the image's). */
  user?: string;
  /** Hostname (default: the id's first 12 characters). */
  hostname?: string;
  /** Labels (over the image's). */
  labels?: Record<string, string>;
  /** Annotations. */
  annotations?: Record<string, string>;
  /** PID namespace (default private). */
  pid?: NamespaceMode;
  /** IPC namespace (default private). */
  ipc?: NamespaceMode;
  /** UTS namespace (default private). */
  uts?: NamespaceMode;
  /**
   * Network: `private` (the default: slirp4netns rootless, the `podman` bridge network as root) or the host's;
   * `networks` takes podman's other modes.
   */
  network?: NamespaceMode;
  /** `--network` values as podman takes them (`none`, `slirp4netns:allow_host_loopback=true`, `pasta`, a name…). */
  networks?: string[];
  /** Published ports, `-p`'s forms (`127.0.0.1:8080:80/tcp`). */
  publish?: string[];
  /** User namespace when rootless: `private` (default) or `keep-id`. As root the host's ids are used. */
  userns?: "private" | "keep-id";
  /** Extended privileges. */
  privileged?: boolean;
  /** Read-only root file system. */
  readOnly?: boolean;
  /** Stop signal (default: the image's, else SIGTERM). */
  stopSignal?: string;
  /** Seconds `stop` waits before SIGKILL (default 10). */
  stopTimeout?: number;
  /** Pull policy for the image (default `missing`). */
  pull?: "missing" | "always" | "never" | "newer";
  /** Platform of an image to pull. */
  platform?: string;
  /** TLS verification for a pull (default true). */
  tlsVerify?: boolean;
  /** Cancels a pull the create needs (and, for `run`, the container: it is killed). */
  signal?: AbortSignal;
  // ---- pods2 (issue 15) ----
  /** The pod to join (name, id or unique id prefix): its shared namespaces are its infra container's. */
  pod?: string;
}

/** A created container. */
export interface ContainerRef {
  /** Full id (64 hex characters). */
  id: string;
  /** Name. */
  name: string;
}

/** Where a container's or exec's output goes: collected (`piped`), discarded, or this process's own. */
export type OutputMode = "piped" | "null" | "inherit";

/** Options of `Pod.run`. */
export interface RunOptions extends ContainerOptions {
  /** Remove the container (and its anonymous volumes) once it has ended. */
  remove?: boolean;
  /** Its stdout (default `piped`). */
  stdout?: OutputMode;
  /** Its stderr (default `piped`). */
  stderr?: OutputMode;
}

/** What `Pod.run` and `Pod.exec` return. */
export interface ProcessOutput {
  /** Exit code (128+N when killed by signal N). */
  exitCode: number;
  /** Collected stdout (empty unless `piped`). */
  stdout: Uint8Array;
  /** Collected stderr (empty unless `piped`). */
  stderr: Uint8Array;
}

/** What `Pod.run` returns. */
export interface RunResult extends ProcessOutput, ContainerRef {}

/** Options of `Pod.exec`. */
export interface ExecOptions {
  /** Extra environment. */
  env?: Record<string, string>;
  /** `user[:group]` (default: the container's). */
  user?: string;
  /** Working directory (default: the container's). */
  workdir?: string;
  /** Bytes for its stdin (default: none). */
  stdin?: Uint8Array;
  /** Its stdout (default `piped`). */
  stdout?: OutputMode;
  /** Its stderr (default `piped`). */
  stderr?: OutputMode;
  /** Kills the process. */
  signal?: AbortSignal;
}

/** Options of `Pod.logs`. */
export interface LogsOptions {
  /** Keep reading while the container runs. */
  follow?: boolean;
  /** Only records written at or after this time. */
  since?: Date;
  /** Only records written at or before this time. */
  until?: Date;
  /** Only the last n lines already written. */
  tail?: number;
  /** Ends a follow. */
  signal?: AbortSignal;
}

/** A container's state. */
export type ContainerStatus = "created" | "running" | "paused" | "stopping" | "exited";

/** One container of the store. */
export interface ContainerInfo {
  /** Full id. */
  id: string;
  /** Name. */
  name: string;
  /** The image as given at create. */
  image: string;
  /** The image ID. */
  imageId: string;
  /** Entrypoint plus command. */
  command: string[];
  /** State. */
  status: ContainerStatus;
  /** Creation time. */
  created: Date;
  /** Last start (undefined: never started). */
  startedAt?: Date;
  /** Last end (undefined: has not ended). */
  finishedAt?: Date;
  /** Exit code of its last run. */
  exitCode: number;
  /** Host pid of its init while it runs, else 0. */
  pid: number;
  /** Labels. */
  labels: Record<string, string>;
}

/** Options of `Pod.containers`. */
export interface ListContainersOptions {
  /** Include containers that are not running. */
  all?: boolean;
}

/** Options of `Pod.stop`. */
export interface StopOptions {
  /** Seconds to wait after the stop signal before SIGKILL (default: the container's stop timeout). */
  timeout?: number;
}

/** Options of `Pod.remove`. */
export interface RemoveOptions {
  /** Stop a running container first. */
  force?: boolean;
  /** Also remove its anonymous volumes. */
  volumes?: boolean;
  /** With `force`: seconds to wait before SIGKILL (default: its stop timeout). */
  timeout?: number;
}

/** Options of `Pod.removeImage`. */
export interface RemoveImageOptions {
  /** Remove the containers using the image too, and an image with several names given by ID. */
  force?: boolean;
}

/** What `Pod.removeImage` did. */
export interface ImageRemoval {
  /** The names removed. */
  untagged: string[];
  /** The image ID, when the whole image was removed (not just one of its names). */
  deleted?: string;
}

/** One record of a container's log. */
export interface LogEntry {
  /** Which stream. */
  stream: "stdout" | "stderr";
  /** When it was written. */
  time: Date;
  /** The text, without its newline. */
  text: string;
  /** The line goes on in the next record of the stream (no newline yet). */
  partial: boolean;
}

/** The `State` of a {@link ContainerInspect}. */
export interface ContainerInspectState {
  /** `created`, `running`, `paused`, `stopping`, `exited`. */
  Status: ContainerStatus;
  /** Running. */
  Running: boolean;
  /** Paused. */
  Paused: boolean;
  /** Host pid of the init (0 when not running). */
  Pid: number;
  /** Exit code of the last run. */
  ExitCode: number;
  /** Why the last start failed. */
  Error: string;
  /** RFC 3339 (`0001-01-01T00:00:00Z`: never). */
  StartedAt: string;
  /** RFC 3339 (`0001-01-01T00:00:00Z`: not yet). */
  FinishedAt: string;
  /** podman's other state fields. */
  [field: string]: unknown;
}

/** A mount in a {@link ContainerInspect}. */
export interface ContainerInspectMount {
  /** `bind`, `volume` or `tmpfs`. */
  Type: string;
  /** Volume name. */
  Name?: string;
  /** Host path. */
  Source: string;
  /** Path in the container. */
  Destination: string;
  /** Writable. */
  RW: boolean;
  /** Options (`rbind`…). */
  Options: string[];
  /** Propagation. */
  Propagation: string;
  /** podman's other mount fields. */
  [field: string]: unknown;
}

/** The `Config` of a {@link ContainerInspect}. */
export interface ContainerInspectConfig {
  /** Hostname. */
  Hostname: string;
  /** User. */
  User: string;
  /** Environment (`KEY=value`). */
  Env: string[];
  /** Command. */
  Cmd: string[];
  /** Entrypoint. */
  Entrypoint: string[];
  /** Image name. */
  Image: string;
  /** Working directory. */
  WorkingDir: string;
  /** Labels. */
  Labels: Record<string, string>;
  /** Annotations. */
  Annotations: Record<string, string>;
  /** Stop signal. */
  StopSignal: string;
  /** Stop timeout in seconds. */
  StopTimeout: number;
  /** Has a terminal. */
  Tty: boolean;
  /** podman's other config fields. */
  [field: string]: unknown;
}

/** `pod inspect`'s object for a container: podman's shape (podman 5 field names). */
export interface ContainerInspect {
  /** Full id. */
  Id: string;
  /** Name. */
  Name: string;
  /** Creation time, RFC 3339 with nanoseconds. */
  Created: string;
  /** The command. */
  Path: string;
  /** Its arguments. */
  Args: string[];
  /** State. */
  State: ContainerInspectState;
  /** Image ID. */
  Image: string;
  /** Image name. */
  ImageName: string;
  /** Mounts. */
  Mounts: ContainerInspectMount[];
  /** Configuration. */
  Config: ContainerInspectConfig;
  /** Host configuration (namespaces, binds, id maps…). */
  HostConfig: Record<string, unknown>;
  /** podman's other fields. */
  [field: string]: unknown;
}

// ---- netcmd (issue 12): networks ----

/** Options of `Pod.removeNetwork`. */
export interface RemoveNetworkOptions {
  /** Remove the containers attached to it first (else a network in use is refused with `IN_USE`). */
  force?: boolean;
  /** With `force`: seconds to wait before SIGKILL when stopping them (default 10). */
  timeout?: number;
}

// ---- pods2 (issue 15): pods ----

/** What `Pod.createPod` takes (`pod pod create`'s options). */
export interface CreatePodOptions {
  /** Name (default: a generated one). */
  name?: string;
  /** Labels. */
  labels?: Record<string, string>;
  /** The hostname its members share (default: the pod's name). */
  hostname?: string;
  /** An infra container holding the shared namespaces (default true). */
  infra?: boolean;
  /** The namespaces the members share: `net`, `ipc`, `uts`, `pid` (default net, ipc, uts). */
  share?: string[];
  /** `stop`: the infra is stopped once every member has exited (default `continue`). */
  exitPolicy?: "continue" | "stop";
  /** Ports published on the pod (its infra container), `-p`'s forms. */
  publish?: string[];
  /** The pod's network, `--network`'s values (`none`, `host`, `slirp4netns`, a network name…). */
  network?: string;
  /** `--userns` of the infra container (and so of the members). */
  userns?: string;
}

/** A container of a pod. */
export interface PodContainer {
  /** Full id. */
  id: string;
  /** Name. */
  name: string;
  /** Its state. */
  status: ContainerStatus;
  /** The pod's infra container. */
  infra: boolean;
}

/** A pod as `Pod.pods` / `Pod.inspectPod` return it. */
export interface PodInfo {
  /** Full id (64 hex characters). */
  id: string;
  /** Name. */
  name: string;
  /** podman's pod status: `Created`, `Running`, `Degraded`, `Paused`, `Exited` or `Stopped`. */
  status: string;
  /** Creation time. */
  created: Date;
  /** Labels. */
  labels: Record<string, string>;
  /** The infra container's id (absent without infra). */
  infraId?: string;
  /** The shared namespaces. */
  share: string[];
  /** Published ports as given. */
  publish: string[];
  /** Its containers, infra first. */
  containers: PodContainer[];
}

/** Options of `Pod.stopPod`. */
export interface StopPodOptions {
  /** Seconds each container gets before SIGKILL (default: each one's stop timeout). */
  timeout?: number;
}

/** Options of `Pod.removePod`. */
export interface RemovePodOptions {
  /** Stop running containers first (else a running pod is refused with `STATE`). */
  force?: boolean;
  /** With `force`: seconds before SIGKILL. */
  timeout?: number;
}

/** One running container's resource usage (`Pod.podStats`), as numbers. */
export interface PodContainerUsage {
  /** The pod's id. */
  podId: string;
  /** The container's id. */
  id: string;
  /** The container's name. */
  name: string;
  /** CPU % since it started. */
  cpuPercent: number;
  /** Memory in use, bytes. */
  memUsage: number;
  /** Its limit (the host's memory without one). */
  memLimit: number;
  /** Bytes received and sent (undefined on the host's network). */
  netInput?: number;
  /** Bytes sent. */
  netOutput?: number;
  /** Block I/O read, bytes. */
  blockInput: number;
  /** Block I/O written, bytes. */
  blockOutput: number;
  /** Processes. */
  pids: number;
}

/** Options of `Pod.playKube` (`kube play`'s). */
export interface PlayKubeOptions {
  /** Start the pods (default true). */
  start?: boolean;
  /** Remove pods of the same names first. */
  replace?: boolean;
  /** The network of every pod (`--network`'s values). */
  network?: string;
  /** Ports published on every pod, `-p`'s forms. */
  publish?: string[];
  /** ConfigMap YAML texts (`--configmap` files' content). */
  configmaps?: string[];
  /** TLS verification of the pulls (default: the registries' configuration). */
  tlsVerify?: boolean;
}

/** What `Pod.playKube` made. */
export interface PlayKubeResult {
  /** Per pod: its id, name, and its containers' and init containers' ids. */
  pods: { id: string; name: string; containers: string[]; initContainers: string[] }[];
  /** The named volumes of its PersistentVolumeClaims. */
  volumes: string[];
}

/** Options of `Pod.generateKube`. */
export interface GenerateKubeOptions {
  /** Also a Service for the published ports. */
  service?: boolean;
  /** `pod` (default) or `deployment`. */
  type?: "pod" | "deployment";
}
