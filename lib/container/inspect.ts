/**
 * `inspect` for containers: podman's JSON shape (podman 5 field names) from a container record with its
 * refreshed state. Loads nothing heavy.
 * @module
 */

import { networkMode, networkProblem, networkSettings } from "../network/inspect.ts";
import { portBindings } from "../network/ports.ts";
import {
  containerPaths,
  type ContainerRecord,
  lookupContainerId,
  readContainer,
} from "../store/containers.ts";
import { treePath } from "../store/trees.ts";
import { containerCapabilities } from "./security.ts";
import { hostConfigResources } from "./resources.ts";
import { addRuntimeInspect } from "./inspect_runtime.ts";
import { logFileOf } from "./log_options.ts";
import { humanSize } from "../format/units.ts";

/** Looks a container up (name, id, prefix); `undefined` when there is none. Other errors propagate. */
export async function findContainerRecord(
  root: string,
  nameOrId: string,
): Promise<ContainerRecord | undefined> {
  let id: string;
  try {
    id = await lookupContainerId(root, nameOrId);
  } catch (e) {
    if (e instanceof Error && /no such container/.test(e.message)) return undefined;
    throw e;
  }
  return await readContainer(root, id);
}

async function dirSize(path: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(path)) {
      const p = `${path}/${e.name}`;
      try {
        const st = await Deno.lstat(p);
        if (st.isDirectory) n += await dirSize(p);
        else n += st.size;
      } catch { /* raced */ }
    }
  } catch { /* unreadable */ }
  return n;
}

/** The podman-shaped inspect object of a record. */
export async function inspectRecord(
  root: string,
  rec: ContainerRecord,
  opts: { size?: boolean } = {},
): Promise<Record<string, unknown>> {
  const c = rec.config, s = rec.state;
  const cp = containerPaths(root, c.id);
  const caps = containerCapabilities(c);
  const running = s.status === "running" || s.status === "paused" || s.status === "stopping";
  const mounts = c.mounts.map((m) => ({
    Type: m.type,
    ...(m.type === "volume" ? { Name: m.name } : {}),
    Source: m.type === "tmpfs" ? "tmpfs" : m.source ?? "",
    Destination: m.destination,
    Driver: m.type === "volume" ? "local" : "",
    Mode: "",
    Options: m.type === "tmpfs"
      ? (m.data ? m.data.split(",") : [])
      : [m.recursive === false ? "bind" : "rbind"],
    RW: !m.readonly,
    Propagation: m.type === "tmpfs" ? "" : m.propagation ?? "rprivate",
  }));
  const nsMode = (v: string) => (v === "host" || v.includes(":") ? v : "private");
  // runtime3: --rootfs DIR:O is an overlay whose lower is the directory
  const lower = c.storage
    ? treePath(root, c.storage.tree)
    : c.rootfsDir?.overlay
    ? c.rootfsDir.path
    : undefined;
  const graph = lower
    ? {
      Name: "overlay",
      Data: { LowerDir: lower, UpperDir: cp.upper, WorkDir: cp.work, MergedDir: cp.rootfs },
    }
    : { Name: "vfs", Data: { MergedDir: cp.rootfs } };
  const out: Record<string, unknown> = {
    Id: c.id,
    Created: c.created,
    Path: c.process.args[0] ?? "",
    Args: c.process.args.slice(1),
    State: {
      OciVersion: "1.1.0",
      Status: s.status,
      Running: s.status === "running",
      Paused: s.status === "paused",
      Restarting: false,
      OOMKilled: !!s.oomKilled,
      Dead: false,
      Pid: running ? s.pid : 0,
      ConmonPid: running ? s.waiterPid ?? 0 : 0,
      ExitCode: s.exitCode,
      Error: s.error ?? await networkProblem(root, c, running) ?? "",
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
      CheckpointedAt: "0001-01-01T00:00:00Z",
      RestoredAt: "0001-01-01T00:00:00Z",
      // surface (issue 14): fields podman scripts read
      StoppedByUser: !!s.stoppedByUser,
      Health: { Status: "", FailingStreak: 0, Log: null },
    },
    Image: c.image.id,
    ImageDigest: c.image.digest ?? "",
    ImageName: c.image.ref ?? c.image.name,
    Rootfs: c.rootfsDir ? `${c.rootfsDir.path}${c.rootfsDir.overlay ? ":O" : ""}` : "",
    Pod: c.pod ?? "",
    ResolvConfPath: `${cp.userdata}/resolv.conf`,
    HostnamePath: `${cp.userdata}/hostname`,
    HostsPath: `${cp.userdata}/hosts`,
    StaticDir: cp.userdata,
    OCIRuntime: c.ociRuntime ?? "pod",
    ConmonPidFile: "",
    PidFile: `${cp.dir}/run/pid`,
    Name: c.name,
    RestartCount: s.restartCount ?? 0,
    Driver: graph.Name,
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    EffectiveCaps: caps,
    BoundingCaps: caps,
    ExecIDs: [],
    GraphDriver: graph,
    Mounts: mounts,
    Dependencies: [],
    NetworkSettings: await networkSettings(
      root,
      c,
      running,
      running && c.namespaces.net === "private" ? `/proc/${s.pid}/ns/net` : "",
    ),
    Namespace: "",
    IsInfra: !!c.isInfra,
    IsService: false,
    KubeExitCodePropagation: "invalid",
    lockNumber: 0,
    Config: {
      Hostname: c.hostname,
      Domainname: "",
      User: c.process.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: c.process.terminal,
      OpenStdin: c.process.stdin,
      StdinOnce: false,
      Env: c.process.env,
      Cmd: c.process.cmd,
      Image: c.image.ref ?? c.image.name,
      Volumes: null,
      WorkingDir: c.process.cwd,
      Entrypoint: c.process.entrypoint,
      OnBuild: null,
      Labels: c.labels,
      Annotations: c.annotations,
      StopSignal: c.stopSignal,
      StopTimeout: c.stopTimeout,
      CreateCommand: c.createCommand,
      Umask: "0022",
      Timezone: "",
      Timeout: 0,
      Passwd: true,
    },
    HostConfig: {
      Binds: c.mounts.filter((m) => m.type !== "tmpfs").map((m) =>
        `${m.type === "volume" ? m.name : m.source}:${m.destination}:${
          m.readonly ? "ro" : "rw"
        },rprivate,rbind`
      ),
      AutoRemove: c.autoRemove,
      NetworkMode: c.namespaces.net.includes(":") ? c.namespaces.net : networkMode(c),
      PortBindings: portBindings(c.net?.ports ?? []),
      PidMode: nsMode(c.namespaces.pid),
      IpcMode: nsMode(c.namespaces.ipc),
      UTSMode: nsMode(c.namespaces.uts),
      UsernsMode: c.userns.mode === "host" ? "" : c.userns.mode,
      Privileged: c.privileged,
      ReadonlyRootfs: c.readOnly,
      CapAdd: c.security?.capAdd ?? [],
      CapDrop: c.security?.capDrop ?? [],
      SecurityOpt: c.security?.securityOpt ?? [],
      OomScoreAdj: c.security?.oomScoreAdj ?? 0,
      Ulimits: (c.security?.ulimits ?? []).map((u) => ({
        Name: `RLIMIT_${u.name.toUpperCase()}`,
        Soft: u.soft,
        Hard: u.hard,
      })),
      Tmpfs: Object.fromEntries(
        c.mounts.filter((m) => m.type === "tmpfs").map((m) => [m.destination, m.data ?? ""]),
      ),
      RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
      ...hostConfigResources(c),
      // surface (issue 14): the log pod writes (`pod logs`), podman's k8s-file driver
      LogConfig: {
        Type: c.logDriver ?? "k8s-file",
        Config: c.logOpts ?? null,
        Path: logFileOf(root, c),
        Tag: c.logTag ?? "",
        Size: c.logMaxSize ? humanSize(c.logMaxSize).replace(" ", "") : "0B",
      },
      IDMappings: c.userns.uidMap
        ? {
          UidMap: c.userns.uidMap.map((m) => `${m.containerId}:${m.hostId}:${m.size}`),
          GidMap: (c.userns.gidMap ?? []).map((m) => `${m.containerId}:${m.hostId}:${m.size}`),
        }
        : undefined,
    },
  };
  addRuntimeInspect(root, rec, out);
  if (opts.size) {
    // overlay: the container's changes are its upper dir, on top of the image tree
    const size = await dirSize(lower ? cp.upper : cp.rootfs);
    out.SizeRw = size;
    out.SizeRootFs = lower ? size + await dirSize(lower) : size;
  }
  return out;
}

/**
 * podman's `inspect` data for the container `nameOrId`, with its state refreshed; `undefined` when there is
 * no such container.
 */
export async function containerInspectData(
  root: string,
  nameOrId: string,
  opts: { size?: boolean } = {},
): Promise<Record<string, unknown> | undefined> {
  const rec = await findContainerRecord(root, nameOrId);
  return rec ? await inspectRecord(root, rec, opts) : undefined;
}
