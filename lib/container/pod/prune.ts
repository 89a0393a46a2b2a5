/**
 * Pruning pods (scope pods2, issue 15): `system prune` removes the pods with no running or paused container
 * (with their containers) before the stopped containers, as podman's "Deleted Pods".
 * @module
 */

import { debug } from "../../log.ts";
import type { PruneFilter } from "../prune.ts";
import { podContainers, prunablePods, removePod } from "./pods.ts";

/**
 * Removes every pod with no running or paused container whose labels and creation time match `filter`
 * (with its members and infra); returns the removed pods' ids and the bytes their containers held. A pod
 * that fails to go is skipped (noted in debug output), as the container prune does.
 */
export async function prunePods(
  root: string,
  filter?: PruneFilter,
): Promise<{ ids: string[]; bytes: number }> {
  const { containerSize } = await import("../prune.ts");
  const ids: string[] = [];
  let bytes = 0;
  for (const p of await prunablePods(root)) {
    if (filter && !filter.match(p.labels ?? {}, new Date(p.created))) continue;
    let size = 0;
    for (const c of await podContainers(root, p)) size += await containerSize(c).catch(() => 0);
    try {
      await removePod(root, p.id);
      ids.push(p.id);
      bytes += size;
    } catch (e) {
      debug(`prune: pod ${p.id}: ${e instanceof Error ? e.message : e}`);
    }
  }
  return { ids, bytes };
}
