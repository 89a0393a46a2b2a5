/**
 * A running container's record read the short way, for `exec`'s start-up: the name link, `config.json` and
 * `state.json` with sync calls, and the init's pid checked alive. It imports no lock, atomic-write or
 * name-table module (container_records.ts loads seven), so an exec loads fewer modules. Anything else —
 * an id prefix, a container that is not running or whose init is gone (its state must be refreshed and
 * written) — is left to container_records.ts `getContainer`: {@link readRunningContainer} returns undefined.
 * @module
 */

import { pidAlive } from "../proc.ts";
import { containerPaths } from "./container_paths.ts";
import type { ContainerConfig, ContainerRecord, ContainerState } from "./container_types.ts";
import { storePaths } from "./paths.ts";

/** Container names as container_names.ts `NAME_RE` allows them (no `/`, no leading `.`). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ID = /^[a-f0-9]{64}$/;

/**
 * The record of the running container `nameOrId` (a name or a full id, as `getContainer` resolves them:
 * a full id first, then a name), or undefined when this short way cannot tell (then use `getContainer`).
 */
export function readRunningContainer(root: string, nameOrId: string): ContainerRecord | undefined {
  const names = storePaths(root).names;
  const read = (id: string): ContainerRecord | undefined => {
    try {
      const cp = containerPaths(root, id);
      const config = JSON.parse(Deno.readTextFileSync(cp.config)) as ContainerConfig;
      // complete containers only: their name link points back at them
      if (Deno.readLinkSync(`${names}/${config.name}`) !== id) return undefined;
      const state = JSON.parse(Deno.readTextFileSync(cp.state)) as ContainerState;
      if (state.status !== "running" || !pidAlive(state.pid, state.pidStart)) return undefined;
      return { config, state, dir: cp.dir };
    } catch {
      return undefined;
    }
  };
  if (ID.test(nameOrId)) {
    const rec = read(nameOrId);
    if (rec) return rec;
  }
  if (!NAME.test(nameOrId)) return undefined;
  let id: string;
  try {
    id = Deno.readLinkSync(`${names}/${nameOrId}`);
  } catch {
    return undefined;
  }
  return ID.test(id) ? read(id) : undefined;
}
