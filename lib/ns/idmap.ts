/**
 * Rootless id maps: `/etc/subuid`/`/etc/subgid` parsing, podman's default and keep-id layouts, and
 * container-id → host-id translation.
 * @module
 */

import type { IdMapping } from "./spec.ts";

/** A subordinate id range of a user. */
export interface SubIdRange {
  start: number;
  count: number;
}

/**
 * The ranges of `/etc/subuid`-style `text` that belong to the user (by name or numeric id), in file order.
 * Comments, blank and malformed lines are ignored.
 */
export function parseSubIds(text: string, user: string, uid: number): SubIdRange[] {
  const out: SubIdRange[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(":");
    if (parts.length !== 3) continue;
    const [who, s, c] = parts;
    if (!/^\d+$/.test(s) || !/^\d+$/.test(c)) continue;
    if (who !== user && who !== String(uid)) continue;
    const start = Number(s), count = Number(c);
    if (count <= 0 || start + count > 0xffffffff) continue;
    out.push({ start, count });
  }
  return out;
}

/** Reads the user's ranges from a sub-id file; none when the file is missing. */
export function readSubIds(file: string, user: string, uid: number): SubIdRange[] {
  try {
    return parseSubIds(Deno.readTextFileSync(file), user, uid);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return [];
    throw e;
  }
}

/** podman's rootless layout: container 0 → `hostId`, 1..n → the sub-id ranges in order. */
export function defaultMap(hostId: number, ranges: SubIdRange[]): IdMapping[] {
  const maps: IdMapping[] = [{ containerId: 0, hostId, size: 1 }];
  let next = 1;
  for (const r of ranges) {
    maps.push({ containerId: next, hostId: r.start, size: r.count });
    next += r.count;
  }
  return maps;
}

/** The host id of `id` under `maps`, or undefined when it is not mapped. */
export function toHost(maps: IdMapping[], id: number): number | undefined {
  for (const m of maps) {
    if (id >= m.containerId && id < m.containerId + m.size) return m.hostId + id - m.containerId;
  }
  return undefined;
}

/** The container id of host id `id` under `maps`, or undefined. */
export function toContainer(maps: IdMapping[], id: number): number | undefined {
  for (const m of maps) if (id >= m.hostId && id < m.hostId + m.size) return m.containerId + id - m.hostId;
  return undefined;
}

/** Host ranges of the default map's container ids `[from, from+size)`, as mappings starting at `at`. */
function slice(def: IdMapping[], from: number, size: number, at: number): IdMapping[] {
  const out: IdMapping[] = [];
  for (const m of def) {
    const lo = Math.max(from, m.containerId), hi = Math.min(from + size, m.containerId + m.size);
    if (lo >= hi) continue;
    out.push({ containerId: at + lo - from, hostId: m.hostId + lo - m.containerId, size: hi - lo });
  }
  return out;
}

/**
 * podman's `--userns=keep-id` layout: container `id` → host `hostId` (the user), container 0..id-1 and
 * id+1.. → the sub-id ranges in order. With no sub-ids: just `id` → `hostId`.
 */
export function keepIdMap(hostId: number, id: number, ranges: SubIdRange[]): IdMapping[] {
  const def = defaultMap(hostId, ranges);
  const total = def.reduce((n, m) => n + m.size, 0);
  const below = Math.min(id, total - 1);
  const maps: IdMapping[] = [
    ...slice(def, 1, below, 0),
    { containerId: id, hostId, size: 1 },
    ...slice(def, 1 + below, total - 1 - below, id + 1),
  ];
  return maps.sort((a, b) => a.containerId - b.containerId);
}

/** The arguments newuidmap/newgidmap take after the pid: `c h s` triples. */
export function mapArgs(maps: IdMapping[]): string[] {
  return maps.flatMap((m) => [String(m.containerId), String(m.hostId), String(m.size)]);
}

/** The user's name (for sub-id lookup), from `$USER`/`$LOGNAME` or `/etc/passwd`. */
export function userName(uid: number): string {
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f.length > 2 && Number(f[2]) === uid && f[2] !== "") return f[0];
    }
  } catch { /* no passwd */ }
  return Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? String(uid);
}

/** Rootless uid and gid maps for the current user (`keepId`: podman's keep-id layout). */
export function rootlessMaps(
  opts: { keepId?: boolean; uid?: number; gid?: number; subuid?: string; subgid?: string } = {},
): { uidMap: IdMapping[]; gidMap: IdMapping[]; warning?: string } {
  const uid = opts.uid ?? Deno.uid()!, gid = opts.gid ?? Deno.gid()!;
  const name = userName(uid);
  const su = readSubIds(opts.subuid ?? "/etc/subuid", name, uid);
  const sg = readSubIds(opts.subgid ?? "/etc/subgid", name, uid);
  const warning = su.length && sg.length
    ? undefined
    : `no subuid/subgid ranges for user "${name}" in /etc/subuid ` +
      "and /etc/subgid: using a single-id mapping (container root only)";
  const uidMap = opts.keepId ? keepIdMap(uid, uid, su) : defaultMap(uid, su);
  const gidMap = opts.keepId ? keepIdMap(gid, gid, sg) : defaultMap(gid, sg);
  return { uidMap, gidMap, warning };
}
