/**
 * `ps`: listing, filtering and sorting containers (the rows podman prints are lib/cli/views/ps.ts).
 * Loads nothing heavy.
 * @module
 */

import { UsageError } from "../errors.ts";
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

function matchFilter(rec: ContainerRecord, key: string, values: string[]): boolean {
  const c = rec.config;
  return values.some((v) => {
    switch (key) {
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
      case "restart-policy": // runtime2 (issue 13): `no` for none, as podman
        return (c.restartPolicy?.name ?? "no") === v;
      case "health": // runtime2 (issue 13): starting, healthy, unhealthy, none
        return healthOf(rec) === v;
      case "volume":
        return c.mounts.some((m) => m.destination === v || m.name === v || m.source === v);
      default:
        throw new UsageError(`invalid filter "${key}"`);
    }
  });
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
  const groups = new Map<string, string[]>();
  for (const f of o.filters ?? []) {
    const eq = f.indexOf("=");
    if (eq < 0) throw new UsageError(`invalid filter "${f}": bad format, expected key=value`);
    const k = f.slice(0, eq);
    groups.set(k, [...(groups.get(k) ?? []), f.slice(eq + 1)]);
  }
  const all = o.all || groups.has("status") || groups.has("exited") || (o.last ?? -1) > 0;
  if (!all) list = list.filter((r) => r.state.status === "running" || r.state.status === "paused");
  for (const [k, v] of groups) list = list.filter((r) => matchFilter(r, k, v));
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
