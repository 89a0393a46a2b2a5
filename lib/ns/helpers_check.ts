/**
 * Checks that the host tools the runtime drives are installed and new enough, and says in one line what
 * to install when they are not (exit 125).
 * @module
 */

import { PodError } from "../errors.ts";
import { cstr, isBound, libc } from "./libc.ts";

const DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const found = new Map<string, string | undefined>();

/** The absolute path of a host program (host PATH, then the standard dirs), or undefined. */
export function hostBinary(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  let hit: string | undefined;
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter((d) => d.startsWith("/")), ...DIRS];
  // with `syscall` bound (run's early start binds it first), the dirs without it are skipped by one
  // faccessat(F_OK) each: a failing `Deno.statSync` throws, ~0.2 ms of CPU each (3 tools × 3 dirs per run)
  const probe = isBound("access");
  // a path (the compiled exec helper) as it is
  for (const path of name.startsWith("/") ? [name] : dirs.map((d) => `${d}/${name}`)) {
    if (probe && libc().access(cstr(path), 0) !== 0) continue;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0) & 0o111)) {
        hit = path;
        break;
      }
    } catch { /* next */ }
  }
  found.set(name, hit);
  return hit;
}

const UTIL_LINUX = 'install util-linux ("apt-get install util-linux" or "dnf install util-linux")';
const UIDMAP = 'install uidmap ("apt-get install uidmap" or "dnf install shadow-utils")';

/** Parses `util-linux 2.38.1` out of a `--version` line; undefined when absent. */
export function parseUtilLinuxVersion(text: string): [number, number] | undefined {
  const m = /util-linux[^\d]*(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

let versionOk: boolean | undefined;
let tooOld = "";

/**
 * Throws a one-line PodError (125) naming what to install when `unshare`, `nsenter`, `setsid` or (rootless)
 * `newuidmap`/`newgidmap` is missing, when perl is missing (`detached`), or when util-linux is older than
 * 2.38 (`nsenter --wdns`).
 */
export function checkHelpers(opts: { rootless: boolean; detached?: boolean; checkVersion?: boolean }): void {
  for (const tool of ["unshare", "nsenter", "setsid"]) {
    if (!hostBinary(tool)) throw utilLinuxMissing(tool);
  }
  if (opts.rootless) {
    for (const tool of ["newuidmap", "newgidmap"]) {
      if (!hostBinary(tool)) throw uidmapMissing(tool);
    }
  }
  if (opts.detached && !hostBinary("perl")) {
    throw new PodError('perl not found: install it ("apt-get install perl" or "dnf install perl")');
  }
  if (opts.checkVersion) checkUtilLinuxVersion(hostBinary("nsenter")!);
}

/** The one-line error for a missing util-linux program. */
export function utilLinuxMissing(tool: string): PodError {
  return new PodError(`${tool} not found: ${UTIL_LINUX}`, { code: "MISSING_TOOL" });
}

/** The one-line error for a missing `newuidmap`/`newgidmap`. */
export function uidmapMissing(tool: string): PodError {
  return new PodError(`${tool} not found: ${UIDMAP}`, { code: "MISSING_TOOL" });
}

/**
 * Throws a one-line PodError (125) when the util-linux of `nsenter` (a path) is older than 2.38 (no
 * `nsenter --wdns`). Runs `nsenter --version` once per process (a spawn: `exec` calls it only after a
 * failure, not on every run).
 */
export function checkUtilLinuxVersion(nsenter: string): void {
  if (versionOk === undefined) {
    const out = new Deno.Command(nsenter, { args: ["--version"], stderr: "null" }).outputSync();
    const v = parseUtilLinuxVersion(new TextDecoder().decode(out.stdout));
    versionOk = !v || v[0] > 2 || (v[0] === 2 && v[1] >= 38);
    if (!versionOk) tooOld = v!.join(".");
  }
  if (!versionOk) {
    throw new PodError(`util-linux ${tooOld} is too old (2.38 or newer is needed): ${UTIL_LINUX}`);
  }
}
