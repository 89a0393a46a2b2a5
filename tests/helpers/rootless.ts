/**
 * The unprivileged test user for rootless tests (`podtest`, with subordinate id ranges in /etc/subuid and
 * /etc/subgid), prepared by `scripts/setup-test-host.sh`. Its ranges are whatever the host gave it (useradd, or
 * the script picks the first free range): tests read them with {@link subIdRanges}, never assume `100000`.
 *
 * ```ts
 * Deno.test({ name: "rootless run", ignore: !(await rootlessAvailable()), fn: async () => { … } });
 * ```
 * @module
 */

import { readSubIds, type SubIdRange } from "../../lib/ns/idmap.ts";

/** The test user's name (`$POD_TEST_USER`, default `podtest`). */
export const TEST_USER: string = Deno.env.get("POD_TEST_USER") ?? "podtest";

/** A passwd entry. */
export interface UserInfo {
  /** Name. */
  name: string;
  /** uid. */
  uid: number;
  /** Primary gid. */
  gid: number;
  /** Home directory. */
  home: string;
}

const SETUP_SCRIPT = new URL("../../scripts/setup-test-host.sh", import.meta.url).pathname;

/** Look a user up in `/etc/passwd`; `null` when missing. */
export async function lookupUser(name: string = TEST_USER): Promise<UserInfo | null> {
  let text: string;
  try {
    text = await Deno.readTextFile("/etc/passwd");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 7) {
      return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
    }
  }
  return null;
}

/**
 * The test user's subordinate id ranges in `/etc/subuid` (or `file`), in file order — the ranges newuidmap
 * lets it map; empty when the user or its entries are missing.
 */
export async function subIdRanges(file = "/etc/subuid", name: string = TEST_USER): Promise<SubIdRange[]> {
  const u = await lookupUser(name);
  return u ? readSubIds(file, name, u.uid) : [];
}

/**
 * The host id of container id `id` (≥ 1) in a rootless container of the test user with podman's default
 * layout: container 0 is the user, 1.. run through its ranges of `file` in order.
 */
export async function subordinateHostId(id: number, file = "/etc/subuid"): Promise<number> {
  let first = 1;
  for (const r of await subIdRanges(file)) {
    if (id < first + r.count) return r.start + id - first;
    first += r.count;
  }
  throw new Error(`id ${id} is beyond ${TEST_USER}'s ranges in ${file}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function hasSubidEntry(file: string, name: string): Promise<boolean> {
  try {
    return (await Deno.readTextFile(file)).split("\n").some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/**
 * Make sure the test user exists with subuid/subgid ranges (runs `scripts/setup-test-host.sh` when something is
 * missing; needs root). Returns the user, or throws when it cannot be prepared.
 */
export async function ensureRootlessUser(name: string = TEST_USER): Promise<UserInfo> {
  let u = await lookupUser(name);
  if (
    u && await hasSubidEntry("/etc/subuid", name) && await hasSubidEntry("/etc/subgid", name) &&
    await exists(`${u.home}/.cache/deno`)
  ) {
    return u;
  }
  if (Deno.uid() !== 0) throw new Error(`test user ${name} is not set up and we are not root`);
  const out = await new Deno.Command("bash", { args: [SETUP_SCRIPT, name], stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`setup-test-host.sh failed: ${new TextDecoder().decode(out.stderr)}`);
  u = await lookupUser(name);
  if (!u) throw new Error(`setup-test-host.sh did not create ${name}`);
  return u;
}

/**
 * Whether rootless tests can run here: we are root (to switch to the user with `runuser`), `newuidmap` and
 * `newgidmap` are installed, the test user exists and has subuid/subgid entries.
 */
export async function rootlessAvailable(name: string = TEST_USER): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  if (!await exists("/usr/bin/newuidmap") || !await exists("/usr/bin/newgidmap")) return false;
  if (!await lookupUser(name)) return false;
  return await hasSubidEntry("/etc/subuid", name) && await hasSubidEntry("/etc/subgid", name);
}
