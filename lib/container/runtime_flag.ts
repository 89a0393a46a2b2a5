/**
 * `--runtime NAME|PATH` (on `create`/`run`, or pod's global flag): podman picks the OCI runtime with it, and
 * distrobox 1.8 passes `--runtime=crun` whenever crun is installed. The value is checked and recorded (inspect's
 * `OCIRuntime`); `runc` as root runs the container (oci_runtime.ts), any other runtime is named in a debug note
 * and pod runs the container with its own runtime (stage 2).
 * @module
 */

import { UsageError } from "../errors.ts";
import { debug } from "../log.ts";

/** Checks a `--runtime` value (a name like `crun`, or a path) and returns it as recorded. */
export function checkRuntime(value: string): string {
  const v = value.trim();
  if (!v || v.includes("\0") || /\s/.test(v)) {
    throw new UsageError(`invalid --runtime ${JSON.stringify(value)}`);
  }
  if (!/(^|\/)runc$/.test(v)) {
    debug(`--runtime ${v}: recorded; pod runs containers with its own runtime (stage 2), not ${v}`);
  }
  return v;
}
