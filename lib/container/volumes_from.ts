/**
 * `--volumes-from CTR[:ro|rw]`: the named/anonymous volumes and bind mounts of another container, at the same
 * destinations, read-only as there unless `:ro`/`:rw` says otherwise (podman's rule). Destinations the new
 * container mounts something at itself are skipped.
 * @module
 */

import { UsageError } from "../errors.ts";
import { type ContainerMount, getContainer } from "../store/containers.ts";

/** Splits `CTR[:ro|rw]`; throws podman's error for another option. */
export function parseVolumesFrom(spec: string): { container: string; readonly?: boolean } {
  const i = spec.indexOf(":");
  if (i < 0) return { container: spec };
  const container = spec.slice(0, i);
  const opts = spec.slice(i + 1).split(",").filter(Boolean);
  let readonly: boolean | undefined;
  for (const o of opts) {
    if (o === "ro" || o === "rw") {
      if (readonly !== undefined) throw new UsageError(`cannot set ro or rw options more than once`);
      readonly = o === "ro";
    } else if (o !== "z") throw new UsageError(`invalid options ${o}, can only be 'rw', 'ro', or 'z'`);
  }
  if (!container) throw new UsageError(`invalid --volumes-from "${spec}": no container`);
  return { container, readonly };
}

/** The mounts `--volumes-from` adds, skipping destinations in `taken` (which it extends). */
export async function mountsFrom(
  root: string,
  specs: string[],
  taken: Set<string>,
): Promise<ContainerMount[]> {
  const out: ContainerMount[] = [];
  for (const spec of specs) {
    const { container, readonly } = parseVolumesFrom(spec);
    const rec = await getContainer(root, container);
    for (const m of rec.config.mounts) {
      if (m.type === "tmpfs" || taken.has(m.destination)) continue;
      taken.add(m.destination);
      // never copied up again; an anonymous one goes with `rm -v` of the last container that uses it
      const { copyUp: _c, ...rest } = m;
      out.push({ ...rest, readonly: readonly ?? m.readonly });
    }
  }
  return out;
}
