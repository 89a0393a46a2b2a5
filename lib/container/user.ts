/**
 * Resolving `-u user[:group]` against the container's own `/etc/passwd` and `/etc/group`, read inside the
 * rootfs (every symlink resolved inside it, so an image cannot point these reads at the host's files).
 * @module
 */

import { PodError } from "../errors.ts";
import { resolveInRoot } from "../unpack/contain.ts";
import { splitUserSpec } from "./process_options.ts";

/** One /etc/passwd line. */
export interface PasswdEntry {
  /** Login name. */
  name: string;
  /** uid. */
  uid: number;
  /** Primary gid. */
  gid: number;
  /** Home directory. */
  home: string;
}

/** One /etc/group line. */
export interface GroupEntry {
  /** Group name. */
  name: string;
  /** gid. */
  gid: number;
  /** Member user names. */
  members: string[];
}

/** The resolved identity of the container process. */
export interface ExecUser {
  /** uid. */
  uid: number;
  /** gid. */
  gid: number;
  /** Supplementary gids. */
  additionalGids: number[];
  /** Home directory (for HOME). */
  home: string;
}

/** Parses /etc/passwd text (malformed lines skipped). */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 4 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "" });
  }
  return out;
}

/** Parses /etc/group text (malformed lines skipped). */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 3 || !/^\d+$/.test(f[2])) continue;
    out.push({
      name: f[0],
      gid: Number(f[2]),
      members: (f[3] ?? "").split(",").map((s) => s.trim()).filter((s) => s),
    });
  }
  return out;
}

const MAX_ID = 0xffffffff - 1;

function numeric(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

/** Resolves a user spec against parsed passwd/group data (pure). */
export function resolveUser(spec: string, passwd: PasswdEntry[], groups: GroupEntry[]): ExecUser {
  const { user, group } = splitUserSpec(spec);
  const u = user === "" ? "0" : user;
  const uidNum = numeric(u);
  let entry: PasswdEntry | undefined;
  if (uidNum === undefined) {
    entry = passwd.find((p) => p.name === u);
    if (!entry) throw new PodError(`unable to find user ${u}: no matching entries in passwd file`);
  } else {
    entry = passwd.find((p) => p.uid === uidNum);
  }
  const uid = uidNum ?? entry!.uid;
  let gid = entry?.gid ?? 0;
  const additional: number[] = [];
  if (group !== undefined && group !== "") {
    const g = numeric(group);
    if (g !== undefined) gid = g;
    else {
      const ge = groups.find((x) => x.name === group);
      if (!ge) throw new PodError(`unable to find group ${group}: no matching entries in group file`);
      gid = ge.gid;
    }
  } else if (entry) {
    for (const g of groups) {
      if (g.members.includes(entry.name) && !additional.includes(g.gid)) additional.push(g.gid);
    }
  }
  if (!additional.includes(gid)) additional.unshift(gid);
  return { uid, gid, additionalGids: additional, home: entry?.home || "/" };
}

/** Reads a file inside `rootfs` with chroot semantics; empty text when missing or unreadable. */
export function readInRoot(rootfs: string, path: string): string {
  try {
    const host = resolveInRoot(rootfs, path, { follow: true });
    const info = Deno.statSync(host);
    if (!info.isFile || info.size > 16 << 20) return "";
    return Deno.readTextFileSync(host);
  } catch {
    return "";
  }
}

/** Resolves `spec` against the rootfs' own /etc/passwd and /etc/group. */
export function resolveUserInRoot(rootfs: string, spec: string): ExecUser {
  const { user, group } = splitUserSpec(spec);
  const needPasswd = true; // HOME and supplementary groups come from it even for numeric ids
  const passwd = needPasswd ? parsePasswd(readInRoot(rootfs, "/etc/passwd")) : [];
  const groups =
    (group && numeric(group) === undefined) || numeric(user || "0") === undefined || passwd.length
      ? parseGroup(readInRoot(rootfs, "/etc/group"))
      : [];
  return resolveUser(spec, passwd, groups);
}
