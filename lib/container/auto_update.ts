/**
 * `auto-update`: containers labelled `io.containers.autoupdate=registry` (or `image`) get their image's newer
 * version from its registry, `=local` the newer local image of the same name; such a container is then
 * recreated from its recorded create command with the same name (started again if it ran), or, when it runs
 * under a systemd unit (`PODMAN_SYSTEMD_UNIT` in its environment, see `generate systemd`), that unit is
 * restarted. The recreation itself is the caller's (a fresh `pod create`): this module decides and pulls.
 * @module
 */

import { PodError } from "../errors.ts";
import { listContainers } from "../store/containers.ts";
import type { ContainerRecord } from "../store/container_types.ts";
import { findImage } from "../store/images.ts";

/** The label and its policies. */
export const AUTOUPDATE_LABEL = "io.containers.autoupdate";

/** One container's check. */
export interface AutoUpdateItem {
  /** The container. */
  rec: ContainerRecord;
  /** `registry` or `local`. */
  policy: "registry" | "local";
  /** The image reference it was created from. */
  image: string;
  /** The systemd unit it runs under, if any. */
  unit?: string;
  /** Whether a newer image is there (registry: by the served digest; local: by the name's current id). */
  pending: boolean;
}

/** Containers to auto-update and whether each has an update pending; `remote` asks the registry. */
export async function checkAutoUpdates(
  root: string,
  remote: (ref: string) => Promise<string>,
): Promise<AutoUpdateItem[]> {
  const out: AutoUpdateItem[] = [];
  for (const rec of await listContainers(root)) {
    const label = rec.config.labels[AUTOUPDATE_LABEL];
    if (!label || label === "disabled") continue;
    const policy = label === "registry" || label === "image"
      ? "registry"
      : label === "local"
      ? "local"
      : undefined;
    if (!policy) {
      throw new PodError(
        `container ${rec.config.name}: auto-update policy "${label}" is not valid: use registry or local`,
      );
    }
    // the name it was created with (what a newer image would be found under), not an id
    const image = rec.config.image.name;
    if (!image || /^(sha256:)?[0-9a-f]{12,64}$/.test(image)) {
      throw new PodError(
        `container ${rec.config.name}: created from an image ID, not a name: cannot auto-update`,
      );
    }
    const unit = rec.config.process.env.find((e) => e.startsWith("PODMAN_SYSTEMD_UNIT="))?.slice(20);
    const local = await findImage(root, image).catch(() => undefined);
    let pending = !local || local.id !== rec.config.image.id;
    if (!pending && policy === "registry") {
      const digest = await remote(image);
      pending = digest !== local!.digest && digest !== local!.indexDigest;
    }
    out.push({ rec, policy, image, unit, pending });
  }
  return out;
}
