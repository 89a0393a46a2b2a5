/**
 * Which `--runtime` values are run as OCI runtimes from a bundle pod writes (runc, crun: the same command line),
 * instead of by pod's own runtime. Pure and tiny: the start path tests it before loading the OCI runtime code.
 * @module
 */

/** The OCI runtime a `--runtime` value names (`runc`, `crun`, or a path ending in one), else `undefined`. */
export function ociRuntimeName(runtime: string | undefined): "runc" | "crun" | undefined {
  const base = runtime?.slice(runtime.lastIndexOf("/") + 1);
  return base === "runc" || base === "crun" ? base : undefined;
}
