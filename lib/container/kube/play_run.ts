/**
 * One pod of `kube play` made and started (kube9, issue 15). The records are made in the YAML's order (the
 * ids and `Created` times `ps`, `pod inspect`, `kube generate` and the printed summary follow never depend on
 * which start finished first); the starts overlap them: the infra starts as soon as its record exists, the
 * init containers run one after the other (each to a successful exit, then removed, as Kubernetes runs them)
 * while the app containers' records are made, and each app container starts once its record exists, the
 * infra runs with its pid recorded and the init containers are done, all of them at once.
 * @module
 */

import { PodError } from "../../errors.ts";
import type { PodRecord } from "../../store/pods.ts";
import type { ContainerSpec } from "../create.ts";
import { traceTime } from "../../log.ts";

/** What a pod of the YAML runs: its containers' specs, in the YAML's order. */
export interface KubePodPlan {
  /** `document N, line L` of the pod's YAML document (for errors). */
  at: string;
  /** The init containers (their YAML names beside their specs). */
  init: { name: string; spec: ContainerSpec }[];
  /** The app containers. */
  containers: ContainerSpec[];
}

/** The ids `kube play` made for one pod. */
export interface KubePodIds {
  /** The app containers' ids, in the YAML's order. */
  containers: string[];
  /** The init containers' ids (removed once they succeeded), in the YAML's order. */
  initContainers: string[];
}

/** A pod of `kube play` in the making (see {@link runKubePod}). */
export interface KubePodRun {
  /** Resolves once every app container's record exists (the next pod's records may follow). */
  created: Promise<void>;
  /** Settles once every start has ended; on a failure the pod has been removed. */
  done: Promise<KubePodIds>;
}

/**
 * Makes the containers of `pod` (created with its infra by the caller) from `plan` and, with `start`, starts
 * them. Never rejects synchronously: a failure rejects `created` (when it came while the records were made)
 * and `done`, after every start in flight ended and the pod was removed.
 */
export function runKubePod(root: string, pod: PodRecord, plan: KubePodPlan, start: boolean): KubePodRun {
  let created!: () => void;
  const recordsMade = new Promise<void>((r) => created = r);
  const done = playPod(root, pod, plan, start, created);
  return {
    // made or failed: a failure of the records is `done`'s too (the pod is removed first)
    created: Promise.race([recordsMade, done.then(() => {})]),
    done,
  };
}

async function playPod(
  root: string,
  pod: PodRecord,
  plan: KubePodPlan,
  start: boolean,
  created: () => void,
): Promise<KubePodIds> {
  // start.ts is not waited for here: the records need only create.ts (the CLI loads both side by side)
  const [{ createFromSpec }, { beginInfraStart, removePod }] = await Promise.all([
    import("../create.ts"),
    import("../pod/pods.ts"),
  ]);
  const ids: KubePodIds = { containers: [], initContainers: [] };
  // pods4: the infra starts while the containers are created
  const infra = start && pod.infraId ? beginInfraStart(root, pod.infraId) : undefined;
  // members join once the infra runs with its pid recorded (the end of its launch overlaps their starts);
  // a failed infra start rejects at once
  const infraUp = infra ? Promise.race([infra.running, infra.done]) : Promise.resolve();
  infraUp.catch(() => {}); // awaited by each start
  const inits = start && plan.init.length ? runInits(root, pod, plan, infraUp, ids) : Promise.resolve();
  inits.catch(() => {}); // awaited below
  const ready = Promise.all([infraUp, inits]);
  ready.catch(() => {}); // a failure before the first start is scheduled is said through `inits`/`infra`
  const starts: Promise<unknown>[] = [];
  try {
    for (const spec of plan.containers) {
      const rec = await createFromSpec(root, { ...spec, pod: pod.id });
      ids.containers.push(rec.config.id);
      if (!start) continue;
      const started = ready.then(async () =>
        (await import("../start.ts")).startDetached(root, rec.config.id)
      );
      started.catch(() => {}); // awaited below, in the YAML's order
      starts.push(started);
    }
    traceTime("kube: records made");
    created();
    await inits;
    const settled = await Promise.allSettled([...starts, infra?.done]);
    const failed = settled.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  } catch (e) {
    await Promise.allSettled([inits, ...starts, infra?.done]);
    await removePod(root, pod.id, { force: true, timeout: 0 }).catch(() => {});
    throw e;
  }
  traceTime("kube: pod started");
  return ids;
}

/** The init containers, one after the other, each to a successful exit (then removed). */
async function runInits(
  root: string,
  pod: PodRecord,
  plan: KubePodPlan,
  infraUp: Promise<unknown>,
  ids: KubePodIds,
): Promise<void> {
  const [{ createFromSpec }, { startDetached }, { waitExited, removeById }] = await Promise.all([
    import("../create.ts"),
    import("../start.ts"),
    import("../lifecycle.ts"),
  ]);
  for (const { name, spec } of plan.init) {
    const rec = await createFromSpec(root, { ...spec, pod: pod.id });
    ids.initContainers.push(rec.config.id);
    await infraUp; // the first one's record is made while the infra starts
    await startDetached(root, rec.config.id);
    const exited = await waitExited(root, rec.config.id);
    if (exited.state.exitCode !== 0) {
      throw new PodError(`${plan.at}: init container ${name} exited with code ${exited.state.exitCode}`);
    }
    await removeById(root, rec.config.id, { force: true, volumes: true });
  }
}
