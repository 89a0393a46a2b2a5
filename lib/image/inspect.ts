/**
 * `inspect` data for images, shaped like podman's.
 * @module
 */

import { type ImageSummary, repoDigests } from "./summary.ts";

/** podman's image inspect object. */
export function imageInspectData(s: ImageSummary): Record<string, unknown> {
  const c = s.config.config ?? {};
  return {
    Id: s.record.id,
    Digest: s.record.digest,
    RepoTags: s.record.names.filter((n) => !n.includes("@")),
    RepoDigests: repoDigests(s.record),
    Parent: "",
    Comment: s.config.history?.at(-1)?.comment ?? "",
    Created: s.created.toISOString(),
    Config: {
      ...c,
      Env: c.Env ?? [],
      Labels: c.Labels ?? null,
    },
    Version: "",
    Author: s.config.author ?? "",
    Architecture: s.config.architecture,
    Os: s.config.os,
    ...(s.config.variant ? { Variant: s.config.variant } : {}),
    Size: s.size,
    VirtualSize: s.size,
    GraphDriver: { Name: "oci-layout", Data: {} },
    RootFS: { Type: "layers", Layers: s.config.rootfs?.diff_ids ?? [] },
    Labels: c.Labels ?? null,
    Annotations: s.manifest.annotations ?? {},
    ManifestType: s.record.manifest.mediaType,
    User: c.User ?? "",
    History: s.config.history ?? [],
    NamesHistory: s.record.names,
  };
}
