/**
 * `pod update`: changes the configuration of a stopped (or created) container — environment, labels,
 * volumes, entrypoint, hostname, namespaces. Applied to `config.json` atomically under the container's lock;
 * takes effect at the next start. Resource limits (cgroups, issue 13) may also change while it runs: they are
 * written into its cgroup at once, as podman's `update` does.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { writeJsonAtomic } from "../store/atomic.ts";
import {
  type ContainerConfig,
  type ContainerMount,
  containerPaths,
  type ContainerRecord,
  lookupContainerId,
  readContainer,
  withContainerLock,
} from "../store/containers.ts";
import { resolveVolume } from "../volume/mounts.ts";
import { noCopy, parseMountFlags } from "./mount_options.ts";
import { nsMode } from "./namespaces.ts";
import { EnvList, expandEnvArg, parseEntrypoint, parseLabels, readEnvFiles } from "./process_options.ts";
import { cgroupSpecFor, parseResources, type ResourceOptions } from "./resources.ts";
import { applyCgroupLimits, cgroupExists } from "../ns/cgroup.ts";
import { warn } from "../log.ts";

/** What to change; absent fields stay as they are. */
export interface UpdateOptions {
  /** `-e KEY=value` (added or replaced; `KEY` alone takes the host's value). */
  env?: string[];
  /** `--env-file`. */
  envFile?: string[];
  /** `--unset-env KEY`. */
  unsetEnv?: string[];
  /** `--label k=v` (added or replaced). */
  labels?: string[];
  /** `--unset-label k`. */
  unsetLabels?: string[];
  /** `-v` (a mount at the same destination is replaced). */
  volumes?: string[];
  /** `--unset-volume DEST`: remove the mount at this container path. */
  unsetVolumes?: string[];
  /** `--entrypoint` (JSON array or one word; `""` clears it). The command is kept. */
  entrypoint?: string;
  /** `--hostname`. */
  hostname?: string;
  /** `--pid`, `--ipc`, `--uts`, `--network`: host or private. */
  pid?: string;
  /** See pid. */
  ipc?: string;
  /** See pid. */
  uts?: string;
  /** See pid. */
  network?: string;
  // --- cgroups (issue 13) ---
  /** Resource limits: the only change a running container takes (written to its cgroup at once). */
  resources?: ResourceOptions;
  /** The usage hint of a malformed resource flag. */
  usageHint?: string;
  /** Receives podman's warnings (limits ignored or discarded); default: the log's `warn`. */
  onWarning?: (message: string) => void;
}

/** Applies `o` to a config in place (creates the volumes `-v` names; reads env files). */
export async function applyUpdate(root: string, c: ContainerConfig, o: UpdateOptions): Promise<void> {
  const hostEnv = Deno.env.toObject();
  if (o.env?.length || o.envFile?.length || o.unsetEnv?.length) {
    const env = new EnvList();
    env.setAll(c.process.env);
    env.setAll(await readEnvFiles(o.envFile ?? [], hostEnv));
    env.setAll((o.env ?? []).flatMap((e) => expandEnvArg(e, hostEnv)));
    const unset = new Set(o.unsetEnv ?? []);
    c.process.env = env.toArray().filter((e) => !unset.has(e.split("=")[0]));
  }
  if (o.labels?.length || o.unsetLabels?.length) {
    c.labels = { ...c.labels, ...parseLabels(o.labels ?? []) };
    for (const k of o.unsetLabels ?? []) delete c.labels[k];
  }
  if (o.entrypoint !== undefined) {
    const entrypoint = parseEntrypoint(o.entrypoint);
    const args = [...entrypoint, ...c.process.cmd];
    if (!args.length) throw new PodError("no command or entrypoint left after the update");
    c.process.entrypoint = entrypoint;
    c.process.args = args;
  }
  if (o.hostname !== undefined) {
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})$/.test(o.hostname)) {
      throw new UsageError(`invalid hostname "${o.hostname}"`);
    }
    const old = c.hostname;
    c.hostname = o.hostname;
    c.process.env = c.process.env.map((e) => e === `HOSTNAME=${old}` ? `HOSTNAME=${o.hostname}` : e);
  }
  if (o.pid !== undefined) c.namespaces.pid = nsMode("pid", o.pid);
  if (o.ipc !== undefined) c.namespaces.ipc = nsMode("ipc", o.ipc);
  if (o.uts !== undefined) c.namespaces.uts = nsMode("uts", o.uts);
  if (o.network !== undefined) c.namespaces.net = nsMode("network", o.network);
  for (const dst of o.unsetVolumes ?? []) {
    const before = c.mounts.length;
    c.mounts = c.mounts.filter((m) => m.destination !== dst);
    if (c.mounts.length === before) throw new PodError(`no mount at "${dst}" in the container`);
    c.mountArgs = c.mountArgs.filter((a) => !a.split(":").includes(dst));
  }
  if (o.volumes?.length) {
    const added: ContainerMount[] = [];
    for (const m of parseMountFlags(o.volumes, [], [])) {
      if (m.type === "volume") {
        added.push(
          await volumeMount(root, m),
        );
      } else {
        if (m.type === "bind") {
          try {
            await Deno.stat(m.source!);
          } catch {
            throw new PodError(`statfs ${m.source}: no such file or directory`);
          }
        }
        added.push({ ...m } as ContainerMount);
      }
    }
    const dsts = new Set(added.map((m) => m.destination));
    c.mounts = [...c.mounts.filter((m) => !dsts.has(m.destination)), ...added];
    c.mountArgs = [...c.mountArgs, ...o.volumes];
  }
}

/**
 * Updates a container. Anything but resource limits needs it stopped: podman's "container state improper"
 * error for a running or paused one. Returns the full id.
 */
export async function updateContainer(root: string, nameOrId: string, o: UpdateOptions): Promise<string> {
  const id = await lookupContainerId(root, nameOrId);
  const { resources, usageHint: _h, onWarning: _w, ...rest } = o;
  const limits = Object.values(resources ?? {}).some((v) => v !== undefined);
  const others = Object.values(rest).some((v) => v !== undefined && !(Array.isArray(v) && !v.length));
  await withContainerLock(root, id, async () => {
    const rec = await readContainer(root, id);
    const s = rec.state.status;
    if (!others) {
      updateLimits(rec, o);
      await writeJsonAtomic(containerPaths(root, id).config, rec.config);
      return;
    }
    if (s === "running" || s === "paused" || s === "stopping") {
      throw new PodError(
        `container ${id} is ${s}: only a stopped or created container can be updated, stop it first: ` +
          `container state improper`,
      );
    }
    if (limits) updateLimits(rec, o);
    await applyUpdate(root, rec.config, rest);
    await writeJsonAtomic(containerPaths(root, id).config, rec.config);
  });
  return id;
}

/**
 * New resource limits over the recorded ones (checked as at create), written into a running container's
 * cgroup at once; recorded in `rec.config` (the caller saves it).
 */
function updateLimits(rec: ContainerRecord, o: UpdateOptions): void {
  const { resources, warnings } = parseResources(o.resources ?? {}, o.usageHint, rec.config.resources);
  for (const w of warnings) (o.onWarning ?? warn)(w);
  if (!resources) return;
  rec.config.resources = resources;
  const live = rec.state.status === "running" || rec.state.status === "paused" ||
    rec.state.status === "stopping";
  const spec = live ? cgroupSpecFor(rec.config) : undefined;
  if (!spec || !cgroupExists(spec)) return;
  try {
    applyCgroupLimits(spec, resources.limits);
  } catch (e) {
    throw new PodError(`updating the cgroup of ${rec.config.id}: ${e instanceof Error ? e.message : e}`);
  }
}

async function volumeMount(
  root: string,
  m: ReturnType<typeof parseMountFlags>[number],
): Promise<ContainerMount> {
  const v = await resolveVolume(root, m.anonymous ? undefined : m.name);
  return { ...m, ...v, ...(v.copyUp && noCopy(m) ? { copyUp: false } : {}) } as ContainerMount;
}
