/**
 * The planned exec's last step without a spawn: pod's own process `execve`s the perl exec helper
 * (lib/ns/exec_helper.ts), so neither a `posix_spawn`, a wait, signal forwarding by Deno nor Deno's own exit
 * cost anything. The helper, told so by `POD_EXEC_DIED` in its environment, then does what pod did around the
 * spawned helper: it always forks (also without a pid namespace to join), starts the command in a session of
 * its own (as the spawned helper's `setsid` did: terminal signals reach pod's process, which forwards them),
 * forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, appends the `exec_died` event line and
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

/** The `exec_died` event line the helper writes: the log's path and the line around its time and code. */
export interface ExecDiedLine {
  /** The event log (empty: no event, `--events-backend none`). */
  path: string;
  /** The fields before `Time`, without the opening brace (`"ID":…,"Status":"exec_died"`). */
  head: string;
  /** The rest after `Time`, closing brace included (`,"Type":"container","Attributes":{…}}`). */
  tail: string;
}

/** Whether the helper of `plan` knows the in-place mode (a plan kept by an older pod does not). */
export function inPlaceCapable(plan: HelperPlan): boolean {
  return plan.argv[1] === "-e" && (plan.argv[2] ?? "").includes("POD_EXEC_DIED");
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
 * `/dev/null`), which writes `died` when the command ends. Returns only when that failed (the program is not
 * in PATH, `execve` refused): this process is then unchanged and the caller spawns the helper instead.
 */
export function execHelperInPlace(
  plan: HelperPlan,
  args: string[],
  interactive: boolean,
  died: ExecDiedLine,
): void {
  const file = findProgram(plan.argv[0]);
  if (!file) return;
  const env = [
    ...plan.env,
    `POD_EXEC_DIED=${[SYS_CLOCK_GETTIME, SYS_SETSID, died.path, died.head, died.tail].join("\x1f")}`,
  ];
  if (!interactive) env.push("POD_STDIN_NULL=1");
  const keep: Uint8Array[] = [];
  libc().execve(cstr(file), cstrArray([...plan.argv, ...args], keep), cstrArray(env, keep));
}
