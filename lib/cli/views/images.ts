/** podman's `images` view: one row per image name (or `<none>`), its template fields and the default table. @module */

import { type ImageSummary, repoDigests } from "../../image/summary.ts";
import { humanSize, timeAgo } from "../../format/units.ts";

/** Header overrides of `images --format table …`. */
export const IMAGES_HEADERS: Readonly<Record<string, string>> = {
  ID: "IMAGE ID",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED",
};

/** One name of an image (`<none>` for an image without names). */
export interface ImageName {
  /** The image. */
  s: ImageSummary;
  /** Repository part of the name. */
  repository: string;
  /** Tag part of the name. */
  tag: string;
}

/** The template fields of one `images` row. */
export function imageRow(r: ImageName, noTrunc: boolean): Record<string, unknown> & {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedSince: string;
  Size: string;
} {
  const rec = r.s.record;
  return {
    ID: noTrunc ? `sha256:${rec.id}` : rec.id.slice(0, 12),
    Id: rec.id,
    Repository: r.repository,
    Tag: r.tag,
    Digest: rec.digest,
    Digests: repoDigests(rec),
    Names: rec.names,
    Created: Math.floor(r.s.created.getTime() / 1000),
    CreatedAt: r.s.created.toISOString(),
    CreatedSince: timeAgo(r.s.created),
    Size: humanSize(r.s.size),
    VirtualSize: r.s.size,
    Labels: r.s.config.config?.Labels ?? {},
    Dangling: rec.names.length === 0,
    Containers: 0,
  };
}

/** podman's default `images` table (with a DIGEST column for `--digests`). */
export function imagesTable(rows: ReturnType<typeof imageRow>[], digests: boolean): {
  headers: string[];
  rows: string[][];
} {
  return {
    headers: ["REPOSITORY", "TAG", ...(digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"],
    rows: rows.map((
      d,
    ) => [d.Repository, d.Tag, ...(digests ? [d.Digest] : []), d.ID, d.CreatedSince, d.Size]),
  };
}
