/**
 * OCI and Docker media types pod understands.
 * @module
 */

/** Media type constants. */
export const MediaType = {
  /** OCI image index (multi-platform). */
  OciIndex: "application/vnd.oci.image.index.v1+json",
  /** OCI image manifest. */
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  /** OCI image config. */
  OciConfig: "application/vnd.oci.image.config.v1+json",
  /** OCI uncompressed layer. */
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  /** OCI gzip layer. */
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  /** OCI zstd layer. */
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  /** Docker manifest list (multi-platform). */
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker image manifest schema 2. */
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  /** Docker image config. */
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  /** Docker gzip layer. */
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** Docker schema 1 manifest (refused). */
  DockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  /** Signed Docker schema 1 manifest (refused). */
  DockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/** Media types of multi-platform indexes. */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];

/** Media types of single-platform image manifests. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];

/** Media types of image configs. */
export const CONFIG_MEDIA_TYPES: readonly string[] = [MediaType.OciConfig, MediaType.DockerConfig];

/** Layer media types pod can unpack. */
export const LAYER_MEDIA_TYPES: readonly string[] = [
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.DockerLayerGzip,
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
];

/** Value of the `Accept` header for manifest requests, in preference order. */
export const MANIFEST_ACCEPT: string = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
].join(", ");

/** Compression of a layer media type: `gzip`, `zstd` or `none`. */
export function layerCompression(mediaType: string): "gzip" | "zstd" | "none" {
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip")) return "gzip";
  if (mediaType.endsWith("+zstd")) return "zstd";
  return "none";
}
