/**
 * Turns a container record into lib/ns's {@link LaunchSpec}: namespaces, id maps, mounts, generated /etc
 * files and the process (user resolved against the prepared rootfs).
 * @module
 */

import type { LaunchSpec, MountSpec, ProcessSpec } from "../ns/spec.ts";
import { type ContainerConfig, containerPaths } from "../store/containers.ts";
import { EnvList } from "./process_options.ts";
import { resolveUserInRoot } from "./user.ts";
import { writeUserdata } from "./userdata.ts";

/** The mounts stage 2 applies, in order. */
export function launchMounts(c: ContainerConfig): MountSpec[] {
  return c.mounts.map((m) =>
    m.type === "tmpfs"
      ? { type: "tmpfs", destination: m.destination, readonly: m.readonly, data: m.data || undefined }
      : {
        type: "bind",
        source: m.source,
        destination: m.destination,
        readonly: m.readonly,
        propagation: m.propagation as MountSpec["propagation"],
        recursive: m.recursive ?? true,
      }
  );
}

/** The spec shared by the prepare and the run launches. */
export function baseSpec(root: string, c: ContainerConfig): LaunchSpec {
  const cp = containerPaths(root, c.id);
  const userns = c.userns.mode !== "host";
  return {
    id: c.id,
    rootfs: cp.rootfs,
    stateDir: `${cp.dir}/run`,
    hostname: c.hostname,
    namespaces: {
      user: userns,
      pid: c.namespaces.pid === "private",
      ipc: c.namespaces.ipc === "private",
      uts: c.namespaces.uts === "private",
      net: c.namespaces.net === "private",
    },
    uidMap: userns ? c.userns.uidMap : undefined,
    gidMap: userns ? c.userns.gidMap : undefined,
    mounts: [],
    etc: {},
    privileged: c.privileged,
  };
}

/** A spec that only extracts the image layers into the rootfs. */
export function prepareSpec(root: string, c: ContainerConfig): LaunchSpec {
  return { ...baseSpec(root, c), prepare: { layers: c.layers } };
}

/** The container's process: user resolved in the rootfs, HOME from its passwd entry. */
export function processSpec(rootfs: string, c: ContainerConfig, terminal = c.process.terminal): ProcessSpec {
  const u = resolveUserInRoot(rootfs, c.process.user);
  const env = new EnvList();
  env.setAll(c.process.env);
  if (!env.has("HOME")) env.set(`HOME=${u.home}`);
  return {
    args: c.process.args,
    env: env.toArray(),
    cwd: c.process.cwd,
    uid: u.uid,
    gid: u.gid,
    additionalGids: u.additionalGids,
    terminal,
  };
}

/** The full spec to run the container (rootfs already prepared). */
export function runSpec(root: string, c: ContainerConfig, terminal = c.process.terminal): LaunchSpec {
  const base = baseSpec(root, c);
  const etc = writeUserdata(containerPaths(root, c.id).dir, c, c.userns.mode !== "host");
  return {
    ...base,
    mounts: launchMounts(c),
    etc,
    readonlyRootfs: c.readOnly,
    process: processSpec(base.rootfs, c, terminal),
  };
}
