/**
 * `create`: resolves (pulling if needed) the image, merges its config with a {@link ContainerSpec} (data; the
 * command line's {@link CreateOptions} are converted into one) into a {@link ContainerConfig} and stores the
 * container record. Prints nothing: a pull's progress goes to `onEvent`.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import type { ImageConfig } from "../oci/manifest.ts";
import {
  checkNameFree,
  type ContainerConfig,
  type ContainerMount,
  containerPaths,
  type ContainerRecord,
  createContainerRecord,
  newContainerId,
  nowNano,
  removeContainerRecord,
  validateName,
} from "../store/containers.ts";
import { writeContainerEvents, writeEvents } from "../store/events.ts";
import { removeVolume } from "../store/volumes.ts";
import { resolveVolume } from "../volume/mounts.ts";
import { checkMountRequests, type MountRequest, noCopy, parseMountFlags } from "./mount_options.ts";
import { withLock } from "../store/lock.ts";
import { storePaths } from "../store/paths.ts";
import { randomName } from "./names.ts";
import {
  buildEnv,
  expandEnvArg,
  mergeCommand,
  parseEntrypoint,
  parseLabels,
  readEnvFiles,
} from "./process_options.ts";
import type { PullEvent } from "../image/events.ts";
import { normalizeSignal } from "../oci/signals.ts";
import { isRootless, namespacesFor } from "./namespaces.ts";
import { parseSecurity } from "./security.ts";
import { checkRuntime } from "./runtime_flag.ts";
import type { ResourceConfig, SecurityConfig } from "../store/container_types.ts";
import { parseResources, type ResourceOptions } from "./resources.ts";
import { traceTime, warn } from "../log.ts";
import { groupAdd, initConfig, parseDevice, parseSysctls, restartPolicy } from "./runtime_options.ts";
import { healthcheckConfig, type HealthFlags, type ImageHealthcheck } from "./healthcheck_config.ts";
import { mergeEnv, processExtras, writeCidFile } from "./runtime_options.ts";
import { logOptions } from "./log_options.ts";
import { DEFAULT_PATH } from "../ns/spec.ts";
import { ociRuntimeName } from "./oci_runtime_name.ts";

/**
 * A container to create, as data: what the library API passes; the CLI's flags are converted into it by
 * {@link specFromOptions}.
 */
export interface ContainerSpec {
  /** Image name or id. */
  image: string;
  /** Command and arguments (empty: the image's CMD). */
  args: string[];
  /** Name (default: a generated one). */
  name?: string;
  /** `KEY=value` entries, in order, after the image's (a later one replaces an earlier one). */
  env?: string[];
  /** Mounts. */
  mounts?: MountRequest[];
  /** The mount flags as written (`-v`, `--mount`, `--tmpfs`), kept for inspect. */
  mountArgs?: string[];
  /** `--volumes-from CTR[:ro|rw]`: that container's volume and bind mounts (mounts given here win). */
  volumesFrom?: string[];
  /** Working directory (default: the image's, else `/`). */
  workdir?: string;
  /** `user[:group]` (default: the image's). */
  user?: string;
  /** Entrypoint (undefined: the image's; `[]`: none). */
  entrypoint?: string[];
  /** Hostname. */
  hostname?: string;
  /** Labels (merged over the image's). */
  labels?: Record<string, string>;
  /** Annotations. */
  annotations?: Record<string, string>;
  /** PID namespace: `host` or `private`. */
  pid?: string;
  /** IPC namespace. */
  ipc?: string;
  /** UTS namespace. */
  uts?: string;
  /** Network: `host`, `private`/`none`. */
  network?: string;
  /** Extended privileges. */
  privileged?: boolean;
  /** User namespace: `host`, `private`, `keep-id`, `auto`. */
  userns?: string;
  /** Stop signal (name or number). */
  stopSignal?: string;
  /** Seconds `stop` waits (default 10). */
  stopTimeout?: number;
  /** Read-only root file system. */
  readOnly?: boolean;
  /** Platform of the image to pull. */
  platform?: string;
  /** TLS verification for a pull the create needs (undefined: pull's default). */
  tlsVerify?: boolean;
  /** Pull policy: missing (default), always, never, newer. */
  pull?: string;
  /** Removed when it exits. */
  autoRemove?: boolean;
  /** A pseudo-terminal. */
  tty?: boolean;
  /** Keep stdin open (`-i`). */
  interactive?: boolean;
  /** Program name (lilipod → keep-id by default). */
  argv0?: string;
  /** The whole command line, for inspect. */
  createCommand?: string[];
  /** Capabilities, seccomp, no-new-privileges, ulimits, oom_score_adj (absent: podman's defaults). */
  security?: SecurityConfig;
  /** `--runtime` as given (recorded; pod runs the container itself). */
  ociRuntime?: string;
  // --- net scope (issue 12): networking ---
  /** Every `--network` value (`network` is the first); absent: the default network. */
  networks?: string[];
  /** `-p/--publish` specs. */
  publish?: string[];
  /** `-P`: the image's EXPOSE to random host ports. */
  publishAll?: boolean;
  /** `--dns` servers. */
  dns?: string[];
  /** `--dns-search`. */
  dnsSearch?: string[];
  /** `--dns-option`. */
  dnsOption?: string[];
  /** `--add-host name:ip`. */
  addHost?: string[];
  /** `--no-hosts`. */
  noHosts?: boolean;
  /** `--ip`. */
  ip?: string[];
  /** `--mac-address`. */
  macAddress?: string;
  /** `--network-alias`. */
  networkAlias?: string[];
  /** Events of a pull the create needs (the CLI draws its progress from them). */
  onEvent?: (e: PullEvent) => void;
  // --- scope "pods" (issue 15) ---
  /** `--pod NAME|ID`: the pod to join (its shared namespaces are the infra container's). */
  pod?: string;
  /** Internal: the container is the pod's infra container. */
  isInfra?: boolean;
  /** pods3, internal: the default infra container, which runs a namespace holder (lib/ns/holder.ts). */
  isInfraHolder?: boolean;
  /** Cancels a pull the create needs. */
  signal?: AbortSignal;
  // --- cgroups (issue 13) ---
  /** Resource limits (see lib/container/resources.ts `parseResources`). */
  resources?: ResourceConfig;
  /** Warnings about them (podman's lines: limits ignored or discarded), given to `onWarning`. */
  resourceWarnings?: string[];
  /** Receives warnings as podman prints them (plain lines); default: the log's `warn`. */
  onWarning?: (message: string) => void;
  // --- runtime2 (issue 13) ---
  /** `--init` (catatonit as pid 1), `--init-path`. */
  init?: boolean;
  /** `--init-path`: the init binary on the host. */
  initPath?: string;
  /** `--restart no|always|on-failure[:N]|unless-stopped`. */
  restart?: string;
  /** `--health-*`, `--no-healthcheck` (over the image's HEALTHCHECK). */
  health?: HealthFlags;
  /** `--device HOST[:CTR][:perms]`. */
  devices?: string[];
  /** `--group-add` (`keep-groups`). */
  groupAdd?: string[];
  /** `--sysctl name=value`. */
  sysctls?: string[];
  /** runtime3 (issue 13): `--rootfs`: `image` is a host directory `DIR[:O]` to use as the root. */
  rootfs?: boolean;
  /** `--read-only-tmpfs` (default true). */
  readOnlyTmpfs?: boolean;
  /** `--cidfile`: the new container's id is written there (which must not exist yet). */
  cidFile?: string;
  /** `--pidfile`, `--conmon-pidfile`. */
  pidFile?: string;
  conmonPidFile?: string;
  /** `--tz`. */
  timezone?: string;
  /** `--timeout` seconds (0: none). */
  timeout?: number;
  /** `--env-merge KEY=VALUE`: `${VAR}` in VALUE is the image's VAR (`PATH=/opt/bin:${PATH}`). */
  envMerge?: string[];
  // --- surface2 scope (issue 14) ---
  /** `--log-driver` (k8s-file, json-file, none, passthrough). */
  logDriver?: string;
  /** `--log-opt key=value` (path, max-size, tag). */
  logOpts?: string[];
  /**
   * pods9 (issue 15): an early detached start's id and name (lib/container/start_early.ts): the id is used,
   * its directory (holding the start's run files) taken over; the name is the first one tried when none was
   * given (conmon was started with it).
   */
  preset?: { id: string; name: string };
}

/** Everything `create`/`run` take from the command line, as written. */
export interface CreateOptions extends
  Pick<
    ContainerSpec,
    | "image"
    | "args"
    | "name"
    | "env"
    | "workdir"
    | "user"
    | "hostname"
    | "pid"
    | "ipc"
    | "uts"
    | "network"
    | "privileged"
    | "userns"
    | "stopSignal"
    | "stopTimeout"
    | "readOnly"
    | "platform"
    | "tlsVerify"
    | "pull"
    | "tty"
    | "interactive"
    | "argv0"
    | "createCommand"
    | "onEvent"
    | "onWarning"
    | "pod"
    | "init"
    | "initPath"
    | "restart"
    | "health"
    | "devices"
    | "groupAdd"
    | "sysctls"
    | "readOnlyTmpfs"
    | "rootfs"
    | "cidFile"
    | "pidFile"
    | "conmonPidFile"
    | "preset"
    | "timezone"
    | "logDriver"
    | "logOpts"
    | "timeout"
    | "envMerge"
    | "networks"
    | "publish"
    | "publishAll"
    | "dns"
    | "dnsSearch"
    | "dnsOption"
    | "addHost"
    | "noHosts"
    | "ip"
    | "macAddress"
    | "networkAlias"
  > {
  /** `--env-file`. */
  envFile?: string[];
  /** `-v`. */
  volumes?: string[];
  /** `--mount`. */
  mounts?: string[];
  /** `--tmpfs`. */
  tmpfs?: string[];
  /** `--volumes-from`. */
  volumesFrom?: string[];
  /** `--entrypoint` (undefined: the image's; `""`: none). */
  entrypoint?: string;
  /** `--label`. */
  labels?: string[];
  /** `--annotation`. */
  annotations?: string[];
  /** `--rm`. */
  rm?: boolean;
  /** `-q`: the caller draws no pull progress (see `onEvent`). */
  quiet?: boolean;
  /** `--cap-add`. */
  capAdd?: string[];
  /** `--cap-drop`. */
  capDrop?: string[];
  /** `--security-opt`. */
  securityOpt?: string[];
  /** `--ulimit`. */
  ulimit?: string[];
  /** `--oom-score-adj`. */
  oomScoreAdj?: number;
  /** `--runtime` (or the global one): a name on PATH or a path. */
  runtime?: string;
  /** cgroups (issue 13): `--memory`, `--cpus`, `--pids-limit`… as written. */
  resourceOptions?: ResourceOptions;
  /** The usage hint of a malformed resource flag (`See 'pod run --help'`). */
  usageHint?: string;
  /** `--env-host`: the host's environment, over the image's and under `--env-file`/`-e`. */
  envHost?: boolean;
}

/** Turns command-line options into a {@link ContainerSpec}: parses `-v`/`--mount`/`--tmpfs`, `-e`, env files… */
export async function specFromOptions(o: CreateOptions): Promise<ContainerSpec> {
  if (o.name !== undefined) validateName(o.name);
  const hostEnv = Deno.env.toObject();
  const env = (o.env ?? []).flatMap((e) => expandEnvArg(e, hostEnv));
  const envFile = await readEnvFiles(o.envFile ?? [], hostEnv);
  const {
    env: _e,
    envFile: _f,
    volumes,
    mounts,
    tmpfs,
    labels,
    annotations,
    entrypoint,
    rm,
    quiet: _q,
    capAdd,
    capDrop,
    securityOpt,
    ulimit,
    oomScoreAdj,
    runtime,
    resourceOptions,
    usageHint,
    envHost,
    ...rest
  } = o;
  const { resources, warnings } = parseResources(resourceOptions ?? {}, usageHint);
  const host = envHost ? Object.entries(hostEnv).map(([k, v]) => `${k}=${v}`) : [];
  return {
    resources,
    resourceWarnings: warnings,
    ...rest,
    env: [...host, ...envFile, ...env],
    mounts: parseMountFlags(volumes ?? [], mounts ?? [], tmpfs ?? []),
    mountArgs: [...(volumes ?? []), ...(mounts ?? []), ...(tmpfs ?? [])],
    labels: parseLabels(labels ?? []),
    annotations: parseLabels(annotations ?? []),
    entrypoint: entrypoint === undefined ? undefined : parseEntrypoint(entrypoint),
    autoRemove: rm,
    security: parseSecurity({ capAdd, capDrop, securityOpt, ulimit, oomScoreAdj }),
    ociRuntime: runtime === undefined ? undefined : checkRuntime(runtime),
  };
}

/** Finds the image, pulling it per the pull policy. */
async function imageFor(root: string, o: ContainerSpec) {
  const images = await import("../store/images.ts");
  const policy = o.pull ?? "missing";
  if (!["missing", "always", "never", "newer"].includes(policy)) {
    throw new UsageError(`invalid pull policy "${policy}": use always, missing, never or newer`);
  }
  let img = policy === "always" ? undefined : await images.findImage(root, o.image);
  if (!img) {
    const unknown = () => new PodError(`${o.image}: image not known`, { code: "NOT_FOUND" });
    if (policy === "never") throw unknown();
    if (/^(sha256:)?[a-f0-9]{12,64}$/.test(o.image)) throw unknown();
    const { pullImage } = await import("../image/pull.ts");
    const pulled = await pullImage(root, o.image, {
      quiet: !o.onEvent,
      platform: o.platform || undefined,
      tlsVerify: o.tlsVerify,
      onEvent: o.onEvent,
      signal: o.signal,
    });
    writeEvents(root, { ID: pulled.id, Name: pulled.ref, Status: "pull", Type: "image" });
    img = await images.findImage(root, pulled.id) ?? await images.resolveImage(root, o.image);
  }
  const [config, layers] = await Promise.all([
    images.readImageConfig(root, img),
    images.layerSources(root, img),
  ]);
  return { img, config, layers };
}

/** Resolves named/anonymous volumes to host paths. */
async function resolveMounts(
  root: string,
  reqs: MountRequest[],
  image: ImageConfig,
  volumesFrom: string[] = [],
): Promise<ContainerMount[]> {
  const out: ContainerMount[] = [];
  for (const m of reqs) {
    if (m.type === "volume") {
      const v = await resolveVolume(root, m.anonymous ? undefined : m.name);
      out.push({ ...m, ...v, ...(v.copyUp && noCopy(m) ? { copyUp: false } : {}) });
    } else if (m.type === "bind") {
      try {
        await Deno.stat(m.source!);
      } catch {
        throw new PodError(`statfs ${m.source}: no such file or directory`, { code: "NOT_FOUND" });
      }
      out.push({ ...m });
    } else out.push({ ...m });
  }
  if (volumesFrom.length) {
    const { mountsFrom } = await import("./volumes_from.ts");
    out.push(...await mountsFrom(root, volumesFrom, new Set(out.map((m) => m.destination))));
  }
  // image VOLUMEs become anonymous volumes unless something is mounted there already
  for (const dst of Object.keys(image.config?.Volumes ?? {})) {
    if (out.some((m) => m.destination === dst)) continue;
    const v = await resolveVolume(root);
    out.push({
      type: "volume",
      anonymous: true,
      ...v,
      destination: dst,
      readonly: false,
      options: [],
    });
  }
  return out;
}

/** Creates a container from command-line options and stores its record (state `created`). */
export async function createContainer(root: string, o: CreateOptions): Promise<ContainerRecord> {
  return await createFromSpec(root, await specFromOptions(o));
}

/** Creates a container and stores its record (state `created`). */
export async function createFromSpec(root: string, o: ContainerSpec): Promise<ContainerRecord> {
  if (o.name !== undefined) {
    validateName(o.name);
    await checkNameFree(root, o.name);
  }
  if (o.stopTimeout !== undefined && o.stopTimeout < 0 && o.stopTimeout !== -1) {
    throw new UsageError(`invalid stop timeout ${o.stopTimeout}`);
  }
  const stopSignalFlag = o.stopSignal ? normalizeSignal(o.stopSignal) : undefined;
  for (const w of o.resourceWarnings ?? []) (o.onWarning ?? warn)(w);
  const restart = restartPolicy({ restart: o.restart, rm: o.autoRemove });
  const devices = (o.devices ?? []).map(parseDevice);
  if (devices.length) {
    // runtime3 (issue 13): permissions pod cannot enforce are said, not ignored
    const [{ devicePermissionsWarning }, { cgroupLayout }] = await Promise.all([
      import("./device_cgroup.ts"),
      import("../ns/cgroup.ts"),
    ]);
    const layout = cgroupLayout();
    const w = devicePermissionsWarning(
      devices,
      !!o.privileged,
      layout?.version === 1 && !!layout.mounts.devices,
    );
    if (w) (o.onWarning ?? warn)(w);
  }
  const groups = groupAdd({ groupAdd: o.groupAdd, annotations: o.annotations });
  const init = initConfig({ init: o.init, initPath: o.initPath });
  const extra = { ...await processExtras(o), ...logOptions(o.logDriver, o.logOpts) };
  const reqs = checkMountRequests(o.mounts ?? []);
  // pods: a member joins the namespaces its pod shares (lib/container/pod/members.ts)
  const pod = o.pod ? await (await import("./pod/members.ts")).joinPod(root, o) : undefined;
  if (pod) o = pod.spec;
  const { namespaces, userns } = await namespacesFor(o);
  const sysctls = parseSysctls(o.sysctls, namespaces);
  const rootless = isRootless();
  // pods: container:ID / ns:PATH namespaces (lib/container/ns_join.ts)
  const joined = Object.values(namespaces).some((m) => m.includes(":"))
    ? await (await import("./ns_join.ts")).resolveJoins(root, namespaces, userns, o.userns)
    : {};

  // runtime3 (issue 13): --rootfs: the "image" argument is a host directory
  const rootfsDir = o.rootfs ? (await import("./rootfs_dir.ts")).parseRootfsArg(o.image) : undefined;
  const { img, config: imgConfig, layers } = rootfsDir
    ? (await import("./rootfs_dir.ts")).rootfsImage(rootfsDir.path)
    : await imageFor(root, o);
  if (rootfsDir && ociRuntimeName(o.ociRuntime)) {
    throw new UsageError(
      `--rootfs runs with pod's own runtime only, not --runtime ${ociRuntimeName(o.ociRuntime)}`,
    );
  }
  traceTime("create: image found");
  // pods5: leftovers of interrupted creates (no name, over 5 minutes old) are cleaned beside this create
  const orphans = import("./lifecycle.ts").then(({ cleanOrphans }) => cleanOrphans(root)).catch(() => 0);
  const ic = imgConfig.config ?? {};
  const id = o.preset?.id ?? newContainerId();
  const hostname = o.hostname ?? joined.hostname ??
    (namespaces.uts === "host" || namespaces.net === "host" ? Deno.hostname() : id.slice(0, 12));
  const cmd = mergeCommand(ic, o.entrypoint, o.args);
  const terminal = !!o.tty;
  let user = o.user ?? ic.User ?? "";
  if (o.user === undefined && userns.mode === "keep-id" && rootless) user = `${Deno.uid()}:${Deno.gid()}`;
  const mounts = await resolveMounts(root, reqs, imgConfig, o.volumesFrom);
  const healthcheck = healthcheckConfig(o.health ?? {}, ic.Healthcheck as ImageHealthcheck | undefined);
  const stopSignal = stopSignalFlag ?? (ic.StopSignal ? normalizeSignal(ic.StopSignal) : "SIGTERM");
  const config: ContainerConfig = {
    id,
    name: o.name ?? o.preset?.name ?? randomName(),
    created: nowNano(),
    image: { name: o.image, ref: img.names[0], id: img.id, digest: img.digest },
    layers: layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, path: l.path, diffId: l.diffId })),
    process: {
      entrypoint: cmd.entrypoint,
      cmd: cmd.cmd,
      args: cmd.args,
      env: buildEnv({
        imageEnv: ic.Env,
        envFile: [],
        env: [...(o.env ?? []), ...mergeEnv(o.envMerge, [`PATH=${DEFAULT_PATH}`, ...(ic.Env ?? [])])],
        hostname,
        terminal,
      }),
      cwd: o.workdir || ic.WorkingDir || "/",
      user,
      terminal,
      stdin: !!o.interactive,
    },
    hostname,
    labels: { ...(ic.Labels ?? {}), ...(o.labels ?? {}) },
    annotations: { ...(o.annotations ?? {}) },
    mountArgs: o.mountArgs ?? [],
    mounts,
    namespaces,
    userns,
    privileged: !!o.privileged,
    readOnly: !!o.readOnly,
    stopSignal,
    stopTimeout: o.stopTimeout ?? 10,
    autoRemove: !!o.autoRemove,
    createCommand: o.createCommand ?? [],
    platform: o.platform,
    createdBy: o.argv0,
    security: o.security,
    ociRuntime: o.ociRuntime,
    storage: rootfsDir ? undefined : await storageFor(layers.map((l) => l.digest), userns),
    ...(pod ? { pod: pod.id } : {}),
    ...(o.isInfra ? { isInfra: true } : {}),
    ...(o.isInfra && o.isInfraHolder ? { isInfraHolder: true } : {}), // pods3
    // runtime2 (issue 13)
    ...(init ? { init } : {}),
    ...(restart ? { restartPolicy: restart } : {}),
    ...(healthcheck ? { healthcheck } : {}),
    ...(devices.length ? { devices } : {}),
    ...(groups ? { groupAdd: groups } : {}),
    ...(sysctls ? { sysctls } : {}),
    ...(o.readOnlyTmpfs === false ? { noReadOnlyTmpfs: true } : {}),
    // runtime3 (issue 13)
    ...(rootfsDir ? { rootfsDir } : {}),
    ...extra,
    net: await netConfigFor({ ...o, root }, ic.ExposedPorts ?? undefined, rootless),
  };
  if (o.resources) config.resources = o.resources; // cgroups (issue 13)
  if (!config.process.cwd.startsWith("/")) {
    throw new PodError(`workdir "${config.process.cwd}" must be an absolute path`, { code: "USAGE" });
  }
  try {
    traceTime("create: config made");
    const rec = await createContainerRecord(root, config, {
      nextName: o.name === undefined ? randomName : undefined,
      into: !!o.preset,
    });
    if (o.cidFile) await writeCidFile(o.cidFile, rec.config.id);
    // --rootfs DIR: the container's rootfs is a link to it (readers work unchanged; rm removes the link)
    if (rootfsDir && !rootfsDir.overlay) Deno.symlinkSync(rootfsDir.path, containerPaths(root, id).rootfs);
    // an `rmi` may have removed the image since it was resolved: `rmi` checks for users and deletes under the
    // store lock, so checking under that lock after the record exists closes the race one way or the other
    const { findImage } = await import("../store/images.ts");
    const gone = !rootfsDir &&
      await withLock(storePaths(root).lock, async () => !(await findImage(root, config.image.id)));
    if (gone) {
      await removeContainerRecord(root, rec.config.id).catch(() => {});
      throw new PodError(`${o.image}: image not known (it was removed while the container was created)`, {
        code: "NOT_FOUND",
      });
    }
    writeContainerEvents(root, rec, ["create"]);
    traceTime("create: record written");
    return rec;
  } catch (e) {
    for (const m of mounts) if (m.anonymous && m.name) await removeVolume(root, m.name).catch(() => {});
    throw e;
  } finally {
    await orphans;
  }
}

/**
 * The root file system's storage: `overlay` (default: the image tree shared by every container of the image
 * with the same id maps, plus the container's upper dir) or `vfs` (a full copy per container), chosen with
 * `POD_STORAGE_DRIVER` (podman's `--storage-driver` names).
 */
async function storageFor(
  layerDigests: string[],
  userns: ContainerConfig["userns"],
): Promise<ContainerConfig["storage"]> {
  const driver = Deno.env.get("POD_STORAGE_DRIVER") || "overlay";
  if (driver === "vfs") return undefined;
  if (driver !== "overlay") {
    throw new PodError(`unknown storage driver "${driver}" (POD_STORAGE_DRIVER): use overlay or vfs`);
  }
  const { treeKey } = await import("../store/trees.ts");
  return { driver: "overlay", tree: await treeKey(layerDigests, userns) };
}

/** The networking part of the config (net scope, issue 12): mode, published ports, DNS and hosts flags. */
async function netConfigFor(
  o: ContainerSpec & { root?: string },
  exposed: Record<string, unknown> | undefined,
  rootless: boolean,
): Promise<ContainerConfig["net"]> {
  const [{ parseNetwork }, ports] = await Promise.all([
    import("../network/mode.ts"),
    import("../network/ports.ts"),
  ]);
  const values = o.networks ?? (o.network !== undefined ? [o.network] : []);
  const network = parseNetwork(values, rootless, { ip: o.ip, mac: o.macAddress, aliases: o.networkAlias });
  if (network.mode === "bridge" && o.root) {
    const { loadNetwork } = await import("../network/config.ts");
    for (const name of Object.keys(network.networks ?? {})) await loadNetwork(o.root, name);
  }
  let maps = (o.publish ?? []).flatMap(ports.parsePublish);
  if (o.publishAll) maps.push(...ports.exposedMappings(exposed, maps));
  if (maps.length && (network.mode === "host" || network.mode === "none" || network.mode === "other")) {
    const { warn } = await import("../log.ts");
    warn(
      "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use",
    );
    maps = [];
  }
  for (const h of o.addHost ?? []) {
    const i = h.indexOf(":");
    if (i <= 0 || !ports.isIP(h.slice(i + 1).replace(/^\[|\]$/g, "")) && h.slice(i + 1) !== "host-gateway") {
      throw new UsageError(`invalid IP address in add-host: "${h.slice(i + 1)}"`);
    }
  }
  for (const d of o.dns ?? []) {
    if (!ports.isIP(d) && d !== "none") throw new UsageError(`${d} is not an ip address`);
  }
  return {
    network,
    ports: ports.assignHostPorts(maps),
    dns: o.dns?.length ? o.dns : undefined,
    dnsSearch: o.dnsSearch?.length ? o.dnsSearch : undefined,
    dnsOptions: o.dnsOption?.length ? o.dnsOption : undefined,
    addHosts: o.addHost?.length ? o.addHost : undefined,
    noHosts: o.noHosts || undefined,
  };
}
