/**
 * `--log-driver` and `--log-opt` of `create`/`run`, as podman takes them: drivers `k8s-file` (`json-file` is
 * its alias), `none` (nothing is kept; `logs` refuses) and `passthrough` (the output goes to pod's own stdout
 * and stderr in the foreground, nowhere when detached; `logs` refuses); options `path=` (the log file),
 * `max-size=` (rotation: past it, the log becomes `<path>.1`, the older one dropped), `tag=`; other keys are
 * kept as podman keeps them.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { fromHumanSize } from "../format/size_parse.ts";
import type { ContainerConfig } from "../store/container_types.ts";
import { containerPaths } from "../store/container_paths.ts";

/** The config fields of `--log-driver` / `--log-opt` (only what differs from the default). */
export function logOptions(driver: string | undefined, opts: string[] = []): Partial<ContainerConfig> {
  const out: Partial<ContainerConfig> = {};
  if (driver !== undefined && driver !== "") {
    const d = driver === "json-file" ? "k8s-file" : driver;
    if (d === "journald") {
      throw new PodError("--log-driver journald: pod writes no journal; use k8s-file, none or passthrough");
    }
    if (d !== "k8s-file" && d !== "none" && d !== "passthrough") {
      throw new PodError("running container create option: invalid log driver: invalid argument");
    }
    if (d !== "k8s-file") out.logDriver = d;
  }
  for (const o of opts) {
    const i = o.indexOf("=");
    if (i <= 0) throw new UsageError(`invalid log option "${o}": expected key=value`);
    const [k, v] = [o.slice(0, i), o.slice(i + 1)];
    if (k === "path") {
      if (!v) throw new UsageError(`invalid log option "${o}": empty path`);
      out.logPath = v.startsWith("/") ? v : `${Deno.cwd()}/${v}`;
    } else if (k === "max-size") {
      let n: number;
      try {
        n = Math.trunc(fromHumanSize(v));
      } catch {
        throw new UsageError(`invalid log option "${o}": invalid size: '${v}'`);
      }
      if (n > 0) out.logMaxSize = n;
    } else if (k === "tag") out.logTag = v;
    else (out.logOpts ??= {})[k] = v;
  }
  return out;
}

/** The k8s-file log a container writes (its `path=`, else `ctr.log` in its directory). */
export function logFileOf(root: string, c: ContainerConfig): string {
  return c.logPath ?? containerPaths(root, c.id).log;
}

/** Where a detached start writes the output: the log, or /dev/null with `none`/`passthrough`. */
export function detachedLogOf(root: string, c: ContainerConfig): string {
  return c.logDriver ? "/dev/null" : logFileOf(root, c);
}

/** podman's error of `logs` for a container that keeps no log (`none`, `passthrough`), else undefined. */
export function noLogsError(c: ContainerConfig): PodError | undefined {
  if (!c.logDriver) return undefined;
  return new PodError(`this container is using the '${c.logDriver}' log driver, cannot read logs`);
}
