/**
 * Parsing and checking, at create, of the process-policy and device flags (issue 13): `--init`/`--init-path`,
 * `--restart`, `--device`, `--group-add`, `--sysctl`, `--read-only-tmpfs`, with podman's messages. The health
 * check flags are in healthcheck_config.ts.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import type { ContainerConfig, DeviceConfig } from "../store/container_types.ts";

/** The flags as written. */
export interface RuntimeFlags {
  /** `--init`. */
  init?: boolean;
  /** `--init-path`. */
  initPath?: string;
  /** `--restart`. */
  restart?: string;
  /** `--rm` (refused with a restart policy, as podman does). */
  rm?: boolean;
  /** `--device`. */
  device?: string[];
  /** `--group-add`. */
  groupAdd?: string[];
  /** `--sysctl`. */
  sysctl?: string[];
  /** `--read-only-tmpfs` (default true). */
  readOnlyTmpfs?: boolean;
  /** `--annotation`s, parsed (`run.oci.keep_original_groups=1` = `--group-add keep-groups`). */
  annotations?: Record<string, string>;
}

/** Where podman (and pod) bind the init binary in the container. */
export const INIT_DESTINATION = "/run/podman-init";

/** The init binaries looked for when `--init-path` is not given: podman's, then Debian's catatonit. */
const INIT_CANDIDATES = ["/usr/libexec/podman/catatonit", "/usr/bin/catatonit"];

/** `--init`: the init binary's host path (`--init-path`, else catatonit), which must exist. */
export function initConfig(f: RuntimeFlags): ContainerConfig["init"] {
  if (!f.init) return undefined; // podman: --init-path alone does nothing
  if (f.initPath) {
    const p = f.initPath.startsWith("/") ? f.initPath : `${Deno.cwd()}/${f.initPath}`;
    try {
      if (!Deno.statSync(p).isFile) throw new Error();
    } catch {
      throw new PodError(`container-init binary not found on the host: stat ${f.initPath}: no such file`);
    }
    return { path: p };
  }
  for (const p of INIT_CANDIDATES) {
    try {
      if (Deno.statSync(p).isFile) return { path: p };
    } catch { /* next */ }
  }
  throw new PodError(
    `container-init binary not found on the host: stat ${INIT_CANDIDATES[0]}: no such file or directory`,
    { hint: "install catatonit (apt-get install catatonit) or pass --init-path" },
  );
}

/** `--restart no|always|on-failure[:N]|unless-stopped`; `undefined` for `no`. */
export function restartPolicy(f: RuntimeFlags): ContainerConfig["restartPolicy"] {
  const v = f.restart?.trim();
  if (!v || v === "no") return undefined;
  if (f.rm) {
    throw new UsageError(
      `the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"`,
    );
  }
  const colon = v.indexOf(":");
  const name = colon < 0 ? v : v.slice(0, colon);
  if (!["always", "on-failure", "unless-stopped"].includes(name)) {
    throw new UsageError(`"${v}" is not a valid restart policy: invalid argument`);
  }
  let maxRetries = 0;
  if (colon >= 0) {
    if (name !== "on-failure") {
      throw new UsageError("restart policy retries can only be specified with on-failure restart policy");
    }
    const n = v.slice(colon + 1);
    if (!/^\d+$/.test(n)) {
      throw new UsageError(
        `parsing restart policy retry count: strconv.Atoi: parsing "${n}": invalid syntax`,
      );
    }
    maxRetries = Number(n);
  }
  return { name: name as "always" | "on-failure" | "unless-stopped", maxRetries };
}

const DEVICE_MODE = /^[rwm]{1,3}$/;

/** One `--device HOST[:CTR][:perms]`: the host path must be a character or block device. */
export function parseDevice(v: string): DeviceConfig {
  const parts = v.split(":");
  let src = parts[0], dst = parts[0], perms = "";
  if (parts.length === 2) {
    if (DEVICE_MODE.test(parts[1])) perms = parts[1];
    else dst = parts[1];
  } else if (parts.length === 3) {
    dst = parts[1];
    perms = parts[2];
    if (!DEVICE_MODE.test(perms)) throw new UsageError(`invalid device mode: ${perms}`);
  } else if (parts.length > 3) throw new UsageError(`invalid device specification: ${v}`);
  if (!src.startsWith("/")) src = `${Deno.cwd()}/${src}`;
  if (!dst.startsWith("/")) throw new UsageError(`${dst} is not an absolute path`);
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(src);
  } catch {
    throw new PodError(`stat ${parts[0]}: no such file or directory`, { code: "NOT_FOUND" });
  }
  if (!st.isCharDevice && !st.isBlockDevice) {
    throw new UsageError(`${parts[0]} is not a device (pod adds character and block devices)`);
  }
  return { source: src, destination: dst, permissions: perms };
}

/** `--group-add`: `keep-groups` only alone; also set by the annotation `run.oci.keep_original_groups=1`. */
export function groupAdd(f: RuntimeFlags): string[] | undefined {
  const groups = (f.groupAdd ?? []).flatMap((g) => g.split(",")).map((g) => g.trim()).filter((g) => g);
  if (groups.includes("keep-groups") && groups.length > 1) {
    throw new UsageError(
      "the '--group-add keep-groups' option is not allowed with any other --group-add options",
    );
  }
  if (f.annotations?.["run.oci.keep_original_groups"] === "1" && !groups.includes("keep-groups")) {
    if (groups.length) {
      throw new UsageError(
        "the annotation run.oci.keep_original_groups=1 is not allowed with other --group-add options",
      );
    }
    groups.push("keep-groups");
  }
  return groups.length ? groups : undefined;
}

const IPC_SYSCTLS = [
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
];
const UTS_SYSCTLS = ["kernel.domainname", "kernel.hostname"];

/**
 * `--sysctl name=value`: only namespaced ones, as podman (IPC: kernel.msg*, sem, shm*, fs.mqueue.*; network:
 * net.*; UTS: kernel.domainname/hostname), and not when that namespace is the host's.
 */
export function parseSysctls(
  values: string[] | undefined,
  ns: Pick<ContainerConfig["namespaces"], "ipc" | "net" | "uts">,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new UsageError(`sysctl "${v}" is not in the key=value format`);
    const key = v.slice(0, eq).trim().replaceAll("/", "."), value = v.slice(eq + 1);
    const kind = key.startsWith("net.")
      ? ["Network", ns.net]
      : key.startsWith("fs.mqueue.") || IPC_SYSCTLS.includes(key)
      ? ["IPC", ns.ipc]
      : UTS_SYSCTLS.includes(key)
      ? ["UTS", ns.uts]
      : undefined;
    if (!kind) throw new UsageError(`sysctl '${key}' is not allowed`);
    if (kind[1] === "host") {
      throw new UsageError(
        `sysctl ${key}=${value} can't be set since ${kind[0]} Namespace set to host: invalid argument`,
      );
    }
    out[key] = value;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Where a file flag points: absolute, against the current directory. */
function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/**
 * `--pidfile`, `--conmon-pidfile`, `--tz`, `--timeout`, checked, for the container's config; `--cidfile` must
 * not exist yet (podman's message).
 */
export async function processExtras(o: {
  cidFile?: string;
  pidFile?: string;
  conmonPidFile?: string;
  timezone?: string;
  timeout?: number;
}): Promise<Partial<ContainerConfig>> {
  const out: Partial<ContainerConfig> = {};
  if (o.cidFile) {
    const exists = await Deno.lstat(o.cidFile).then(() => true, () => false);
    if (exists) {
      throw new PodError(
        `container id file exists. Ensure another container is not using it or delete ${o.cidFile}`,
      );
    }
  }
  if (o.pidFile) out.pidFile = absolute(o.pidFile);
  if (o.conmonPidFile) out.conmonPidFile = absolute(o.conmonPidFile);
  if (o.timezone) {
    timezoneFile(o.timezone); // checked now
    out.timezone = o.timezone;
  }
  if (o.timeout !== undefined && o.timeout !== 0) {
    if (!Number.isInteger(o.timeout) || o.timeout < 0) throw new UsageError(`invalid --timeout ${o.timeout}`);
    out.timeout = o.timeout;
  }
  return out;
}

/** The host file bound at /etc/localtime for `--tz` (`local`: the host's own; else a zoneinfo name). */
export function timezoneFile(tz: string): string {
  const path = tz === "local" ? "/etc/localtime" : `/usr/share/zoneinfo/${tz}`;
  if (tz !== "local" && (tz.split("/").includes("..") || tz.startsWith("/"))) {
    throw new UsageError(`finding timezone: unknown time zone ${tz}`);
  }
  try {
    return Deno.realPathSync(path);
  } catch {
    throw new PodError(`finding timezone: unknown time zone ${tz}`);
  }
}

/** Writes `--cidfile`. */
export async function writeCidFile(path: string, id: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, id, { createNew: true });
  } catch (e) {
    throw new PodError(`opening cidfile: ${(e as Error).message}`);
  }
}

/**
 * `--env-merge KEY=VALUE` entries with `${VAR}` (or `$VAR`) replaced by the image's VAR (empty when unset), as
 * podman does to extend an image's variable (`PATH=/opt/bin:${PATH}`).
 */
export function mergeEnv(merges: string[] | undefined, imageEnv: string[]): string[] {
  if (!merges?.length) return [];
  const img = new Map(imageEnv.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  return merges.map((m) => {
    const eq = m.indexOf("=");
    if (eq <= 0) throw new UsageError(`invalid --env-merge "${m}": use KEY=VALUE`);
    const value = m.slice(eq + 1).replace(/\$\{(\w+)\}|\$(\w+)/g, (_x, a, b) => img.get(a ?? b) ?? "");
    return `${m.slice(0, eq)}=${value}`;
  });
}
