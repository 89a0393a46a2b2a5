/**
 * A container joining a pod (`create/run --pod NAME|ID`): it takes the namespaces the pod shares from the
 * pod's infra container (`container:<infra id>`, see lib/container/ns_join.ts), so members of one pod reach
 * each other on 127.0.0.1 and share a hostname. A pod without infra only groups its members.
 * @module
 */

import { UsageError } from "../../errors.ts";
import { getPod } from "../../store/pods.ts";

/** The part of a container spec (lib/container/create.ts `ContainerSpec`) a pod decides. */
export interface PodJoinSpec {
  /** `--pod NAME|ID|new:NAME`. */
  pod?: string;
  /** The container is the pod's infra container. */
  isInfra?: boolean;
  /** `--network`. */
  network?: string;
  /** Every `--network` value (net scope): replaced by the pod's when it shares its network namespace. */
  networks?: string[];
  /** `--ipc`. */
  ipc?: string;
  /** `--uts`. */
  uts?: string;
  /** `--pid`. */
  pid?: string;
  /** The command line (recorded on a pod made by `new:`). */
  createCommand?: string[];
}

/** The create flags that name each shareable namespace. */
const FLAG_OF = { net: "network", ipc: "ipc", uts: "uts", pid: "pid" } as const;

/**
 * Resolves `o.pod` (`new:NAME` is made into a pod by the caller, lib/cli/commands/create.ts) and returns the pod's id and the spec with the pod's shared namespaces set. A namespace
 * flag of the container's own for a namespace the pod shares is a usage error, as in podman.
 */
export async function joinPod<T extends PodJoinSpec>(root: string, o: T): Promise<{ id: string; spec: T }> {
  const pod = await getPod(root, o.pod!);
  if (o.isInfra || !pod.infraId) return { id: pod.id, spec: o };
  const spec: T = { ...o };
  for (const kind of pod.share) {
    const flag = FLAG_OF[kind as keyof typeof FLAG_OF];
    if (!flag) continue;
    const own = (kind === "net"
      ? o.networks?.find((v) => v !== "" && v !== `container:${pod.infraId}`)
      : undefined) ??
      o[flag];
    if (own !== undefined && own !== "" && own !== `container:${pod.infraId}`) {
      throw new UsageError(
        `--${flag} ${own} cannot be used with --pod ${o.pod}: the pod shares its ${kind} namespace`,
      );
    }
    spec[flag] = `container:${pod.infraId}`;
    // the member's network is the infra's: no network list of its own (which would read as the default one)
    if (kind === "net") spec.networks = undefined;
  }
  return { id: pod.id, spec };
}
