/**
 * Docker schema 2 → OCI manifest conversion. The OCI image layout (and so skopeo's `oci:` transport) only
 * lists OCI manifests, so pull stores Docker images as OCI manifests, as `skopeo copy … oci:` does. The config
 * blob is unchanged, so the image ID stays the same; only the manifest digest differs from the registry's.
 * @module
 */

import type { Descriptor, ImageManifest } from "./manifest.ts";
import { MediaType } from "./media_types.ts";

const LAYER_MAP: Record<string, string> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  "application/vnd.docker.image.rootfs.diff.tar": MediaType.OciLayer,
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
};

function convertDescriptor(d: Descriptor, mediaType: string): Descriptor {
  const out: Descriptor = { mediaType, digest: d.digest, size: d.size };
  if (d.urls?.length) out.urls = d.urls;
  if (d.annotations) out.annotations = d.annotations;
  return out;
}

/** True when the manifest is a Docker schema 2 manifest. */
export function isDockerManifest(m: ImageManifest): boolean {
  return m.mediaType === MediaType.DockerManifest;
}

/**
 * Converts a Docker schema 2 manifest to an OCI image manifest (same config and layer blobs). Returns the new
 * manifest and its canonical JSON bytes. An OCI manifest is returned unchanged (with `bytes` undefined).
 */
export function toOciManifest(m: ImageManifest): { manifest: ImageManifest; bytes?: Uint8Array } {
  if (!isDockerManifest(m)) return { manifest: m };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: convertDescriptor(
      m.config,
      m.config.mediaType === MediaType.DockerConfig ? MediaType.OciConfig : m.config.mediaType,
    ),
    layers: m.layers.map((l) => convertDescriptor(l, LAYER_MAP[l.mediaType] ?? l.mediaType)),
  };
  if (m.annotations) manifest.annotations = m.annotations;
  return { manifest, bytes: new TextEncoder().encode(JSON.stringify(manifest)) };
}
