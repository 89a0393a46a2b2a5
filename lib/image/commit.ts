/**
 * `commit`: a container's changes (its overlay upper dir) become one new layer on top of its image, with the
 * config updated (`--change`, author, message) and a history entry appended. The new image is registered only
 * after every blob is stored, so a commit killed at any moment leaves no half image visible.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import type { ImageConfig, ImageManifest } from "../oci/manifest.ts";
import { MediaType } from "../oci/media_types.ts";
import { isDomain, parseReference } from "../oci/reference.ts";
import { putBlobBytes } from "../store/blobs.ts";
import { containerPaths, getContainer } from "../store/containers.ts";
import { claimBlobs } from "../store/gc.ts";
import { addDanglingImage, addImage, readImageConfig, readManifest, resolveImage } from "../store/images.ts";
import { applyChanges } from "./changes.ts";
import { commitUpperDir } from "./commit_layer.ts";

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
}

/** What a commit made. */
export interface CommitResult {
  /** Image ID. */
  id: string;
  /** The name it was stored under, if any. */
  name?: string;
}

/** The stored name of a commit target: `name` → `localhost/name:latest`, as podman. */
export function commitName(name: string): string {
  const first = name.split("/")[0];
  const qualified = name.includes("/") && isDomain(first) ? name : `localhost/${name}`;
  try {
    const r = parseReference(qualified);
    if (r.digest) throw new Error("a digest is not a name");
    return r.toString();
  } catch (e) {
    throw new UsageError(`invalid image name "${name}": ${(e as Error).message}`);
  }
}

/** Commits container `nameOrId` of the store at `root` as a new image. */
export async function commitContainer(
  root: string,
  nameOrId: string,
  opts: CommitOptions = {},
): Promise<CommitResult> {
  const name = opts.image ? commitName(opts.image) : undefined;
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
  const id = rec.config.id;
  let paused = false;
  if ((opts.pause ?? true) && rec.state.status === "running") {
    const { setPaused } = await import("../container/lifecycle.ts");
    await setPaused(root, id, true);
    paused = true;
  }
  const claim = await claimBlobs(root);
  try {
    let layer;
    try {
      layer = await commitUpperDir(root, containerPaths(root, id).upper, Deno.uid() !== 0);
    } finally {
      if (paused) {
        const { setPaused } = await import("../container/lifecycle.ts");
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
      rootfs: { type: "layers", diff_ids: [...bc.rootfs.diff_ids, layer.diffId] },
      history: [
        ...(bc.history ?? []),
        {
          created,
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.message ? { comment: opts.message } : {}),
        },
      ],
    };
    const cbytes = new TextEncoder().encode(JSON.stringify(config));
    const configDigest = await putBlobBytes(root, cbytes);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: cbytes.length },
      layers: [...bm.layers, { mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.size }],
    };
    const mbytes = new TextEncoder().encode(JSON.stringify(manifest));
    const mdigest = await putBlobBytes(root, mbytes);
    await claim.add([configDigest, mdigest]);
    const desc = { mediaType: MediaType.OciManifest, digest: mdigest, size: mbytes.length };
    if (name) await addImage(root, { ref: name, manifest: desc, configDigest });
    else await addDanglingImage(root, desc, configDigest);
    return { id: configDigest.slice(7), name };
  } finally {
    await claim.release();
  }
}
