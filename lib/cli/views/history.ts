/** podman's `history` view of an image: one row per build step, newest first. @module */

import type { ImageSummary } from "../../image/summary.ts";
import { humanSize, timeAgo } from "../../format/units.ts";

/** One `history` row, with the template field names podman uses. */
export interface HistoryRow {
  /** The image ID on the newest step, `<missing>` on the others. */
  ID: string;
  /** `5 weeks ago` (or ISO time without `human`). */
  Created: string;
  /** ISO time. */
  CreatedAt: string;
  /** The build command (cut to 45 characters unless `noTrunc`). */
  CreatedBy: string;
  /** Layer size (human, or bytes without `human`). */
  Size: string;
  /** The step's comment. */
  Comment: string;
}

/** Header overrides of `history --format table …`. */
export const HISTORY_HEADERS: Readonly<Record<string, string>> = { CreatedBy: "CREATED BY" };

/** The default table's headers. */
export const HISTORY_COLUMNS: readonly string[] = ["ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"];

/** The `history` rows of an image, newest first. */
export function historyRows(s: ImageSummary, o: { noTrunc: boolean; human: boolean }): HistoryRow[] {
  const history = s.config.history?.length ? s.config.history : s.manifest.layers.map(() => ({
    created: s.config.created,
    created_by: "",
    empty_layer: false,
    comment: "",
  }));
  let layer = s.manifest.layers.length;
  // newest first, like podman; the top entry carries the image ID, the rest are <missing>
  return [...history].reverse().map((h, i) => {
    const size = h.empty_layer ? 0 : s.manifest.layers[--layer]?.size ?? 0;
    const created = h.created ? new Date(h.created) : s.created;
    const by = h.created_by ?? "";
    return {
      ID: i === 0 ? (o.noTrunc ? s.record.id : s.record.id.slice(0, 12)) : "<missing>",
      Created: o.human ? timeAgo(created) : created.toISOString(),
      CreatedAt: created.toISOString(),
      CreatedBy: o.noTrunc || by.length <= 45 ? by : by.slice(0, 42) + "...",
      Size: o.human ? humanSize(size) : String(size),
      Comment: h.comment ?? "",
    };
  });
}
