/**
 * Joining other namespaces (scope "pods", issue 15): `--network/--ipc/--uts/--pid container:ID|NAME` and
 * `ns:PATH`. At create the target is resolved to its full id (a name may be reused later); at start the
 * target must be running and its namespaces are joined through `/proc/<its init>/ns/<kind>`: stage 1 puts
 * util-linux `nsenter --<kind>=PATH` in front of `unshare` (lib/ns/unshare.ts), which then makes only the
 * remaining namespaces.
 *
 * Rootless, a network/IPC/UTS/pid namespace can only be joined by a process with capabilities in the user
 * namespace that owns it, so a container joining another one also joins that container's user namespace
 * (its `userns.mode` is `container:<id>`, with the target's id maps, which also gives it the same image
 * tree) instead of making its own. As root there is no user namespace (`host`): only the namespaces named
 * are joined.
 *
 * When the target stops, its namespaces live on as long as a joined container still uses them, but podman's
 * rule is followed for starts: a container can only be started while its target runs.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import type { ContainerConfig, ContainerRecord, NsMode } from "../store/containers.ts";

// the store is loaded only when a join is resolved: `run` loads this file on its early-start path
const store = () => import("../store/containers.ts");

/** The namespace kinds a container can join, by the flag that names them. */
export const JOINABLE = { network: "net", ipc: "ipc", uts: "uts", pid: "pid" } as const;

/** A namespace kind in /proc/<pid>/ns terms. */
export type NsKind = "net" | "ipc" | "uts" | "pid" | "user";

/** Paths of namespaces to join, by kind (LaunchSpec's `join`). */
export type JoinPaths = Partial<Record<NsKind, string>>;

/** The target of a joined namespace mode: `{container: id}`, `{path}` or undefined (private/host). */
export function joinTarget(mode: string | undefined): { container?: string; path?: string } | undefined {
  if (!mode) return undefined;
  if (mode.startsWith("container:")) return { container: mode.slice("container:".length) };
  if (mode.startsWith("ns:")) return { path: mode.slice("ns:".length) };
  return undefined;
}

/**
 * Parses a `container:ID|NAME` or `ns:PATH` value of `--network`/`--ipc`/`--uts`/`--pid` (undefined for
 * any other value). The name is resolved later ({@link resolveJoins}).
 */
export function parseJoinMode(flag: string, value: string): NsMode | undefined {
  const t = joinTarget(value);
  if (!t) return undefined;
  if (t.container !== undefined && !t.container) {
    throw new UsageError(`invalid value "${value}" for --${flag}: container: needs a container name or ID`);
  }
  if (t.path !== undefined && !t.path.startsWith("/")) {
    throw new UsageError(`invalid value "${value}" for --${flag}: ns: needs an absolute path`);
  }
  return value as NsMode;
}

/**
 * Resolves the joined namespaces of a container about to be created: container names to full ids (the
 * target must exist), `ns:` paths must exist; rootless, the container takes the target's user namespace
 * (see the module doc). Also returns the hostname a joined UTS namespace implies.
 */
export async function resolveJoins(
  root: string,
  namespaces: ContainerConfig["namespaces"],
  userns: ContainerConfig["userns"],
  explicitUserns: string | undefined,
): Promise<{ hostname?: string }> {
  let userTarget: ContainerConfig | undefined;
  let hostname: string | undefined;
  for (const kind of ["net", "ipc", "uts", "pid"] as const) {
    const t = joinTarget(namespaces[kind]);
    if (!t) continue;
    if (t.path !== undefined) {
      try {
        await Deno.stat(t.path);
      } catch {
        throw new PodError(`cannot join namespace ${t.path}: no such file or directory`, {
          code: "NOT_FOUND",
        });
      }
      if (Deno.uid() !== 0) {
        throw new PodError(
          `cannot join ${kind} namespace ${t.path} rootless: pod can only join the namespaces of a container ` +
            `(use container:ID), whose user namespace it shares`,
        );
      }
      continue;
    }
    const target = (await (await store()).getContainer(root, t.container!)).config;
    // a target on the host's namespace (`pod create --network host`): the joiner takes the host's too (a
    // rootless joiner could not enter it: it belongs to the host's user namespace); a target that joined
    // a namespace itself: the joiner enters the same one (through the target's process at start)
    namespaces[kind] = target.namespaces[kind] === "host" ? "host" : `container:${target.id}`;
    if (kind === "uts") hostname = target.hostname;
    if (Deno.uid() === 0) continue;
    // the user namespace the target's namespaces belong to: its own, or the one it joined itself
    const owner = joinTarget(target.userns.mode)?.container ?? target.id;
    const ownerConfig = owner === target.id
      ? target
      : (await (await store()).readContainer(root, owner)).config;
    if (userTarget && userTarget.id !== ownerConfig.id) {
      throw new PodError(
        `cannot join the namespaces of containers in different user namespaces (${
          userTarget.id.slice(0, 12)
        }` +
          ` and ${ownerConfig.id.slice(0, 12)})`,
      );
    }
    userTarget = ownerConfig;
  }
  if (userTarget) {
    if (explicitUserns && !["", "private", `container:${userTarget.id}`].includes(explicitUserns)) {
      throw new UsageError(
        `--userns=${explicitUserns} cannot be combined with joining another container's namespaces rootless ` +
          `(the container shares that container's user namespace)`,
      );
    }
    userns.mode = `container:${userTarget.id}`;
    userns.uidMap = userTarget.userns.uidMap;
    userns.gidMap = userTarget.userns.gidMap;
  }
  return { hostname };
}

/** The ids of the containers whose namespaces `c` joins (user namespace included), without duplicates. */
export function joinedContainers(c: Pick<ContainerConfig, "namespaces" | "userns">): string[] {
  const ids = new Set<string>();
  for (const mode of [...Object.values(c.namespaces), c.userns.mode]) {
    const t = joinTarget(mode);
    if (t?.container) ids.add(t.container);
  }
  return [...ids];
}

/**
 * The namespace paths a start of `c` joins: `/proc/<target init>/ns/<kind>` of running targets, `ns:` paths
 * as given. Throws when a target is gone or not running.
 */
export async function joinPaths(root: string, c: ContainerConfig): Promise<JoinPaths | undefined> {
  const out: JoinPaths = {};
  const pids = new Map<string, number>();
  const pidOf = async (id: string, kind: string): Promise<number> => {
    if (pids.has(id)) return pids.get(id)!;
    let rec: ContainerRecord;
    try {
      rec = await (await store()).readContainer(root, id);
    } catch {
      throw new PodError(
        `cannot join the ${kind} namespace of container ${id.slice(0, 12)}: it no longer exists`,
      );
    }
    if ((rec.state.status !== "running" && rec.state.status !== "paused") || !rec.state.pid) {
      throw new PodError(
        `cannot join the ${kind} namespace of container ${rec.config.name}: it is not running ` +
          `(state ${rec.state.status}): container state improper`,
        { code: "STATE" },
      );
    }
    pids.set(id, rec.state.pid);
    return rec.state.pid;
  };
  for (const kind of ["net", "ipc", "uts", "pid"] as const) {
    const t = joinTarget(c.namespaces[kind]);
    if (t?.path) out[kind] = t.path;
    else if (t?.container) out[kind] = `/proc/${await pidOf(t.container, kind)}/ns/${kind}`;
  }
  const u = joinTarget(c.userns.mode);
  if (u?.container) out.user = `/proc/${await pidOf(u.container, "user")}/ns/user`;
  return Object.keys(out).length ? out : undefined;
}
