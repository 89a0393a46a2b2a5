/**
 * The typed library API: {@link Pod}, one store's images and containers, driven with data (no flag strings),
 * output captured, nothing printed (progress and warnings go to `onEvent`), every failure a `PodError` with a
 * stable `code`. The same use cases as the CLI's.
 *
 * One file over 400 lines on purpose: it is the one class the library exports, a thin method per use case.
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type {
  ContainerInfo,
  ContainerInspect,
  ContainerOptions,
  ContainerRef,
  CreatePodOptions,
  ExecOptions,
  GenerateKubeOptions,
  ImageInfo,
  ImageRemoval,
  ImagesOptions,
  ListContainersOptions,
  LogEntry,
  LogsOptions,
  Mount,
  OutputMode,
  PlayKubeOptions,
  PlayKubeResult,
  PodContainerUsage,
  PodEvent,
  PodInfo,
  PodOpenOptions,
  ProcessOutput,
  PulledImage,
  PullImageOptions,
  RemoveImageOptions,
  RemoveNetworkOptions,
  RemoveOptions,
  RemovePodOptions,
  RunOptions,
  RunResult,
  StopOptions,
  StopPodOptions,
} from "./api_types.ts";
import { PodError } from "./errors.ts";
import { setLogHandler } from "./log.ts";
import { type ContainerSpec, createFromSpec } from "./container/create.ts";
import { execCaptured } from "./container/exec.ts";
import { containerInspectData } from "./container/inspect.ts";
import { killById, removeById, stopById, waitExited } from "./container/lifecycle.ts";
import { parseTime, readLogs } from "./container/logs.ts";
import type { MountRequest } from "./container/mount_options.ts";
import { psList } from "./container/ps.ts";
import { startDetached } from "./container/start.ts";
import { pruneTrees } from "./container/trees_gc.ts";
import { pullImage } from "./image/pull.ts";
import { removeImage } from "./image/remove.ts";
import { summarizeAll } from "./image/summary.ts";
import { parentIds } from "./image/intermediate.ts";
import { type ContainerRecord, lookupContainerId, readContainer, ZERO_TIME } from "./store/containers.ts";
import { collectGarbage } from "./store/gc.ts";
import { ensureStore } from "./store/images.ts";
import { storeRoot } from "./store/paths.ts";
import { loadNetwork, type NetworkConfig } from "./network/config.ts";
import type { NetworkCreateOptions } from "./network/create.ts";
import { createNetwork, getNetwork, listNetworks, removeNetwork } from "./network/store.ts";

/** The `onEvent` of the Pod whose call is running: warnings deep in the use cases reach the right one. */
const listener = new AsyncLocalStorage<(e: PodEvent) => void>();
let routed = false;

/** Sends lib/log.ts's warnings and debug notes to the calling Pod's `onEvent` (never to stderr). */
function routeLogs(): void {
  if (routed) return;
  routed = true;
  setLogHandler((level, message) => {
    listener.getStore()?.(level === "warn" ? { type: "warning", message } : { type: "debug", message });
  });
}

const enc = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function timeOf(rfc3339: string): Date | undefined {
  if (!rfc3339 || rfc3339 === ZERO_TIME) return undefined;
  const ms = parseTime(rfc3339);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function envList(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).map(([k, v]) => {
    if (!k || k.includes("=") || /\s/.test(k)) {
      throw new PodError(`invalid environment variable name "${k}"`, { code: "USAGE" });
    }
    return `${k}=${v}`;
  });
}

function mountRequest(m: Mount): MountRequest {
  switch (m.type) {
    case "bind":
      return {
        type: "bind",
        source: m.source,
        destination: m.destination,
        readonly: !!m.readonly,
        propagation: m.propagation,
        recursive: m.recursive,
        options: [],
      };
    case "volume":
      return {
        type: "volume",
        name: m.name,
        destination: m.destination,
        readonly: !!m.readonly,
        options: [],
      };
    case "tmpfs": {
      const data = [m.size ? `size=${m.size}` : "", m.mode ? `mode=${m.mode}` : ""].filter((x) => x);
      return {
        type: "tmpfs",
        destination: m.destination,
        readonly: !!m.readonly,
        data: data.join(","),
        options: [],
      };
    }
    default:
      throw new PodError(`unknown mount type "${(m as { type: unknown }).type}"`, { code: "USAGE" });
  }
}

function containerInfo(r: ContainerRecord): ContainerInfo {
  const s = r.state;
  return {
    id: r.config.id,
    name: r.config.name,
    image: r.config.image.ref ?? r.config.image.name,
    imageId: r.config.image.id,
    command: [...r.config.process.args],
    status: s.status,
    created: timeOf(r.config.created) ?? new Date(0),
    startedAt: timeOf(s.startedAt),
    finishedAt: s.status === "exited" ? timeOf(s.finishedAt) : undefined,
    exitCode: s.exitCode,
    pid: s.status === "running" || s.status === "paused" ? s.pid : 0,
    labels: { ...r.config.labels },
  };
}

/**
 * One store's images and containers. Every method accepts a container's full id, a unique id prefix or its
 * name; every failure is a `PodError` (`code`: `NOT_FOUND`, `IN_USE`, `STATE`, `REGISTRY`,
 * `DIGEST_MISMATCH`, `CANCELLED`…). Containers run detached, supervised like `pod run -d`: they outlive the
 * script unless it stops or removes them.
 *
 * @example Run a command and read its output
 * ```ts ignore
 * const pod = await Pod.open({ root: "/tmp/store" });
 * const img = await pod.pull("127.0.0.1:5000/busybox:latest", { tlsVerify: false });
 * const r = await pod.run({ image: img.ref, args: ["echo", "hi"], remove: true });
 * console.log(r.exitCode, new TextDecoder().decode(r.stdout)); // 0 "hi\n"
 * ```
 */
export class Pod {
  /** The store's directory. */
  readonly root: string;
  readonly #emit: (e: PodEvent) => void;

  private constructor(root: string, onEvent?: (e: PodEvent) => void) {
    this.root = root;
    this.#emit = (e) => {
      try {
        onEvent?.(e);
      } catch { /* a listener's failure is not the operation's */ }
    };
  }

  /** Opens (creating it when missing) the store at `options.root`, by default the CLI's. */
  static async open(options: PodOpenOptions = {}): Promise<Pod> {
    routeLogs();
    const pod = new Pod(options.root ?? storeRoot(), options.onEvent);
    await pod.#call(() => ensureStore(pod.root));
    return pod;
  }

  /** Runs `fn` with this Pod's `onEvent` receiving the warnings it causes. */
  #call<T>(fn: () => Promise<T>): Promise<T> {
    return listener.run(this.#emit, fn);
  }

  async #id(nameOrId: string): Promise<string> {
    return await lookupContainerId(this.root, nameOrId);
  }

  /** Pulls an image from its registry; progress goes to `onEvent`. */
  pull(reference: string, options: PullImageOptions = {}): Promise<PulledImage> {
    return this.#call(async () => {
      const r = await pullImage(this.root, reference, {
        platform: options.platform,
        tlsVerify: options.tlsVerify,
        certDir: options.certDir,
        credentials: options.credentials,
        authFile: options.authFile,
        signal: options.signal,
        onEvent: this.#emit,
      });
      return { id: r.id, ref: r.ref, digest: r.digest };
    });
  }

  /**
   * The images of the store, newest first. As `podman images`, nameless images that another image was built
   * on (a build's intermediate steps) are left out unless `all`.
   *
   * @example
   * ```ts ignore
   * const pod = await Pod.open();
   * const everything = await pod.images({ all: true });
   * ```
   */
  images(options: ImagesOptions = {}): Promise<ImageInfo[]> {
    return this.#call(async () => {
      const all = await summarizeAll(this.root);
      const parents = options.all
        ? new Set<string>()
        : parentIds(all.map((s) => ({ id: s.record.id, config: s.config })));
      return all.filter((s) => s.record.names.length > 0 || !parents.has(s.record.id)).map((s) => ({
        id: s.record.id,
        names: [...s.record.names],
        digest: s.record.digest,
        created: s.created,
        size: s.size,
        platform: [s.config.os, s.config.architecture, s.config.variant].filter((x) => x).join("/"),
      }));
    });
  }

  /**
   * Removes an image: just the name given while it has others, else the whole image and the blobs nothing
   * else uses. Refused (`IN_USE`) while containers use it, unless `force` (they are removed too).
   */
  removeImage(nameOrId: string, options: RemoveImageOptions = {}): Promise<ImageRemoval> {
    return this.#call(async () => {
      const r = await removeImage(this.root, nameOrId, {
        force: options.force,
        removeContainer: (id) => removeById(this.root, id, { force: true, timeout: 0 }),
      });
      await collectGarbage(this.root);
      await pruneTrees(this.root);
      return r;
    });
  }

  /** Creates a container (pulling its image when missing, per `pull`), not started. */
  create(options: ContainerOptions): Promise<ContainerRef> {
    return this.#call(async () => {
      const rec = await createFromSpec(this.root, this.#spec(options));
      return { id: rec.config.id, name: rec.config.name };
    });
  }

  #spec(o: ContainerOptions, autoRemove = false): ContainerSpec {
    return {
      image: o.image,
      args: [...(o.args ?? [])],
      name: o.name,
      entrypoint: o.entrypoint,
      env: envList(o.env),
      mounts: (o.mounts ?? []).map(mountRequest),
      workdir: o.workdir,
      user: o.user,
      hostname: o.hostname,
      labels: o.labels,
      annotations: o.annotations,
      pid: o.pid,
      ipc: o.ipc,
      uts: o.uts,
      network: o.network,
      networks: o.networks,
      publish: o.publish,
      pod: o.pod,
      userns: o.userns,
      privileged: o.privileged,
      readOnly: o.readOnly,
      stopSignal: o.stopSignal,
      stopTimeout: o.stopTimeout,
      pull: o.pull,
      platform: o.platform,
      tlsVerify: o.tlsVerify,
      autoRemove,
      onEvent: this.#emit,
      signal: o.signal,
    };
  }

  /** Starts a container, detached; resolves once its command runs (at once when it already runs). */
  start(nameOrId: string): Promise<void> {
    return this.#call(async () => {
      await startDetached(this.root, await this.#id(nameOrId));
    });
  }

  /**
   * Creates and starts a container and waits for it to end; its stdout and stderr are collected (`piped`,
   * the default; passed through the container's log as text, so bytes that are not UTF-8 are replaced),
   * discarded or written to this process's. An aborted `signal` kills it (a `CANCELLED` PodError).
   */
  run(options: RunOptions): Promise<RunResult> {
    return this.#call(async () => {
      const rec = await createFromSpec(this.root, this.#spec(options));
      const { id, name } = rec.config;
      try {
        const out = await this.#runStarted(id, options);
        return { id, name, ...out };
      } finally {
        if (options.remove) await removeById(this.root, id, { force: true, volumes: true, timeout: 0 });
      }
    });
  }

  async #runStarted(id: string, o: RunOptions): Promise<ProcessOutput> {
    const signal = o.signal;
    signal?.throwIfAborted();
    await startDetached(this.root, id);
    const kill = () => killById(this.root, id, "SIGKILL").catch(() => {});
    if (signal?.aborted) await kill(); // while it was starting
    else signal?.addEventListener("abort", kill, { once: true });
    const parts = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
    const modes: Record<"stdout" | "stderr", OutputMode> = {
      stdout: o.stdout ?? "piped",
      stderr: o.stderr ?? "piped",
    };
    try {
      for await (const r of readLogs(this.root, id, { follow: true, pollMs: 20 })) {
        const mode = modes[r.stream];
        if (mode === "null") continue;
        const bytes = enc.encode(r.text + (r.partial ? "" : "\n"));
        if (mode === "piped") parts[r.stream].push(bytes);
        else {
          try {
            (r.stream === "stdout" ? Deno.stdout : Deno.stderr).writeSync(bytes);
          } catch { /* closed */ }
        }
      }
      const done = await waitExited(this.root, id);
      if (signal?.aborted) {
        throw new PodError(`container ${id.slice(0, 12)} cancelled`, { code: "CANCELLED" });
      }
      return { exitCode: done.state.exitCode, stdout: concat(parts.stdout), stderr: concat(parts.stderr) };
    } finally {
      signal?.removeEventListener("abort", kill);
    }
  }

  /**
   * Runs a command in a running container (no terminal) and waits for it; its output is collected by default.
   * A command that is not found fails with exit code 127 (`COMMAND_NOT_FOUND`), one that cannot run 126.
   */
  exec(nameOrId: string, args: string[], options: ExecOptions = {}): Promise<ProcessOutput> {
    return this.#call(async () => {
      if (!args.length) throw new PodError("exec needs a command", { code: "USAGE" });
      const rec = await readContainer(this.root, await this.#id(nameOrId));
      return await execCaptured(this.root, rec, {
        args,
        env: envList(options.env),
        user: options.user,
        workdir: options.workdir,
        tty: false,
        interactive: false,
      }, {
        stdout: options.stdout ?? "piped",
        stderr: options.stderr ?? "piped",
        stdin: options.stdin,
        signal: options.signal,
      });
    });
  }

  /**
   * A container's log, record by record (stdout and stderr in the order written); with `follow`, until it
   * is no longer running (or `signal` aborts).
   */
  async *logs(nameOrId: string, options: LogsOptions = {}): AsyncGenerator<LogEntry> {
    const id = await this.#id(nameOrId);
    const records = readLogs(this.root, id, {
      follow: options.follow,
      since: options.since?.getTime(),
      until: options.until?.getTime(),
      tail: options.tail,
      signal: options.signal,
    });
    for await (const r of records) yield { stream: r.stream, time: r.time, text: r.text, partial: r.partial };
  }

  /** The containers of the store (only running ones unless `all`), newest first. */
  containers(options: ListContainersOptions = {}): Promise<ContainerInfo[]> {
    return this.#call(async () => (await psList(this.root, { all: options.all })).map(containerInfo));
  }

  /** podman's inspect object of a container, its state refreshed. */
  inspect(nameOrId: string): Promise<ContainerInspect> {
    return this.#call(async () => {
      const data = await containerInspectData(this.root, await this.#id(nameOrId));
      if (!data) {
        throw new PodError(`no container with name or ID "${nameOrId}" found: no such container`, {
          code: "NOT_FOUND",
        });
      }
      return data as ContainerInspect;
    });
  }

  /**
   * Stops a container: its stop signal, then SIGKILL after `timeout` seconds. Resolves when it has ended (at
   * once when it was not running).
   */
  stop(nameOrId: string, options: StopOptions = {}): Promise<void> {
    return this.#call(async () => {
      await stopById(this.root, await this.#id(nameOrId), options.timeout);
    });
  }

  /** Sends a signal (default SIGKILL) to a running container's init (`STATE` when it is not running). */
  kill(nameOrId: string, signal: string = "SIGKILL"): Promise<void> {
    return this.#call(async () => {
      await killById(this.root, await this.#id(nameOrId), signal);
    });
  }

  /** Waits for a container to end; resolves with its exit code. */
  wait(nameOrId: string): Promise<number> {
    return this.#call(async () => (await waitExited(this.root, await this.#id(nameOrId))).state.exitCode);
  }

  /** Removes a container (`STATE` while it runs, unless `force`: then it is stopped first). */
  remove(nameOrId: string, options: RemoveOptions = {}): Promise<void> {
    return this.#call(async () => {
      await removeById(this.root, await this.#id(nameOrId), options);
    });
  }

  /**
   * Creates a network (podman's `network create`): a bridge with the first free `10.89.x.0/24` unless
   * `subnets` are given, stored as netavark's JSON. Bad input is a `USAGE` error, a taken name `EXISTS`.
   *
   * @example
   * ```ts ignore
   * const net = await pod.createNetwork({ name: "backend", subnets: ["10.90.0.0/24"], labels: { app: "shop" } });
   * console.log(net.id, net.subnets?.[0].gateway); // … 10.90.0.1
   * ```
   */
  createNetwork(options: NetworkCreateOptions): Promise<NetworkConfig> {
    return this.#call(() => createNetwork(this.root, options));
  }

  /**
   * The store's networks (the default `podman` network included), sorted by name.
   *
   * @example
   * ```ts ignore
   * for (const n of await pod.networks()) console.log(n.name, n.driver, n.subnets?.map((s) => s.subnet));
   * ```
   */
  networks(): Promise<NetworkConfig[]> {
    return this.#call(async () => (await listNetworks(this.root)).map((n) => n.config));
  }

  /**
   * One network by name, id or unique id prefix (`NOT_FOUND` when there is none).
   *
   * @example
   * ```ts ignore
   * const n = await pod.inspectNetwork("podman");
   * console.log(n.network_interface, n.dns_enabled); // podman0 false
   * ```
   */
  inspectNetwork(nameOrId: string): Promise<NetworkConfig> {
    return this.#call(() => loadNetwork(this.root, nameOrId));
  }

  /**
   * Removes a network: `NOT_FOUND` when missing, `IN_USE` while containers are attached to it unless
   * `force` (they are removed first); the default network cannot be removed.
   *
   * @example
   * ```ts ignore
   * await pod.removeNetwork("backend", { force: true });
   * ```
   */
  removeNetwork(nameOrId: string, options: RemoveNetworkOptions = {}): Promise<void> {
    return this.#call(async () => {
      if (options.force) {
        const n = await getNetwork(this.root, nameOrId);
        for (const id of n.containers) {
          await removeById(this.root, id, { force: true, timeout: options.timeout ?? 10 });
        }
      }
      await removeNetwork(this.root, nameOrId);
    });
  }

  // ---- pods2 (issue 15): pods ----

  /**
   * Creates a pod (with its infra container unless `infra: false`, from the local catatonit image: no pull).
   * Members join it with `create({ pod })`; a taken name is `EXISTS`, bad options `USAGE`.
   *
   * @example
   * ```ts ignore
   * const p = await pod.createPod({ name: "shop", publish: ["8080:80"] });
   * await pod.create({ image: "busybox", args: ["httpd", "-f"], pod: p.id });
   * await pod.startPod("shop");
   * ```
   */
  createPod(options: CreatePodOptions = {}): Promise<PodInfo> {
    return this.#call(async () => {
      const { createPod } = await import("./container/pod/pods.ts");
      const p = await createPod(this.root, { ...options, share: options.share?.join(",") });
      return await this.#podInfo(p.id);
    });
  }

  /** The store's pods, newest first. */
  pods(): Promise<PodInfo[]> {
    return this.#call(async () => {
      const { listPods } = await import("./store/pods.ts");
      const out: PodInfo[] = [];
      for (const p of await listPods(this.root)) out.push(await this.#podInfo(p.id));
      return out;
    });
  }

  /** One pod by name, id or unique id prefix (`NOT_FOUND` when there is none). */
  inspectPod(nameOrId: string): Promise<PodInfo> {
    return this.#call(() => this.#podInfo(nameOrId));
  }

  /** Starts a pod: its infra, then every member not running. */
  startPod(nameOrId: string): Promise<void> {
    return this.#call(async () => {
      await (await import("./container/pod/pods.ts")).startPod(this.root, nameOrId);
    });
  }

  /** Stops a pod: every member, then the infra. */
  stopPod(nameOrId: string, options: StopPodOptions = {}): Promise<void> {
    return this.#call(async () => {
      await (await import("./container/pod/pods.ts")).stopPod(this.root, nameOrId, options.timeout);
    });
  }

  /** Sends a signal (default SIGKILL) to every running container of a pod (`STATE` when none runs). */
  killPod(nameOrId: string, signal: string = "SIGKILL"): Promise<void> {
    return this.#call(async () => {
      await (await import("./container/pod/pods.ts")).killPod(this.root, nameOrId, signal);
    });
  }

  /** Removes a pod with its containers (`STATE` while one runs, unless `force`). */
  removePod(nameOrId: string, options: RemovePodOptions = {}): Promise<void> {
    return this.#call(async () => {
      await (await import("./container/pod/pods.ts")).removePod(this.root, nameOrId, options);
    });
  }

  /**
   * Resource usage of the running containers of the named pods (default: every pod), from their cgroups.
   * Rootless without a cgroup v2 subtree of the user's own: `podman`'s error (`GENERIC`).
   */
  podStats(namesOrIds: string[] = []): Promise<PodContainerUsage[]> {
    return this.#call(async () => {
      const { checkStatsSupported } = await import("./container/stats.ts");
      const { podStatsTargets, samplePods } = await import("./container/pod/stats.ts");
      checkStatsSupported();
      const samples = await samplePods(this.root, await podStatsTargets(this.root, { names: namesOrIds }));
      return samples.map((s) => ({
        podId: s.podId,
        id: s.id,
        name: s.name,
        cpuPercent: s.cpuPercent,
        memUsage: s.memUsage,
        memLimit: s.memLimit,
        netInput: s.netInput,
        netOutput: s.netOutput,
        blockInput: s.blockInput,
        blockOutput: s.blockOutput,
        pids: s.pids,
      }));
    });
  }

  async #podInfo(nameOrId: string): Promise<PodInfo> {
    const { getPod } = await import("./store/pods.ts");
    const { applyExitPolicy, podStatus } = await import("./container/pod/pods.ts");
    const p = await getPod(this.root, nameOrId);
    const ctrs = await applyExitPolicy(this.root, p);
    return {
      id: p.id,
      name: p.name,
      status: podStatus(ctrs),
      created: timeOf(p.created) ?? new Date(0),
      labels: { ...p.labels },
      ...(p.infraId ? { infraId: p.infraId } : {}),
      share: [...p.share],
      publish: [...p.ports],
      containers: ctrs.map((c) => ({
        id: c.config.id,
        name: c.config.name,
        status: c.state.status,
        infra: !!c.config.isInfra,
      })),
    };
  }

  /**
   * Runs Kubernetes YAML as `kube play` does (Pods, Deployments, ConfigMaps, Secrets, PVCs…): unsupported
   * fields are `warning` events, invalid YAML one `USAGE` error naming the document and line.
   *
   * @example
   * ```ts ignore
   * const r = await pod.playKube(await Deno.readTextFile("app.yaml"), { tlsVerify: false });
   * console.log(r.pods.map((p) => `${p.name}: ${p.containers.length} containers`));
   * ```
   */
  playKube(yaml: string, options: PlayKubeOptions = {}): Promise<PlayKubeResult> {
    return this.#call(async () => {
      const { playKube } = await import("./container/kube/play.ts");
      return await playKube(this.root, yaml, {
        start: options.start,
        replace: options.replace,
        network: options.network,
        publish: options.publish,
        configmaps: (options.configmaps ?? []).map((text, i) => ({ name: `#${i + 1}`, text })),
        tlsVerify: options.tlsVerify,
        onWarning: (message) => this.#emit({ type: "warning", message }),
        onEvent: this.#emit,
      });
    });
  }

  /** Stops and removes the pods the YAML names (`kube down`); returns their ids (missing ones skipped). */
  downKube(yaml: string): Promise<string[]> {
    return this.#call(async () => (await import("./container/kube/play.ts")).downKube(this.root, yaml));
  }

  /** Kubernetes YAML (a v1 Pod, or an apps/v1 Deployment; a Service with `service`) of pods or containers. */
  generateKube(namesOrIds: string[], options: GenerateKubeOptions = {}): Promise<string> {
    return this.#call(async () =>
      (await import("./container/kube/generate.ts")).generateKube(this.root, namesOrIds, options)
    );
  }
}
