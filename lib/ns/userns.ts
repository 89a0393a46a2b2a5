/**
 * Entering a user namespace, the one way pod does it. Deno cannot make or join one itself (it is
 * multi-threaded), so util-linux does: `unshare --user` for a new namespace, `nsenter --user` to join a
 * running container's. A new namespace with the store owner's maps (container 0 → the user, 1.. → the
 * `/etc/subuid` ranges, lib/ns/idmap.ts) gets them from stage 1: the command first waits on a sync fifo
 * ({@link SYNC_WAIT}) while this process waits for the namespace to exist, writes the maps with
 * `newuidmap`/`newgidmap` (as root: directly into `/proc/<pid>/*_map`) and lets it go
 * ({@link mapAndRelease}). The command then runs as the namespace's root with full capabilities; when the
 * user is not that root (`--userns=keep-id`), `--keep-caps` carries them across the exec.
 *
 * Stage 1's launch (launch.ts) builds its own `unshare` line from these parts (more namespaces, a pid 1);
 * everything else runs a command in a user namespace with {@link runInUserns}.
 * @module
 */

import { PodError } from "../errors.ts";
import { mkfifo } from "./fs.ts";
import { uidmapMissing, utilLinuxMissing } from "./helpers_check.ts";
import { mapArgs, toContainer } from "./idmap.ts";
import { sleepMs } from "./sleep.ts";
import type { IdMapping } from "./spec.ts";

/** The uid and gid maps of a user namespace. */
export interface IdMaps {
  uidMap?: IdMapping[];
  gidMap?: IdMapping[];
}

/**
 * `sh -c` step that waits for {@link mapAndRelease} on the fifo named by `$0`; no maps (stage 1 gone before
 * writing them) exits with 125 instead of running the command unmapped.
 */
export const SYNC_WAIT = 'read _ < "$0" || exit 125';

/**
 * The shell that runs {@link SYNC_WAIT} in a new user namespace, in privileged mode (`-p`). Without it dash
 * resets its effective uid when `getuid() != geteuid()` at start, and the maps may be written between those
 * two calls (unmapped: 65534; mapped: the user): dash then switches to the namespace's nobody and can no
 * longer open the sync fifo (EACCES, and `newgidmap` refuses the process as "owned by a different user").
 */
export const SYNC_SHELL: readonly string[] = ["/bin/sh", "-p", "-c"];

/**
 * Whether a command exec'd in a new user namespace with `uidMap` must be given the capabilities through the
 * exec (`unshare --keep-caps`): rootless with a map where the user is not the namespace's root (keep-id).
 */
export function needsKeepCaps(uidMap: IdMapping[] | undefined, uid: number | null = Deno.uid()): boolean {
  if (uid === 0 || uid === null) return false;
  return toContainer(uidMap ?? [], uid) !== 0;
}

/** Waits until `pid` is in a user namespace other than this process's; throws once `gone()` says it ended. */
export async function waitUserNs(
  pid: number,
  gone: () => boolean,
  what = "the container process",
): Promise<void> {
  const own = Deno.readLinkSync("/proc/self/ns/user");
  for (let i = 0;; i++) {
    let ns: string | undefined;
    try {
      // runperf: async, off the main thread: the link's read waits while the process execs (measured 20-40 ms
      // of a blocked CLI right after an early start's spawn, time it spends loading modules instead)
      ns = await Deno.readLink(`/proc/${pid}/ns/user`);
    } catch { /* not yet / gone */ }
    if (ns && ns !== own) return;
    if (gone()) throw new PodError(`${what} exited before its user namespace was set up`);
    await sleepMs(i < 20 ? 1 : 5); // not setTimeout: sleep.ts
  }
}

/** Writes the id maps of `pid`'s user namespace: directly as root, else with `newuidmap`/`newgidmap`. */
export async function writeMaps(pid: number, maps: IdMaps): Promise<void> {
  const uidMap = maps.uidMap ?? [], gidMap = maps.gidMap ?? [];
  if (!uidMap.length || !gidMap.length) throw new PodError("a user namespace needs uid and gid maps");
  if (Deno.uid() === 0) {
    const text = (m: IdMapping[]) => m.map((x) => `${x.containerId} ${x.hostId} ${x.size}\n`).join("");
    Deno.writeTextFileSync(`/proc/${pid}/uid_map`, text(uidMap));
    Deno.writeTextFileSync(`/proc/${pid}/gid_map`, text(gidMap));
    return;
  }
  const run = async (tool: string, m: IdMapping[]) => {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(tool, {
        args: [String(pid), ...mapArgs(m)],
        stdout: "null",
        stderr: "piped",
      })
        .output();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw uidmapMissing(tool);
      throw e;
    }
    if (!out.success) {
      const msg = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
      throw new PodError(`${tool} ${pid} ${mapArgs(m).join(" ")}: ${msg || `exit ${out.code}`}`);
    }
  };
  // run6: through posix_spawn first: in a rootless `run` these are the CLI's first `Deno.Command`s, and the
  // first one costs ~15 ms more than later ones; a failure runs the tool again that way, for its message
  const env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`);
  const direct = async (tool: string, m: IdMapping[]): Promise<boolean> => {
    try {
      const { bindTogether } = await import("./libc.ts");
      const { spawnProgram, SPAWN_SYMBOLS } = await import("./spawn.ts");
      bindTogether(SPAWN_SYMBOLS);
      const argv = [tool, String(pid), ...mapArgs(m)];
      const s = spawnProgram(tool, argv, { env, stdin: false, setsid: false, quiet: true });
      return !!s && await s.status === 0;
    } catch {
      return false; // no FFI, or not found (the Deno.Command way names it)
    }
  };
  const one = async (tool: string, m: IdMapping[]) => {
    if (!(await direct(tool, m))) await run(tool, m);
  };
  await Promise.all([one("newuidmap", uidMap), one("newgidmap", gidMap)]);
}

/**
 * Waits for the user namespace of `pid` (waiting on `syncFifo` with {@link SYNC_WAIT}), writes its maps, then
 * lets the fifo go. `status` settles when the process ends (`exited()` then says so).
 */
export async function mapAndRelease(
  pid: number,
  maps: IdMaps,
  syncFifo: string,
  status: Promise<unknown>,
  exited: () => boolean,
  what?: string,
): Promise<void> {
  await waitUserNs(pid, exited, what);
  await writeMaps(pid, maps);
  const sync = await Promise.race([Deno.open(syncFifo, { write: true }), status.then(() => undefined)]);
  if (sync) {
    await sync.write(new TextEncoder().encode("go\n"));
    sync.close();
  }
}

/** Which user namespace {@link runInUserns} runs a command in. */
export type UsernsTarget =
  /**
   * A new one with these maps (written by this process; `syncDir` holds the sync fifo meanwhile); `mount`:
   * also a new mount namespace (util-linux makes every mount in it private, nothing reaches the host).
   */
  | { maps: Required<IdMaps>; syncDir: string; mount?: boolean }
  /** A new one mapped by `unshare` itself: the user as root, with `subids` also the first sub-id range. */
  | { mapRootUser: true; subids: boolean }
  /** The user namespace of the running process `pid` (`nsenter --user --target`). */
  | { join: number };

/** How the command of {@link runInUserns} is run. */
export interface UsernsRunOptions {
  /** Extra environment. */
  env?: Record<string, string>;
  /** `inherit` (default): the command uses this process's stdio; `quiet`: no input, output dropped, stderr kept. */
  stdio?: "inherit" | "quiet";
}

/** The end of a {@link runInUserns} command: its exit code and, `quiet`, the first line of its stderr. */
export interface UsernsRunResult {
  code: number;
  stderr: string;
}

/** Runs `argv` in the user namespace `target` describes; resolves when it ends. */
export async function runInUserns(
  target: UsernsTarget,
  argv: string[],
  opts: UsernsRunOptions = {},
): Promise<UsernsRunResult> {
  if ("join" in target) {
    return await runHostTool("nsenter", ["--user", "--target", String(target.join), "--", ...argv], opts);
  }
  if ("mapRootUser" in target) {
    const flags = ["--user", ...(target.subids ? ["--map-auto"] : []), "--map-root-user"];
    return await runHostTool("unshare", [...flags, "--", ...argv], opts);
  }
  const { maps, syncDir } = target;
  await Deno.mkdir(syncDir, { recursive: true, mode: 0o700 });
  const fifo = `${syncDir}/userns-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.fifo`;
  await Deno.remove(fifo).catch(() => {});
  mkfifo(fifo, 0o600);
  const flags = ["--user"];
  if (needsKeepCaps(maps.uidMap)) flags.push("--keep-caps");
  if (target.mount) flags.push("--mount", "--propagation", "private");
  const shell = [...SYNC_SHELL, `${SYNC_WAIT}; exec "$@"`, fifo, ...argv];
  try {
    let done = false;
    return await runHostTool("unshare", [...flags, "--", ...shell], opts, async (pid, status) => {
      status.then(() => done = true);
      await mapAndRelease(pid, maps, fifo, status, () => done, "the user namespace helper");
    });
  } finally {
    await Deno.remove(fifo).catch(() => {});
  }
}

/**
 * Runs the util-linux program `cmd` (`unshare`, `nsenter`) with `args`; `started` (which may throw: the child
 * is then killed) runs once it has a pid. Resolves when it ends.
 */
export async function runHostTool(
  cmd: string,
  args: string[],
  opts: UsernsRunOptions,
  started?: (pid: number, status: Promise<Deno.CommandStatus>) => Promise<void>,
): Promise<UsernsRunResult> {
  const quiet = opts.stdio === "quiet";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      env: opts.env,
      stdin: quiet ? "null" : "inherit",
      stdout: quiet ? "null" : "inherit",
      stderr: quiet ? "piped" : "inherit",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw utilLinuxMissing(cmd);
    throw e;
  }
  const stderr = quiet ? new Response(child.stderr).text() : Promise.resolve("");
  const status = child.status;
  try {
    await started?.(child.pid, status);
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
    await status;
    await stderr.catch(() => {});
    throw e;
  }
  const s = await status;
  return { code: s.code, stderr: (await stderr).trim().split("\n")[0] };
}
