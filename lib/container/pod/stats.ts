/**
 * `pod pod stats` data (scope pods2, issue 15): a sample of every running container of each pod (the infra
 * included, as podman's `GetPodStats`), from the containers' cgroups through lib/container/stats.ts.
 * @module
 */

import { UsageError } from "../../errors.ts";
import { getPod, listPods, type PodRecord } from "../../store/pods.ts";
import { type ContainerStats, sampleContainer, type StatsHistory } from "../stats.ts";
import { podContainers } from "./pods.ts";

/** One container's sample, with the pod it belongs to. */
export interface PodContainerStats extends ContainerStats {
  /** The pod's full id. */
  podId: string;
  /** The pod's name. */
  podName: string;
}

/** Which pods `pod stats` samples: the named ones, the newest (`latest`), else every pod. */
export interface PodStatsSelection {
  names: string[];
  all?: boolean;
  latest?: boolean;
}

/**
 * podman's `ValidatePodStatsOptions`: names, `--all` and `--latest` exclude each other; none of them means
 * every pod.
 */
export function checkPodStatsSelection(s: PodStatsSelection): void {
  const n = Number(s.names.length > 0) + Number(!!s.all) + Number(!!s.latest);
  if (n > 1) throw new UsageError("--all, --latest and arguments cannot be used together");
}

/** The pods of a selection (each named one must exist). */
export async function podStatsTargets(root: string, s: PodStatsSelection): Promise<PodRecord[]> {
  checkPodStatsSelection(s);
  if (s.names.length) return await Promise.all(s.names.map((n) => getPod(root, n)));
  const pods = await listPods(root);
  return s.latest ? pods.slice(0, 1) : pods;
}

/**
 * One sample of each running (or paused) container of `pods`, pod by pod (infra first); `history` makes
 * the CPU % of a stream relative to the previous sample.
 */
export async function samplePods(
  root: string,
  pods: PodRecord[],
  history?: StatsHistory,
): Promise<PodContainerStats[]> {
  const out: PodContainerStats[] = [];
  for (const p of pods) {
    for (const c of await podContainers(root, p)) {
      if (c.state.status !== "running" && c.state.status !== "paused") continue;
      out.push({ ...sampleContainer(c, history), podId: p.id, podName: p.name });
    }
  }
  return out;
}
