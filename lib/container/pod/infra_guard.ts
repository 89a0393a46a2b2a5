/**
 * What the container lifecycle asks about pods (kept apart from pods.ts, which drives the lifecycle): may an
 * infra container be removed, and must a member's infra be started first.
 * @module
 */

import { PodError } from "../../errors.ts";
import { type ContainerRecord, readContainer } from "../../store/containers.ts";
import { getPod } from "../../store/pods.ts";

/** The error for removing the infra container of an existing pod (it goes with `pod rm`). */
export async function infraRemovalError(root: string, c: ContainerRecord): Promise<PodError | undefined> {
  if (!c.config.isInfra || !c.config.pod) return undefined;
  const pod = await getPod(root, c.config.pod).catch(() => undefined);
  if (!pod) return undefined;
  return new PodError(
    `container ${c.config.id} is the infra container of pod ${pod.id} and cannot be removed without removing ` +
      `the pod`,
    { code: "IN_USE" },
  );
}

/** The id of the infra container of pod `podId` when it exists and is not running (start it first). */
export async function infraToStart(root: string, podId: string): Promise<string | undefined> {
  const pod = await getPod(root, podId).catch(() => undefined);
  if (!pod?.infraId) return undefined;
  const infra = await readContainer(root, pod.infraId).catch(() => undefined);
  if (!infra || infra.state.status === "running" || infra.state.status === "paused") return undefined;
  return infra.config.id;
}
