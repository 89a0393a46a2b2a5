/**
 * Early start: stage 2 started before its container's spec exists (`run` in the foreground without
 * `-i`/`-t`), so util-linux `unshare`, the id maps and Deno's start-up (~20 ms) overlap with creating the
 * container. Stage 2 reads its spec as one line from its stdin, a pipe from this process (`launch` writes
 * it); EOF instead — {@link Prelaunched.cancel}, or this process died — makes it exit quietly.
 * @module
 */

import { checkHelpers } from "./helpers_check.ts";
import { traceTime } from "../log.ts";
import { bindTogether, type SymbolName } from "./libc.ts";
import { closeFd, openPipe, writeFd } from "./pipe.ts";
import type { LaunchSpec } from "./spec.ts";
import { PIPE_SYMBOLS, spawnProgram } from "./spawn.ts";
import { stage2Command } from "./stage2_command.ts";
import { exitCodeOf, spawnForeground, unshareCommand } from "./unshare.ts";
import { waitUserNs, writeMaps } from "./userns.ts";

/** Namespaces and id maps: what an early stage 2 is started with (see {@link prelaunch}). */
export type PrelaunchNs = Pick<LaunchSpec, "namespaces" | "uidMap" | "gidMap">;

/** A stage 2 started ahead of its spec (see the module doc). */
export interface Prelaunched {
  /** Namespaces and maps it was started with: a launch with other ones cancels it. */
  readonly key: string;
  /** Closes its stdin unwritten (a no-op once a launch took it). */
  cancel(): void;
  /** @internal used by `launch`. */
  readonly take: () => PrelaunchParts | undefined;
}

/** Where the spec goes: one write, then close (a close without a write: EOF, stage 2 exits quietly). */
export interface SpecWriter {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** What a launch takes over from an early start. */
export interface PrelaunchParts {
  specIn: SpecWriter;
  /** The `Deno.Command` child, whose piped output a logged launch pumps (a logged start only). */
  child?: Deno.ChildProcess;
  unsharePid: number;
  status: Promise<number>;
  exited: () => boolean;
  /** With a user namespace: its maps written (rejects when that failed; stage 2 then gets EOF). */
  ready: Promise<void>;
}

/** The {@link Prelaunched.key} of an early start with `ns`, its output piped (`logged`) or not. */
export function prelaunchKey(ns: PrelaunchNs, logged: boolean): string {
  return JSON.stringify([ns.namespaces, ns.uidMap ?? [], ns.gidMap ?? [], logged]);
}

/** A started early stage 2 (either way below). */
interface Started {
  pid: number;
  status: Promise<number>;
  specIn: SpecWriter;
  child?: Deno.ChildProcess;
}

/**
 * Starts stage 2 ahead of its spec (see {@link Prelaunched}); with a user namespace, its maps are written
 * meanwhile (`ready`). `logged`: its output is piped, for a launch with a `logPath`.
 */
export function prelaunch(ns: PrelaunchNs, logged = false): Prelaunched {
  // with a user namespace, the poll for it sleeps with libc's usleep (sleep.ts): bound in the same dlopen, as
  // is `mkfifo` (launch makes the state fifos with it next: alone it would be this process's first fast-call
  // stub, ~3 ms on the critical path); bound before the helpers' check, whose PATH lookup then needs no
  // exception per directory without the tool (helpers_check.ts)
  const direct = !logged && bindSpawn(ns.namespaces.user ? ["mkfifo", "usleep"] : ["mkfifo"]);
  checkHelpers({ rootless: ns.namespaces.user && Deno.uid() !== 0, detached: false });
  // with a user namespace there is no sync wait: stage 2 is exec'd at once, unmapped, its capabilities kept
  // as ambient ones, so Deno starts while the maps are written; its spec, sent once they are, lets it go on
  const cmd = unshareCommand(ns, stage2Command("-"), undefined, Deno.uid(), ns.namespaces.user);
  const started = (direct && spawnDirect(cmd)) || spawnCommand(cmd, logged);
  let exited = false;
  const status = started.status.then((code) => {
    exited = true;
    return code;
  });
  const pid = started.pid;
  traceTime("prelaunch: unshare spawned");
  const ready = ns.namespaces.user
    ? waitUserNs(pid, () => exited).then(() => (traceTime("prelaunch: userns seen"), writeMaps(pid, ns)))
      .then(() => traceTime("prelaunch: maps written"))
    : Promise.resolve();
  traceTime("prelaunch: userns wait begun");
  const specIn = started.specIn;
  ready.catch(() => specIn.close().catch(() => {})); // no maps: EOF, stage 2 exits
  let taken = false;
  return {
    key: prelaunchKey(ns, logged),
    cancel: () => {
      if (taken) return;
      taken = true;
      specIn.close().catch(() => {});
      started.child?.stdout.cancel().catch(() => {});
      started.child?.stderr.cancel().catch(() => {});
    },
    take: () => {
      if (taken) return undefined;
      taken = true;
      return { specIn, child: started.child, unsharePid: pid, status, exited: () => exited, ready };
    },
  };
}

/** `setsid unshare …` through `Deno.Command`, the spec through its piped stdin (output piped when `logged`). */
function spawnCommand(cmd: string[], logged: boolean): Started {
  const child = spawnForeground(cmd, "piped", logged);
  const w = child.stdin.getWriter();
  return {
    pid: child.pid,
    status: child.status.then(exitCodeOf),
    specIn: { write: (b) => w.write(b), close: () => w.close() },
    child: logged ? child : undefined,
  };
}

/** Binds the spawn and pipe symbols (and `also`) with one `dlopen`; false without FFI. */
function bindSpawn(also: SymbolName[]): boolean {
  try {
    bindTogether([...PIPE_SYMBOLS, ...also], "pointer");
    return true;
  } catch {
    return false;
  }
}

/**
 * `unshare …` started with `posix_spawnp` in a session of its own (no `setsid` program), the spec through a
 * pipe on its stdin, stdout and stderr inherited: on `run`'s critical path this is cheaper than the first
 * `Deno.Command` and one exec shorter. Undefined when it cannot be done (a missing program included: the
 * `Deno.Command` way then names it). Its symbols are bound first ({@link bindSpawn}).
 */
function spawnDirect(cmd: string[]): Started | undefined {
  let pipe: { read: number; write: number } | undefined;
  try {
    pipe = openPipe();
  } catch { /* no FFI */ }
  if (!pipe) return undefined;
  const env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`);
  let spawned;
  try {
    spawned = spawnProgram(cmd[0], cmd, { env, stdin: pipe.read, setsid: true });
  } catch { /* not found */ }
  closeFd(pipe.read);
  if (!spawned) {
    closeFd(pipe.write);
    return undefined;
  }
  const fd = pipe.write;
  let open = true;
  return {
    pid: spawned.pid,
    status: spawned.status,
    specIn: {
      // one small JSON line: a blocking write is over at once (stage 2 reads until its newline)
      write: (b) => open && writeFd(fd, b) ? Promise.resolve() : Promise.reject(new Error("stage 2 is gone")),
      close: () => {
        if (open) closeFd(fd);
        open = false;
        return Promise.resolve();
      },
    },
  };
}
