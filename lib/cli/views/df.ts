/** podman's `system df` views: the summary table and the verbose per-object tables. @module */

import type { systemDf } from "../../container/prune.ts";
import { humanDuration, humanSize } from "../../format/units.ts";

type Df = Awaited<ReturnType<typeof systemDf>>;

/** Header overrides of `system df --format table …`. */
export const DF_HEADERS: Readonly<Record<string, string>> = {
  Type: "TYPE",
  Total: "TOTAL",
  Active: "ACTIVE",
  Size: "SIZE",
  Reclaimable: "RECLAIMABLE",
};

/** A titled table. */
export interface DfTable {
  /** Printed before the table (verbose mode), else empty. */
  title: string;
  /** Column headers. */
  headers: string[];
  /** Cells. */
  rows: string[][];
}

const size = (n: number) => humanSize(n, 3).replace(" ", "");

/** The summary table: TYPE TOTAL ACTIVE SIZE RECLAIMABLE. */
export function dfSummary(df: Df): DfTable {
  return {
    title: "",
    headers: ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
    rows: df.rows.map((r) => [r.Type, String(r.Total), String(r.Active), r.Size, r.Reclaimable]),
  };
}

/** `-v`: images, containers and volumes, each in a table of its own. */
export function dfVerbose(df: Df, now = Date.now()): DfTable[] {
  const { images, containers, volumes } = df.details;
  return [{
    title: "Images space usage:",
    headers: ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"],
    rows: images.map((i) => [
      i.repository,
      i.tag,
      i.id.slice(0, 12),
      `${humanDuration(now - i.created.getTime())} ago`,
      size(i.size),
      size(i.shared),
      size(i.unique),
      String(i.containers),
    ]),
  }, {
    title: "Containers space usage:",
    headers: ["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"],
    rows: containers.map((c) => [
      c.id.slice(0, 12),
      c.image,
      JSON.stringify(c.command.length > 20 ? c.command.slice(0, 17) + "..." : c.command),
      String(c.volumes),
      size(c.size),
      c.created,
      c.status,
      c.name,
    ]),
  }, {
    title: "Local Volumes space usage:",
    headers: ["VOLUME NAME", "LINKS", "SIZE"],
    rows: volumes.map((v) => [v.name, String(v.links), size(v.size)]),
  }];
}
