/** Manifest formats: an image's stored OCI manifest as a Docker schema 2 manifest (same blobs). @module */

import { PodError } from "../errors.ts";
import type { ImageManifest } from "../oci/manifest.ts";
import { MediaType } from "../oci/media_types.ts";

/** Manifest formats `push --format` writes (`v2s2`: Docker schema 2). */
export type ManifestFormat = "oci" | "v2s2";

const TO_DOCKER: Record<string, string> = {
  [MediaType.OciLayerGzip]: MediaType.DockerLayerGzip,
  [MediaType.OciLayer]: "application/vnd.docker.image.rootfs.diff.tar",
  [MediaType.DockerLayerGzip]: MediaType.DockerLayerGzip,
};

/** The manifest in `format`: OCI as stored, or Docker schema 2 with the same blobs. */
export function convertManifest(m: ImageManifest, format: ManifestFormat): ImageManifest {
  if (format === "oci") return m;
  const layers = m.layers.map((l) => {
    const mt = TO_DOCKER[l.mediaType];
    if (!mt) {
      throw new PodError(`layer ${l.digest} (${l.mediaType}) cannot be written as a Docker schema 2 layer`);
    }
    return { mediaType: mt, digest: l.digest, size: l.size };
  });
  return {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: { mediaType: MediaType.DockerConfig, digest: m.config.digest, size: m.config.size },
    layers,
  };
}
