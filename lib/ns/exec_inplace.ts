/**
 * The planned exec's last step without a spawn: pod's own process `execve`s the perl exec helper
 * (lib/ns/exec_helper.ts), so neither a `posix_spawn`, a wait, signal forwarding by Deno nor Deno's own exit
 * cost anything. The helper, told so by `POD_EXEC_EVENTS` in its environment, then does what pod did around the
 * spawned helper: it appends the `exec` event line (rotating a full log, as lib/store/events.ts), always forks (also without a pid namespace to join), starts the command in a session of
 * its own (as the spawned helper's `setsid` did: terminal signals reach pod's process, which forwards them),
 * forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, appends the `exec_died` line and
 * exits with the command's code (128+N for signal N, as pod's wait returned it). It resets SIGPIPE (Deno
 * ignores it, and `execve` keeps an ignored signal ignored), reopens stdin on `/dev/null` unless the exec is
 * interactive (`POD_STDIN_NULL`), and closes every inherited descriptor above stderr as before.
 *
 * The one libc symbol bound is `syscall` (execve is one system call: lib/ns/libc.ts).
 * @module
 */

import { cstr, cstrArray, libc } from "./libc.ts";
import type { HelperPlan } from "./exec_spawn.ts";

const arm = Deno.build.arch === "aarch64";
/** clock_gettime and setsid, the numbers the helper's in-place mode calls. */
const SYS_CLOCK_GETTIME = arm ? 113 : 228;
const SYS_SETSID = arm ? 157 : 112;

/** The `exec` and `exec_died` event lines the helper writes: the log's path and the lines around status and time. */
export interface ExecEventLines {
  /** The event log (empty: no event, `--events-backend none`). */
  path: string;
  /** The size past which the helper rotates the log first (lib/store/events.ts `eventsMaxSize`). */
  maxSize: number;
  /** The fields before `Status`, without the opening brace (`"ID":…,"Name":…`). */
  head: string;
  /** The rest after `Time`, closing brace included (`,"Type":"container","Attributes":{…}}`). */
  tail: string;
}

/** Whether the helper of `plan` knows the in-place mode (a plan kept by an older pod does not). */
export function inPlaceCapable(plan: HelperPlan): boolean {
  return plan.argv[1] === "-e" && (plan.argv[2] ?? "").includes("POD_EXEC_EVENTS");
}

/** `file` as execvp would find it in this process's PATH; undefined when it is not there. */
function findProgram(file: string): string | undefined {
  if (file.includes("/")) return file;
  let path = "/usr/local/bin:/usr/bin:/bin";
  try {
    path = Deno.env.get("PATH") ?? path;
  } catch { /* no env permission: the default */ }
  for (const dir of path.split(":")) {
    const p = `${dir || "."}/${file}`;
    try {
      const st = Deno.statSync(p);
      if (st.isFile && ((st.mode ?? 0) & 0o111) !== 0) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

/**
 * Replaces this process with `plan`'s helper running `args` (stdin inherited with `interactive`, else
 * `/dev/null`), which writes the `exec` event line when it starts and `exec_died` when the command ends. Returns only when that failed (the program is not
 * in PATH, `execve` refused): this process is then unchanged and the caller spawns the helper instead.
 */
export function execHelperInPlace(
  plan: HelperPlan,
  args: string[],
  interactive: boolean,
  events: ExecEventLines,
): void {
  const file = findProgram(plan.argv[0]);
  if (!file) return;
  const env = [
    ...plan.env,
    `POD_EXEC_EVENTS=${
      [SYS_CLOCK_GETTIME, SYS_SETSID, events.path, events.maxSize, events.head, events.tail].join("\x1f")
    }`,
  ];
  if (!interactive) env.push("POD_STDIN_NULL=1");
  const keep: Uint8Array[] = [];
  libc().execve(cstr(file), cstrArray([...plan.argv, ...args], keep), cstrArray(env, keep));
}
