/**
 * Registering an image made here (commit, import): its config and OCI manifest stored as blobs, then its name
 * (or a nameless entry) added to `index.json` — last, so a half-made image is never visible.
 * @module
 */

import { UsageError } from "../errors.ts";
import type { Descriptor, ImageConfig, ImageManifest } from "../oci/manifest.ts";
import { convertManifest } from "./manifest_convert.ts";
import { MediaType } from "../oci/media_types.ts";
import { isDomain, parseReference } from "../oci/reference.ts";
import { putBlobBytes } from "../store/blobs.ts";
import { addDanglingImage, addImage } from "../store/images.ts";

/** The stored name of a new image: `name` → `localhost/name:latest`, as podman names commits and imports. */
export function localImageName(name: string): string {
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

/**
 * Stores `config` and a manifest of `layers` and registers the image under `name` (already normalized) or
 * without a name (`annotations`: the manifest's, OCI format only). `claim` protects the new blobs from a concurrent gc until the image is registered.
 * Returns the image ID.
 */
export async function registerNewImage(
  root: string,
  config: ImageConfig,
  layers: Descriptor[],
  name: string | undefined,
  claim: { add(d: string[]): Promise<void> },
  format: "oci" | "docker" = "oci",
  annotations?: Record<string, string>,
): Promise<string> {
  const cbytes = new TextEncoder().encode(JSON.stringify(config));
  const configDigest = await putBlobBytes(root, cbytes);
  let manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configDigest, size: cbytes.length },
    layers,
    ...(annotations ? { annotations } : {}),
  };
  if (format === "docker") manifest = convertManifest(manifest, "v2s2");
  const mbytes = new TextEncoder().encode(JSON.stringify(manifest));
  const mdigest = await putBlobBytes(root, mbytes);
  await claim.add([configDigest, mdigest]);
  const desc = { mediaType: manifest.mediaType, digest: mdigest, size: mbytes.length };
  if (name) await addImage(root, { ref: name, manifest: desc, configDigest });
  else await addDanglingImage(root, desc, configDigest);
  return configDigest.slice(7);
}
