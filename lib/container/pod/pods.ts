/**
 * Pod use cases (scope "pods", issue 15): create (with its infra container), the members, the pod's
 * status as podman computes it, start/stop/kill/pause/restart of every member, removal. Prints nothing.
 *
 * The infra container runs `catatonit -P` from the locally built infra image (infra_image.ts) and holds the
 * namespaces the pod shares; members join them at start (lib/container/ns_join.ts), so the infra is started
 * first, and stopped last. `--exit-policy stop`: when the pod is read (ps, inspect, start of nothing) and
 * every member has exited, the infra is stopped too (there is no daemon to do it at the moment the last
 * member exits).
 * @module
 */

import { PodError, UsageError } from "../../errors.ts";
import { type ContainerRecord, listContainers, nowNano, validateName } from "../../store/containers.ts";
import {
  createPodRecord,
  getPod,
  newPodId,
  type PodRecord,
  removePodRecord,
  withPodsLock,
  writePodRecord,
} from "../../store/pods.ts";
import { randomName } from "../names.ts";
import { traceTime } from "../../log.ts";

/** What `pod create` takes. */
export interface PodCreateOptions {
  /** `--name` (default: a generated name). */
  name?: string;
  /** `--label KEY=VALUE`. */
  labels?: Record<string, string>;
  /** `--hostname` (default: the pod's name). */
  hostname?: string;
  /** `--infra` (default true). */
  infra?: boolean;
  /** `--share` (default `ipc,net,uts`). */
  share?: string;
  /** `--exit-policy` (default `continue`). */
  exitPolicy?: string;
  /** `-p` as written. */
  publish?: string[];
  /** `--infra-image` (default: the local catatonit image). */
  infraImage?: string;
  /** `--infra-command`. */
  infraCommand?: string[];
  /** `--infra-name` (default `<pod id prefix>-infra`). */
  infraName?: string;
  /** `--network` of the infra container (its network namespace is the pod's). */
  network?: string;
  /** `--userns` of the infra container (and so of every member, rootless). */
  userns?: string;
  /** The command line, for inspect. */
  createCommand?: string[];
}

const SHAREABLE = ["net", "ipc", "uts", "pid"];

/** Parses `--share`: a comma list of net, ipc, uts, pid (podman also knows cgroup and none). */
export function parseShare(v: string | undefined): string[] {
  if (v === undefined) return ["net", "uts", "ipc"];
  const out: string[] = [];
  for (const raw of v.split(",").map((s) => s.trim()).filter((s) => s)) {
    const k = raw.replace(/^\+/, "");
    if (k === "none") return [];
    if (k === "cgroup") continue; // pod puts no container in a cgroup of its own
    if (!SHAREABLE.includes(k)) {
      throw new UsageError(`invalid kernel namespace to share: ${raw}: use net, ipc, uts, pid or none`);
    }
    if (!out.includes(k)) out.push(k);
  }
  return out;
}

/** Creates a pod and (unless `infra: false`) its infra container. Returns the pod record. */
export async function createPod(root: string, o: PodCreateOptions): Promise<PodRecord> {
  if (o.name !== undefined) validateName(o.name);
  const share = parseShare(o.share);
  const exitPolicy = o.exitPolicy ?? "continue";
  if (exitPolicy !== "continue" && exitPolicy !== "stop") {
    throw new UsageError(`invalid pod exit policy "${exitPolicy}": use continue or stop`);
  }
  const infra = o.infra ?? true;
  if (!infra && share.length && o.share !== undefined) {
    throw new UsageError("--share requires an infra container (not with --infra=false)");
  }
  if (!infra && (o.publish?.length || o.infraImage || o.infraCommand)) {
    throw new UsageError(
      "-p, --infra-image and --infra-command need an infra container (not with --infra=false)",
    );
  }
  const id = newPodId();
  const name = o.name ?? randomName();
  const pod: PodRecord = {
    id,
    name,
    created: nowNano(),
    labels: o.labels ?? {},
    hostname: o.hostname ?? name,
    share: infra ? share : [],
    exitPolicy,
    ports: o.publish ?? [],
    createCommand: o.createCommand ?? [],
    ...(o.infraImage || o.infraCommand || o.infraName
      ? { infraOptions: { image: o.infraImage, command: o.infraCommand, name: o.infraName } }
      : {}),
  };
  const image = infra ? o.infraImage ?? await (await import("./infra_image.ts")).ensureInfraImage(root) : "";
  traceTime("pod create: infra image found");
  // pods7 (issue 15): without fsync when the infra follows: its record is rewritten durably with the infra id
  await withPodsLock(root, () => createPodRecord(root, pod, !infra));
  traceTime("pod create: pod record written");
  if (!infra) return pod;
  try {
    const { createFromSpec } = await import("../create.ts");
    const rec = await createFromSpec(root, {
      image,
      args: o.infraCommand ?? [],
      ...(o.infraCommand ? { entrypoint: [] } : {}),
      name: o.infraName ?? `${id.slice(0, 12)}-infra`,
      hostname: pod.hostname,
      pid: "private",
      network: o.network,
      userns: o.userns,
      pod: id,
      isInfra: true,
      // pods3: the default infra runs a namespace holder (no stage 2)
      isInfraHolder: !o.infraImage && !o.infraCommand,
      stopTimeout: 10,
      createCommand: o.createCommand,
      // the infra container owns the pod's network namespace: the pod's ports are published on it
      publish: o.publish,
    });
    pod.infraId = rec.config.id;
    await writePodRecord(root, pod);
  } catch (e) {
    await removePodRecord(root, id).catch(() => {});
    throw e;
  }
  return pod;
}

/** The containers of a pod (infra first, then members oldest first). */
export async function podContainers(root: string, pod: PodRecord): Promise<ContainerRecord[]> {
  const all = (await listContainers(root)).filter((c) => c.config.pod === pod.id);
  return all.sort((a, b) =>
    Number(!!b.config.isInfra) - Number(!!a.config.isInfra) ||
    (a.config.created < b.config.created ? -1 : a.config.created > b.config.created ? 1 : 0)
  );
}

const live = (c: ContainerRecord) => c.state.status === "running" || c.state.status === "paused";

/**
 * podman's pod status: `Created` (no container ran), `Running` (all running), `Degraded` (some running),
 * `Paused` (all paused), `Exited` (all exited), `Stopped` (some exited, none running).
 */
export function podStatus(ctrs: ContainerRecord[]): string {
  if (!ctrs.length) return "Created";
  const n = (s: string) => ctrs.filter((c) => c.state.status === s).length;
  const running = n("running") + n("stopping");
  if (running === ctrs.length) return "Running";
  if (running > 0) return "Degraded";
  if (n("paused") === ctrs.length) return "Paused";
  if (n("paused") > 0) return "Degraded";
  if (n("exited") === ctrs.length) return "Exited";
  if (n("exited") > 0) return "Stopped";
  return "Created";
}

/**
 * `--exit-policy stop`: once the infra runs alone (every member exited after having run), stop it. Returns
 * the pod's containers, refreshed.
 */
export async function applyExitPolicy(root: string, pod: PodRecord): Promise<ContainerRecord[]> {
  const ctrs = await podContainers(root, pod);
  if (pod.exitPolicy !== "stop" || !pod.infraId) return ctrs;
  const infra = ctrs.find((c) => c.config.isInfra);
  const members = ctrs.filter((c) => !c.config.isInfra);
  if (!infra || !live(infra) || !members.length) return ctrs;
  if (members.some((m) => m.state.status !== "exited")) return ctrs;
  const { stopById } = await import("../lifecycle.ts");
  await stopById(root, infra.config.id, 0);
  return await podContainers(root, pod);
}

/** Runs `fn` on each container, collecting failures; throws the last (podman reports every error). */
async function eachContainer(
  ctrs: ContainerRecord[],
  fn: (c: ContainerRecord) => Promise<void>,
): Promise<void> {
  const errors: string[] = [];
  for (const c of ctrs) {
    try {
      await fn(c);
    } catch (e) {
      errors.push(`${c.config.id.slice(0, 12)}: ${e instanceof Error ? e.message : e}`);
    }
  }
  if (errors.length) throw new PodError(errors.join("; "));
}

/** Runs `fn` on every container at once; throws one error naming each failure. */
async function inParallel(
  ctrs: ContainerRecord[],
  fn: (c: ContainerRecord) => Promise<unknown>,
): Promise<void> {
  const results = await Promise.allSettled(ctrs.map(fn));
  const errors = results.flatMap((r, i) =>
    r.status === "rejected"
      ? [`${ctrs[i].config.id.slice(0, 12)}: ${r.reason instanceof Error ? r.reason.message : r.reason}`]
      : []
  );
  if (errors.length) throw new PodError(errors.join("; "));
}

/** An infra container's start in flight (see {@link beginInfraStart}). */
export interface InfraStarting {
  /** Resolves once the infra runs with its pid recorded (members may join it), or its start ended. */
  running: Promise<void>;
  /** Settles when its launch has ended (rejects with a PodError naming the container when it failed). */
  done: Promise<void>;
}

/**
 * Starts the infra container `infraId` (pods4: `kube play` begins it while the members are created, then
 * hands it to {@link startPod}).
 */
export function beginInfraStart(root: string, infraId: string): InfraStarting {
  let ready!: () => void;
  const running = new Promise<void>((r) => ready = r);
  const done = import("../start.ts").then(({ startDetached }) =>
    startDetached(root, infraId, { onRunning: ready })
  )
    .then(() => {}, (e) => {
      throw new PodError(`${infraId.slice(0, 12)}: ${e instanceof Error ? e.message : e}`);
    });
  done.catch(() => {}).finally(ready);
  return { running, done };
}

/**
 * `pod start`: the infra, then every member not running (in parallel: they only need the infra). `infra`:
 * the infra's start already begun by the caller.
 */
export async function startPod(root: string, nameOrId: string, infra?: InfraStarting): Promise<PodRecord> {
  const pod = await getPod(root, nameOrId);
  const { startDetached } = await import("../start.ts");
  const ctrs = (await podContainers(root, pod)).filter((c) => !live(c));
  // pods2: the members start once the infra runs with its pid recorded (the end of its launch overlaps)
  const stopped = ctrs.find((c) => c.config.isInfra);
  infra ??= stopped ? beginInfraStart(root, stopped.config.id) : undefined;
  const infraDone = infra?.done ?? Promise.resolve();
  if (infra) await Promise.race([infra.running, infraDone]); // a failed infra start: said at once
  const members = ctrs.filter((c) => !c.config.isInfra);
  const settled = await Promise.allSettled([
    inParallel(members, (c) => startDetached(root, c.config.id)),
    infraDone, // the end of the infra's launch may still fail: said, not lost
  ]);
  for (const r of settled) if (r.status === "rejected") throw r.reason;
  return pod;
}

/** `pod stop`: every member, then the infra (`timeout`: seconds before SIGKILL; default each one's). */
export async function stopPod(root: string, nameOrId: string, timeout?: number): Promise<PodRecord> {
  const pod = await getPod(root, nameOrId);
  const ctrs = await podContainers(root, pod);
  const { stopById } = await import("../lifecycle.ts");
  const members = ctrs.filter((c) => !c.config.isInfra && live(c));
  // members in parallel, as podman does; the infra, whose namespaces they use, last
  const results = await Promise.allSettled(members.map((c) => stopById(root, c.config.id, timeout)));
  const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
  await eachContainer(ctrs.filter((c) => c.config.isInfra && live(c)), async (c) => {
    await stopById(root, c.config.id, timeout);
  });
  if (failed) throw failed.reason;
  return pod;
}

/** `pod kill`: `signal` to every running container of the pod. */
export async function killPod(root: string, nameOrId: string, signal = "SIGKILL"): Promise<PodRecord> {
  const pod = await getPod(root, nameOrId);
  const running = (await podContainers(root, pod)).filter(live);
  if (!running.length) {
    throw new PodError(`no running containers in pod ${pod.name} to kill: pod state improper`, {
      code: "STATE",
    });
  }
  const { killById } = await import("../lifecycle.ts");
  await eachContainer(running.reverse(), (c) => killById(root, c.config.id, signal));
  return pod;
}

/** `pod pause` / `pod unpause`: every running (paused) container. */
export async function pausePod(root: string, nameOrId: string, pause: boolean): Promise<PodRecord> {
  const pod = await getPod(root, nameOrId);
  const want = pause ? "running" : "paused";
  const ctrs = (await podContainers(root, pod)).filter((c) => c.state.status === want);
  const { setPaused } = await import("../lifecycle.ts");
  await eachContainer(ctrs, (c) => setPaused(root, c.config.id, pause));
  return pod;
}

/** `pod restart`: stop, then start. */
export async function restartPod(root: string, nameOrId: string, timeout?: number): Promise<PodRecord> {
  await stopPod(root, nameOrId, timeout);
  return await startPod(root, nameOrId);
}

/**
 * `pod rm`: removes the members, the infra and the record. Running containers need `force` (they are
 * stopped first, `timeout` seconds before SIGKILL).
 */
export async function removePod(
  root: string,
  nameOrId: string,
  opts: { force?: boolean; timeout?: number } = {},
): Promise<PodRecord> {
  const pod = await getPod(root, nameOrId);
  const ctrs = await podContainers(root, pod);
  traceTime("pod rm: containers read");
  if (!opts.force && ctrs.some(live)) {
    throw new PodError(
      `pod ${pod.id} has containers that are not ready to be removed: cannot remove container ` +
        `${ctrs.find(live)!.config.id} as it is running - running or paused containers cannot be removed ` +
        `without force: container state improper`,
      { code: "STATE" },
    );
  }
  const { removeById, stopById } = await import("../lifecycle.ts");
  traceTime("pod rm: lifecycle loaded");
  const rm = (c: ContainerRecord) =>
    removeById(root, c.config.id, { force: true, volumes: true, timeout: 0, podRemoval: true });
  if (opts.force) {
    // pods2: everything goes, so every container is stopped at once (the infra too: no member needs its
    // namespaces any more) instead of the members first and the infra after them
    await inParallel(ctrs.filter(live), (c) => stopById(root, c.config.id, opts.timeout));
  }
  // pods5: the infra with the members (all stopped: none needs its namespaces); the record once all are
  // gone, so a failed removal leaves the pod to `pod rm` again
  await inParallel(ctrs, rm);
  traceTime("pod rm: containers removed");
  await withPodsLock(root, () => removePodRecord(root, pod.id));
  return pod;
}

/** The pods `pod prune` removes: those with no running or paused container. */
export async function prunablePods(root: string): Promise<PodRecord[]> {
  const { listPods } = await import("../../store/pods.ts");
  const out: PodRecord[] = [];
  for (const p of await listPods(root)) {
    if (!(await podContainers(root, p)).some(live)) out.push(p);
  }
  return out;
}
