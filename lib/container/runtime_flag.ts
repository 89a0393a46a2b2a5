/**
 * `--runtime NAME|PATH` (on `create`/`run`, or pod's global flag): podman picks the OCI runtime with it, and
 * distrobox 1.8 passes `--runtime=crun` whenever crun is installed. pod runs every container with its own
 * runtime (stage 2), so the value is checked, recorded (inspect's `OCIRuntime`) and named in a debug note.
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
  debug(`--runtime ${v}: recorded; pod runs containers with its own runtime (stage 2), not ${v}`);
  return v;
}
