/**
 * Starts a detached container of pod's own runtime under conmon (issue 13, conmon2): writes the shim
 * (conmon_shim.ts) and runs conmon with it as the runtime; pod's exec fifo protocol (launch.ts) goes on as with
 * the perl supervisor. The caller's descriptors >= 3 are closed in the `bash` that execs conmon (conmon would
 * keep them open for the container's life), and conmon's sync pipe is its fd 3.
 * @module
 */

import { PodError } from "../errors.ts";
import { pidAlive } from "../proc.ts";
import { hostBinary } from "./helpers_check.ts";
import { traceTime } from "../log.ts";
import { conmonShim, type ShimExit } from "./conmon_shim.ts";
import type { ExitRecord } from "./supervisor.ts";
import { sleepMs } from "./sleep.ts";

/** How conmon supervises a container of pod's own runtime. */
export interface ConmonLaunch {
  /** conmon's binary and arguments, its runtime (`/bin/sh <shim>`) and exit command included. */
  argv: string[];
  /** Where the shim is written (`-r /bin/sh --runtime-arg <shim>`). */
  shim: string;
  /** conmon's own pid file (`-P`). */
  conmonPidFile: string;
  /** The shim's `exit` step (its exit record, teardown, events, hook). */
  exit: ShimExit;
}

const sleep = sleepMs; // not setTimeout: its first use loads node:timers (sleep.ts)

/**
 * Whether this process has a descriptor >= 3 without close-on-exec (a library user's own, or one inherited by
 * the CLI), which a spawned conmon would inherit: `/proc/self/fdinfo/N`'s `flags` (octal) lack `O_CLOEXEC`.
 * Deno opens its own descriptors close-on-exec, but for one `/dev/null` (left out: it keeps nothing open).
 */
export function hasInheritableFds(): boolean {
  try {
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      const n = Number(e.name);
      if (!(n > 2)) continue;
      let info: string;
      try {
        info = Deno.readTextFileSync(`/proc/self/fdinfo/${n}`);
      } catch {
        continue; // closed meanwhile (the directory listing's own descriptor)
      }
      const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
      if (flags !== undefined && parseInt(flags, 8) & 0o2000000) continue;
      // Deno keeps a /dev/null of its own open without close-on-exec: harmless in conmon (holds nothing open)
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${n}`) === "/dev/null") continue;
      } catch { /* closed meanwhile */ }
      return true;
    }
    return false;
  } catch {
    return true; // no /proc: close them to be safe
  }
}

/**
 * The command that runs `argv` (conmon) with every descriptor >= 3 it inherited closed and its stdout as fd 3
 * (conmon's sync pipe; it puts /dev/null on 0-2 itself). bash, as dash cannot name fds above 9 — only when
 * there is one to close ({@link hasInheritableFds}; pods6: dash starts faster, on every detached start's path).
 */
export function conmonSpawnCommand(argv: string[]): string[] {
  const bash = hasInheritableFds() ? hostBinary("bash") : undefined;
  const close =
    'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; ';
  return [bash ?? "/bin/sh", "-c", (bash ? close : "") + 'exec "$@" 3>&1 >/dev/null 2>&1', "sh", ...argv];
}

/**
 * Reads conmon's first sync-pipe message (`{"data": PID}`, or `{"data": -1, "message": "…"}` when the runtime's
 * `create` failed) and lets go of the pipe (conmon keeps its end open while the container runs).
 */
export async function readConmonSync(
  stream: ReadableStream<Uint8Array>,
): Promise<{ data: number; message?: string }> {
  const reader = stream.getReader();
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      const m = /\{[^}]*\}/.exec(text);
      if (m) return JSON.parse(m[0]);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return { data: -1, message: text.trim() || "conmon ended without creating the container" };
}

/**
 * Starts conmon for the unshare command `cmd` (`forks`: it reports the init's pid on fd 4); resolves to unshare's
 * pid, conmon's, and a status that settles with the exit record (-1 once `settled()` says nobody waits any
 * more; 125 when conmon could not create the container).
 */
export async function startConmon(
  c: ConmonLaunch,
  exitPath: string,
  cmd: string[],
  forks: boolean,
  settled: () => boolean,
): Promise<{ unsharePid: number; supervisorPid: number; status: Promise<number> }> {
  const unsharePidFile = `${c.shim}.unshare-pid`;
  for (const f of [exitPath, unsharePidFile, c.conmonPidFile, c.exit.conmonExit]) {
    try {
      Deno.removeSync(f);
    } catch { /* absent */ }
  }
  // a new file, renamed over the last start's: that start's `exit` step may still be reading it
  Deno.writeTextFileSync(`${c.shim}.tmp`, conmonShim(cmd, forks, unsharePidFile, c.exit), { mode: 0o600 });
  Deno.renameSync(`${c.shim}.tmp`, c.shim);
  const [prog, ...args] = conmonSpawnCommand(c.argv);
  const child = new Deno.Command(prog, {
    args,
    env: { _OCI_SYNCPIPE: "3" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  traceTime("conmon: spawned");
  let failed: string | undefined;
  const sync = readConmonSync(child.stdout).then((s) => {
    if (!(s.data > 0)) {
      failed = s.message?.trim().split("\n").at(-1) ?? "conmon could not create the container";
    }
    return s;
  });
  await child.status; // conmon's parent exits once its pid file is written
  traceTime("conmon: parent exited");
  const read = (f: string) => {
    try {
      const t = Deno.readTextFileSync(f).trim();
      return /^\d+$/.test(t) ? Number(t) : 0;
    } catch {
      return 0;
    }
  };
  const supervisorPid = read(c.conmonPidFile);
  let unsharePid = 0;
  for (let i = 0; !(unsharePid = read(unsharePidFile)); i++) {
    // conmon reports a failed create on its sync pipe; one that died (or never ran the shim) is looked at too
    const gone = i % 100 === 99 && !(supervisorPid > 0 && pidAlive(supervisorPid));
    if (failed !== undefined || gone || i > 6000) {
      throw new PodError(`conmon: ${failed ?? "the container's runtime did not start"}`);
    }
    await sleep(i < 100 ? 1 : 10);
  }
  const status = (async () => {
    while (!settled()) {
      try {
        return (JSON.parse(Deno.readTextFileSync(exitPath)) as ExitRecord).exitCode;
      } catch { /* not yet */ }
      if (failed !== undefined) return 125;
      await sleep(10);
    }
    return -1;
  })();
  sync.catch(() => {});
  return { unsharePid, supervisorPid, status };
}
