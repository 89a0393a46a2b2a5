/**
 * `ps`: listing, filtering and sorting containers (the rows podman prints are lib/cli/views/ps.ts).
 * Loads nothing heavy.
 * @module
 */

import { UsageError } from "../errors.ts";
import { attachedNetworks } from "../store/container_networks.ts";
import { type ContainerRecord, listContainers } from "../store/containers.ts";
import { readHealthIn } from "./health_state.ts";

/** `ps` options. */
export interface PsOptions {
  /** Include stopped containers. */
  all?: boolean;
  /** `--filter key=value` (same key: OR; different keys: AND). */
  filters?: string[];
  /** Only the newest n (`-n`; `-l` = 1). */
  last?: number;
  /** `--sort`. */
  sort?: string;
}

/** The names of the networks a container is on, as `--filter network=` sees them. */
function networksOf(c: ContainerRecord["config"]): string[] {
  const names = Object.keys(attachedNetworks(c));
  const mode = String(c.namespaces.net);
  if (mode === "host") names.push("host");
  else if (mode.startsWith("container:")) names.push(mode);
  return names.filter(Boolean);
}

/** Created time of the container `ref` (name or id prefix) in `all`, for `before=`/`since=`. */
function createdOf(all: ContainerRecord[], ref: string, key: string): number {
  const hit = all.find((r) => r.config.name === ref || r.config.id === ref) ??
    all.find((r) => r.config.id.startsWith(ref));
  if (!hit) {
    throw new UsageError(`no container with name or ID "${ref}" found: no such container (${key} filter)`);
  }
  return Date.parse(hit.config.created);
}

const RESTART_POLICIES = ["always", "on-failure", "unless-stopped", "no", ""];
const HEALTH = ["starting", "healthy", "unhealthy", "none"];

function matchFilter(
  rec: ContainerRecord,
  key: string,
  values: string[],
  all: ContainerRecord[],
  podNames?: Map<string, string>,
): boolean {
  const c = rec.config;
  return values.some((v) => {
    switch (key) {
      case "before":
        return Date.parse(c.created) < createdOf(all, v, key);
      case "since":
        return Date.parse(c.created) > createdOf(all, v, key);
      case "health": {
        if (!HEALTH.includes(v)) throw new UsageError(`${v} is not a valid health status`);
        return healthOf(rec) === v; // runtime2 (issue 13): starting, healthy, unhealthy, none
      }
      case "network":
        return networksOf(c).includes(v);
      case "pod": // the pod's name, full id or id prefix
        return !!c.pod && (c.pod.startsWith(v) || podNames?.get(c.pod) === v);
      case "restart-policy": {
        if (!RESTART_POLICIES.includes(v)) throw new UsageError(`${v} is an invalid restart policy`);
        return (c.restartPolicy?.name ?? "no") === (v || "no"); // `no` for none, as podman
      }
      case "name":
        try {
          return new RegExp(v).test(c.name);
        } catch {
          return c.name.includes(v);
        }
      case "id":
        return c.id.startsWith(v);
      case "label": {
        const eq = v.indexOf("=");
        if (eq < 0) return v in c.labels;
        return c.labels[v.slice(0, eq)] === v.slice(eq + 1);
      }
      case "label!": {
        const eq = v.indexOf("=");
        if (eq < 0) return !(v in c.labels);
        return c.labels[v.slice(0, eq)] !== v.slice(eq + 1);
      }
      case "status":
        if (
          ![
            "created",
            "running",
            "paused",
            "exited",
            "stopping",
            "unknown",
            "removing",
            "configured",
            "stopped",
          ]
            .includes(v)
        ) {
          throw new UsageError(`invalid argument "${v}" for "status" filter`);
        }
        return rec.state.status === v || (v === "stopped" && rec.state.status === "exited");
      case "ancestor": {
        const ref = c.image.ref ?? "";
        const short = (s: string) => s.replace(/^docker\.io\/(library\/)?/, "");
        return c.image.name === v || ref === v || short(ref) === v ||
          short(ref).replace(/:latest$/, "") === v ||
          ref.replace(/:[^:/]*$/, "") === v || c.image.id.startsWith(v.replace(/^sha256:/, ""));
      }
      case "exited":
        return rec.state.status === "exited" && String(rec.state.exitCode) === v;
      case "volume":
        return c.mounts.some((m) => m.destination === v || m.name === v || m.source === v);
      default:
        throw new UsageError(`invalid filter "${key}"`);
    }
  });
}

/** `--filter key=value` words grouped by key (a word without `=` is a usage error, as podman's). */
export function parseContainerFilters(filters: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf("=");
    if (eq < 0) throw new UsageError(`invalid filter "${f}": bad format, expected key=value`);
    const k = f.slice(0, eq);
    groups.set(k, [...(groups.get(k) ?? []), f.slice(eq + 1)]);
  }
  return groups;
}

/**
 * The containers of `list` passing every filter key (values of one key: any of them), podman's `ps --filter`
 * keys: id, name, label, label!, status, ancestor, before, since, exited, health, volume, network, pod,
 * restart-policy. `all`: every container (what `before=`/`since=` name is looked up in); `podNames`: pod id →
 * name, for `pod=` by name.
 */
export function filterContainers(
  list: ContainerRecord[],
  groups: Map<string, string[]>,
  all: ContainerRecord[] = list,
  podNames?: Map<string, string>,
): ContainerRecord[] {
  for (const [k, v] of groups) list = list.filter((r) => matchFilter(r, k, v, all, podNames));
  return list;
}

/**
 * The containers that depend on `id` (share its namespaces: `--network container:ID` and the like), those
 * depending on them first, for `rm --depend`.
 */
export function dependentsOf(all: ContainerRecord[], id: string): string[] {
  const out: string[] = [];
  const visit = (target: string) => {
    for (const r of all) {
      if (r.config.id === target || out.includes(r.config.id)) continue;
      const modes = Object.values(r.config.namespaces ?? {}).map(String);
      if (modes.some((m) => m === `container:${target}`)) {
        visit(r.config.id);
        if (!out.includes(r.config.id)) out.push(r.config.id);
      }
    }
  };
  visit(id);
  return out;
}

function healthOf(rec: ContainerRecord): string {
  return rec.config.healthcheck ? readHealthIn(rec.dir).Status : "none";
}

/** Lists containers per `ps` options (newest first unless sorted otherwise). */
export async function psList(root: string, o: PsOptions): Promise<ContainerRecord[]> {
  let list = await listContainers(root);
  // detached `--rm` containers that ended: nobody was waiting, remove them now (daemonless)
  const gone = list.filter((r) => r.config.autoRemove && r.state.status === "exited" && r.state.detached);
  if (gone.length) {
    const { removeById } = await import("./lifecycle.ts");
    for (const r of gone) await removeById(root, r.config.id, { force: true, volumes: true }).catch(() => {});
    list = list.filter((r) => !gone.includes(r));
  }
  const groups = parseContainerFilters(o.filters ?? []);
  const all = o.all || groups.has("status") || groups.has("exited") || (o.last ?? -1) > 0;
  const everything = list;
  if (!all) list = list.filter((r) => r.state.status === "running" || r.state.status === "paused");
  const podNames = groups.has("pod") ? await podNameMap(root) : undefined;
  list = filterContainers(list, groups, everything, podNames);
  if (o.last !== undefined && o.last >= 0) list = list.slice(0, o.last);
  if (o.sort && o.sort !== "created") {
    const key = (r: ContainerRecord): string | number => {
      switch (o.sort) {
        case "id":
          return r.config.id;
        case "image":
          return r.config.image.ref ?? r.config.image.name;
        case "command":
          return r.config.process.args.join(" ");
        case "names":
          return r.config.name;
        case "runningfor":
          return -Date.parse(r.config.created);
        case "status":
          return r.state.status;
        case "pod":
        case "size":
          return 0;
        default:
          throw new UsageError(
            `invalid option for --sort, options are: command, created, id, image, names, runningfor, size, or status`,
          );
      }
    };
    list = [...list].sort((a, b) => {
      const x = key(a), y = key(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  return list;
}

/** Pod names by pod id (scope "pods": `ps --pod`, `--filter pod=`). */
export async function podNameMap(root: string): Promise<Map<string, string>> {
  const { listPods } = await import("../store/pods.ts");
  return new Map((await listPods(root)).map((p) => [p.id, p.name]));
}
