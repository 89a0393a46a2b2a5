/**
 * pod as a library: pull images into an OCI layout store and run containers in Linux namespaces, as root or
 * rootless — the same use cases the `pod` CLI runs, driven with data instead of flags. Output is captured,
 * nothing is printed (pull progress and warnings go to an `onEvent` callback), and every failure is a
 * {@link PodError} with podman's exit code and a stable `code`.
 *
 * ```ts
 * import { Pod, PodError } from "./mod.ts";
 *
 * async function demo(root: string): Promise<void> {
 *   const pod = await Pod.open({ root, onEvent: (e) => e.type === "warning" && console.warn(e.message) });
 *   console.log(await pod.images(), await pod.containers({ all: true })); // [] []
 *   try {
 *     await pod.inspect("web");
 *   } catch (e) {
 *     if (!(e instanceof PodError) || e.code !== "NOT_FOUND") throw e;
 *   }
 *   const image = Deno.env.get("POD_DOC_IMAGE"); // e.g. 127.0.0.1:5000/busybox:latest
 *   if (image) {
 *     const img = await pod.pull(image, { tlsVerify: false });
 *     const r = await pod.run({ image: img.ref, args: ["echo", "hi"], remove: true });
 *     console.log(r.exitCode, new TextDecoder().decode(r.stdout)); // 0 "hi\n"
 *     await pod.removeImage(img.ref);
 *   }
 * }
 *
 * // a store needs file and environment access (`deno test -A --doc mod.ts`)
 * const granted = async (name: "write" | "env") => (await Deno.permissions.query({ name })).state === "granted";
 * if (await granted("write") && await granted("env")) {
 *   const root = await Deno.makeTempDir({ prefix: "pod-doc-" });
 *   try {
 *     await demo(root);
 *   } finally {
 *     await Deno.remove(root, { recursive: true });
 *   }
 * }
 * ```
 * @module
 */

/**
 * One store's images, containers, networks and pods: pull, images, removeImage, create, start, run, exec, logs,
 * containers, inspect, stop, kill, wait, remove, createNetwork, networks, inspectNetwork, removeNetwork,
 * createPod, pods, inspectPod, startPod, stopPod, killPod, removePod, podStats, playKube, downKube,
 * generateKube.
 * Containers are named by full id, unique id prefix or name.
 *
 * @example A long-running container
 * ```ts
 * import { Pod } from "./mod.ts";
 *
 * async function serve(pod: Pod, image: string): Promise<string> {
 *   const c = await pod.create({ image, args: ["sh", "-c", "echo up; sleep 1000"], name: "web" });
 *   await pod.start("web");
 *   const e = await pod.exec("web", ["cat", "/etc/hostname"]);
 *   for await (const line of pod.logs("web")) console.log(line.stream, line.time, line.text);
 *   await pod.stop("web", { timeout: 1 });
 *   await pod.remove(c.id, { force: true });
 *   return new TextDecoder().decode(e.stdout);
 * }
 * console.log(typeof serve);
 * ```
 */
export { Pod } from "./lib/api.ts";

/**
 * The one error type: `exitCode` (podman's: 125, 126, 127…), a stable `code` and maybe a `hint`.
 *
 * @example
 * ```ts
 * import { PodError } from "./mod.ts";
 *
 * const e = new PodError("no such container web", { code: "NOT_FOUND" });
 * console.log(e.code, e.exitCode); // NOT_FOUND 125
 * ```
 */
export { PodError } from "./lib/errors.ts";

/**
 * podman's exit codes.
 *
 * @example
 * ```ts
 * import { ExitCode } from "./mod.ts";
 *
 * console.log(ExitCode.Error, ExitCode.CannotInvoke, ExitCode.NotFound); // 125 126 127
 * ```
 */
export { ExitCode } from "./lib/errors.ts";

/**
 * The stable kinds of failure, and the options of a {@link PodError}.
 *
 * @example
 * ```ts
 * import { type ErrorCode, PodError, type PodErrorOptions } from "./mod.ts";
 *
 * const code: ErrorCode = "IN_USE";
 * const options: PodErrorOptions = { code, hint: "remove its containers first" };
 * console.log(new PodError("image is in use", options).hint);
 * ```
 */
export type { ErrorCode, PodErrorOptions } from "./lib/errors.ts";

/**
 * pod's version.
 *
 * @example
 * ```ts
 * import { VERSION } from "./mod.ts";
 *
 * console.log(`pod ${VERSION}`);
 * ```
 */
export { VERSION } from "./lib/version.ts";

/**
 * Opening a store and what it reports: {@link PodOpenOptions}, {@link PodEvent} (pull progress
 * {@link PullEvent}s, warnings, debug notes).
 *
 * @example Progress and warnings to your own display
 * ```ts
 * import type { PodEvent, PodOpenOptions } from "./mod.ts";
 *
 * const options: PodOpenOptions = {
 *   root: "/tmp/store",
 *   onEvent: (e: PodEvent) => {
 *     if (e.type === "blob-progress") console.log(`${e.digest}: ${e.done}/${e.size}`);
 *     else if (e.type === "warning") console.warn(e.message);
 *   },
 * };
 * console.log(options.root);
 * ```
 */
export type { PodEvent, PodOpenOptions } from "./lib/api_types.ts";

/**
 * What a pull reports while it runs.
 *
 * @example
 * ```ts
 * import type { PullEvent } from "./mod.ts";
 *
 * const done: PullEvent = { type: "done", id: "0123" };
 * console.log(done.type);
 * ```
 */
export type { PullEvent } from "./lib/image/events.ts";

/**
 * Images: pull options and result, store listings, removal.
 *
 * @example
 * ```ts
 * import type { ImageInfo, ImageRemoval, PulledImage, PullImageOptions, RegistryCredentials } from "./mod.ts";
 *
 * const credentials: RegistryCredentials = { username: "me", password: "secret" };
 * const options: PullImageOptions = { credentials, platform: "linux/amd64", signal: AbortSignal.timeout(60_000) };
 * const show = (i: ImageInfo | PulledImage) => console.log(i.id.slice(0, 12));
 * const removed: ImageRemoval = { untagged: ["docker.io/library/busybox:latest"], deleted: "0123" };
 * console.log(options.platform, typeof show, removed.untagged.length);
 * ```
 */
export type {
  ImageInfo,
  ImageRemoval,
  ImagesOptions,
  PulledImage,
  PullImageOptions,
  RegistryCredentials,
  RemoveImageOptions,
} from "./lib/api_types.ts";

/**
 * Containers as data: what one is made of, how it runs, what comes back.
 *
 * @example
 * ```ts
 * import type { ContainerOptions, Mount, RunOptions } from "./mod.ts";
 *
 * const mounts: Mount[] = [
 *   { type: "bind", source: "/srv/www", destination: "/www", readonly: true },
 *   { type: "volume", name: "cache", destination: "/cache" },
 *   { type: "tmpfs", destination: "/tmp", size: "64m" },
 * ];
 * const web: ContainerOptions = { image: "busybox", args: ["httpd", "-f"], env: { PORT: "80" }, mounts };
 * const once: RunOptions = { ...web, args: ["ls", "/www"], remove: true, stdout: "piped", stderr: "inherit" };
 * console.log(once.mounts?.length);
 * ```
 */
export type {
  ContainerOptions,
  ContainerRef,
  Mount,
  NamespaceMode,
  OutputMode,
  ProcessOutput,
  RunOptions,
  RunResult,
} from "./lib/api_types.ts";

/**
 * Running containers: exec, logs, stop, remove.
 *
 * @example
 * ```ts
 * import type { ExecOptions, LogEntry, LogsOptions, RemoveOptions, StopOptions } from "./mod.ts";
 *
 * const exec: ExecOptions = { env: { LANG: "C" }, workdir: "/", stdin: new TextEncoder().encode("x") };
 * const logs: LogsOptions = { follow: true, since: new Date(Date.now() - 60_000), tail: 10 };
 * const stop: StopOptions = { timeout: 1 };
 * const rm: RemoveOptions = { force: true, volumes: true };
 * const print = (l: LogEntry) => console.log(`${l.time.toISOString()} ${l.stream} ${l.text}`);
 * console.log(exec.workdir, logs.tail, stop.timeout, rm.force, typeof print);
 * ```
 */
export type { ExecOptions, LogEntry, LogsOptions, RemoveOptions, StopOptions } from "./lib/api_types.ts";

/**
 * Listing and inspecting containers.
 *
 * @example
 * ```ts
 * import type { ContainerInfo, ContainerInspect, ContainerStatus, ListContainersOptions } from "./mod.ts";
 *
 * const all: ListContainersOptions = { all: true };
 * const running = (c: ContainerInfo): boolean => c.status === ("running" satisfies ContainerStatus);
 * const pidOf = (i: ContainerInspect): number => i.State.Pid;
 * console.log(all.all, typeof running, typeof pidOf);
 * ```
 */
export type {
  ContainerInfo,
  ContainerInspect,
  ContainerInspectConfig,
  ContainerInspectMount,
  ContainerInspectState,
  ContainerStatus,
  ListContainersOptions,
} from "./lib/api_types.ts";

/**
 * Networks: what `Pod.createNetwork` takes, and the network objects (netavark's JSON, as podman's
 * `network inspect` prints them).
 *
 * @example
 * ```ts
 * import type { NetworkConfig, NetworkCreateOptions, RemoveNetworkOptions } from "./mod.ts";
 *
 * const create: NetworkCreateOptions = { name: "backend", subnets: ["10.90.0.0/24"], internal: true };
 * const rm: RemoveNetworkOptions = { force: true };
 * const gateways = (n: NetworkConfig) => (n.subnets ?? []).map((s) => s.gateway);
 * console.log(create.name, rm.force, typeof gateways);
 * ```
 */
export type { LeaseRange, NetworkConfig, NetworkSubnet } from "./lib/network/config.ts";
export type { NetworkCreateOptions } from "./lib/network/create.ts";
export type { RemoveNetworkOptions } from "./lib/api_types.ts";

/**
 * Pods (issue 15): what `Pod.createPod` takes, the pods `Pod.pods` / `Pod.inspectPod` return, and
 * `Pod.podStats`'s samples. A container joins a pod with `create({ pod })`.
 *
 * @example
 * ```ts
 * import type { CreatePodOptions, PodInfo, RemovePodOptions } from "./mod.ts";
 *
 * const create: CreatePodOptions = { name: "shop", publish: ["8080:80"], share: ["net", "ipc"] };
 * const rm: RemovePodOptions = { force: true, timeout: 0 };
 * const running = (p: PodInfo) => p.containers.filter((c) => c.status === "running").length;
 * console.log(create.name, rm.force, typeof running);
 * ```
 */
export type {
  CreatePodOptions,
  GenerateKubeOptions,
  PlayKubeOptions,
  PlayKubeResult,
  PodContainer,
  PodContainerUsage,
  PodInfo,
  RemovePodOptions,
  StopPodOptions,
} from "./lib/api_types.ts";
