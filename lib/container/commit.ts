/**
 * `commit`: a container's changes (its overlay upper dir) become one new layer on top of its image, with the
 * config updated (`--change`, author, message) and a history entry appended. The new image is registered only
 * after every blob is stored, so a commit killed at any moment leaves no half image visible.
 * @module
 */

import { PodError } from "../errors.ts";
import type { ImageConfig, ImageManifest } from "../oci/manifest.ts";
import { MediaType } from "../oci/media_types.ts";
import { containerPaths, getContainer } from "../store/containers.ts";
import { claimBlobs } from "../store/gc.ts";
import { readImageConfig, readManifest, resolveImage } from "../store/images.ts";
import { applyChanges } from "../image/changes.ts";
import { commitSquashed, commitUpperDir } from "../image/commit_layer.ts";
import { localImageName, registerNewImage } from "../image/new_image.ts";

/** Options of {@link commitContainer}. */
export interface CommitOptions {
  /** Name of the new image (`localhost/` is added to a name without a registry, as podman does). */
  image?: string;
  /** `--author`. */
  author?: string;
  /** `--message`: the history comment. */
  message?: string;
  /** `--change` instructions. */
  changes?: string[];
  /** Freeze a running container while its changes are read (default true, as podman). */
  pause?: boolean;
  /** Manifest and config media types: `oci` (default) or `docker` (Docker schema 2). */
  format?: "oci" | "docker";
  /**
   * `--include-volumes`: every bind and volume mount's destination becomes an image VOLUME; without it only
   * anonymous volumes do (as podman).
   */
  includeVolumes?: boolean;
  /**
   * `--squash`: one layer holding the container's whole file system (the image's layers and its changes), and
   * one history entry, as podman.
   */
  squash?: boolean;
}

/** The image VOLUMEs a commit adds for the container's mounts (see {@link CommitOptions.includeVolumes}). */
export function committedVolumes(
  mounts: { type: string; anonymous?: boolean; destination: string }[],
  includeVolumes: boolean,
): string[] {
  return mounts.filter((m) => m.type !== "tmpfs" && (includeVolumes || (m.type === "volume" && m.anonymous)))
    .map((m) => m.destination);
}

/** What a commit made. */
export interface CommitResult {
  /** Image ID. */
  id: string;
  /** The name it was stored under, if any. */
  name?: string;
}

/** Commits container `nameOrId` of the store at `root` as a new image. */
export async function commitContainer(
  root: string,
  nameOrId: string,
  opts: CommitOptions = {},
): Promise<CommitResult> {
  const name = opts.image ? localImageName(opts.image) : undefined;
  const changes = opts.changes ?? [];
  const rec = await getContainer(root, nameOrId);
  if (rec.config.storage?.driver !== "overlay") {
    throw new PodError(`container ${rec.config.name} uses the vfs storage driver: commit needs overlay`);
  }
  const base = await resolveImage(root, rec.config.image.id);
  const [bm, bc]: [ImageManifest, ImageConfig] = await Promise.all([
    readManifest(root, base),
    readImageConfig(root, base),
  ]);
  const runtime = applyChanges(bc.config, changes); // bad --change fails before any work
  const volumes = committedVolumes(rec.config.mounts ?? [], opts.includeVolumes ?? false);
  if (volumes.length) {
    runtime.Volumes = { ...runtime.Volumes };
    for (const v of volumes) runtime.Volumes[v] = {};
  }
  const id = rec.config.id;
  let paused = false;
  if ((opts.pause ?? true) && rec.state.status === "running") {
    const { setPaused } = await import("./lifecycle.ts");
    await setPaused(root, id, true);
    paused = true;
  }
  const claim = await claimBlobs(root);
  try {
    let layer;
    try {
      layer = opts.squash
        ? await commitSquashed(root, rec.config.name, id)
        : await commitUpperDir(root, containerPaths(root, id).upper, Deno.uid() !== 0);
    } finally {
      if (paused) {
        const { setPaused } = await import("./lifecycle.ts");
        await setPaused(root, id, false).catch(() => {});
      }
    }
    await claim.add([layer.digest]);
    const created = new Date().toISOString();
    const config: ImageConfig = {
      ...bc,
      created,
      ...(opts.author ? { author: opts.author } : {}),
      config: runtime,
      rootfs: { type: "layers", diff_ids: [...opts.squash ? [] : bc.rootfs.diff_ids, layer.diffId] },
      history: [
        ...(opts.squash ? [] : bc.history ?? []),
        {
          created,
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.message ? { comment: opts.message } : {}),
        },
      ],
    };
    const layers = [...opts.squash ? [] : bm.layers, {
      mediaType: MediaType.OciLayerGzip,
      digest: layer.digest,
      size: layer.size,
    }];
    return { id: await registerNewImage(root, config, layers, name, claim, opts.format), name };
  } finally {
    await claim.release();
  }
}
