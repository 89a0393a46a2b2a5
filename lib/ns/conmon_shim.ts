/**
 * conmon for pod's own runtime (issue 13, conmon2): conmon runs an OCI runtime (`RUNTIME create --bundle B
 * --pid-file P ID`, then waits for the pid in P as a child subreaper). For pod's own runtime that runtime is this
 * shim, a small `sh` script written into the container's run dir at each start (no Deno process on the start
 * path, no resident process beside conmon):
 *
 * - `create`: runs the `unshare` command pod prepared in the background, writes unshare's pid to a file pod polls
 *   (rootless, pod writes the id maps while unshare's `sh` waits on its sync fifo), and the container init's pid
 *   to P — with a pid namespace unshare's `sh` forks the init, reports its pid on fd 4 and exits (unshare.ts
 *   `reportPid`); without one, unshare execs stage 2 itself. The init is reparented to conmon.
 * - `exit` (conmon's `--exit-command`, run once conmon wrote the exit code; conmon waits for it): what pod's perl
 *   supervisor does when the command ended (supervisor.ts) — the network teardown script, the `died` and
 *   `cleanup` events, the cgroup's removal, the exit record (`exit.json`: code, finish time, whether the memory
 *   limit killed a process; last, so a `stop` or `wait` that waits for it logs its own event after `died`, as
 *   podman, and a start right after it makes the cgroup anew, not before its removal; written in place, in one
 *   write), then the restart
 *   policy's `pod container cleanup`, in its own session.
 * - anything else (`start`, `kill`, `delete`, `state`): nothing (pod signals the init by pid).
 * @module
 */

import { shQuote } from "./sh_quote.ts";

/** What the shim's `exit` step needs (each optional part left out when unused). */
export interface ShimExit {
  /** conmon's exit file for the container (`<exit dir>/<id>`: the code alone). */
  conmonExit: string;
  /** The exit record pod reads (written atomically). */
  exitJson: string;
  /** A shell script run (if it exists then, with a 60 s limit) before the exit record: the network teardown. */
  netHook?: string;
  /** The file whose `oom_kill N` says whether the memory limit killed a process. */
  oomFile?: string;
  /** The container's cgroup directories, removed once it ended. */
  cgroupDirs?: string[];
  /** The event log and the parts of the `died`/`cleanup` lines (see supervisor.ts SupervisorEvents). */
  events?: { path: string; head: string; tail: string };
  /** Started in its own session at the end (`pod container cleanup ID`: the restart policy). */
  hook?: string[];
  /**
   * pods7 (issue 15): the claim file (lib/container/exit_claim.ts): the exit step creates it with O_EXCL
   * first and leaves at once when it exists (a `stop` recorded the exit itself).
   */
  claim?: string;
}

const words = (argv: string[]) => argv.map(shQuote).join(" ");

/**
 * pods9: an early start's fifos (lib/ns/conmon_launch.ts `startEarlyConmon`): the shim's `create` reads the
 * unshare command from `command` (one line of shell words, when pod knows it: at once, or once a pod's infra
 * runs; an empty line or EOF: cancelled, the create fails) and runs it with `spec` as its stdin (stage 2 reads
 * its spec there). pod holds both open until conmon's create is over (a fifo nobody holds open loses what was
 * written to it).
 */
export interface EarlyFifos {
  command: string;
  spec: string;
}

/**
 * The shim's source. `launch`: the unshare command line, or where an early start reads it; `forks`: it forks
 * the init and reports its pid on fd 4; `unsharePid`: the file that gets unshare's pid; `exit`: the exit
 * step's parts (none: it does nothing, an early start's shim until its launch writes the real one).
 */
export function conmonShim(
  launch: string[] | EarlyFifos,
  forks: boolean,
  unsharePid: string,
  exit: ShimExit | undefined,
): string {
  const q = shQuote;
  const early = Array.isArray(launch) ? undefined : launch;
  // each fifo opened read-write first, so the read-only open does not block (pod may be gone), then read-only
  // alone: EOF when pod's end closes. An empty line: cancelled
  const open = early
    ? `exec 6<>${q(early.command)} 7<${q(early.command)} 6>&-; exec 6<>${q(early.spec)} 5<${
      q(early.spec)
    } 6>&-; read -r c <&7 && [ -n "$c" ] || exit 1; exec 7<&-; eval "set -- $c"; `
    : "";
  const cmd = early ? '"$@" <&5 5<&-' : words(launch as string[]);
  const create = forks
    ? `${open}${cmd} 4>"$p" & echo $! >${q(unsharePid)}; wait $!`
    : `${open}${cmd} & echo $! >"$p"; echo $! >${q(unsharePid)}`;
  const lines = [
    "case $1 in",
    "create)",
    '  while [ $# -gt 1 ]; do [ "$1" = --pid-file ] && p=$2; shift; done',
    `  ${create} ;;`,
    "exit)",
  ];
  // pods9: an early start's shim until its launch writes the real one: the exit of a cancelled start records
  // nothing (pod removes what it left)
  if (!exit) return [...lines, "  ;;", "esac", ""].join("\n");
  // pods7: noclobber's O_EXCL (a builtin: no fork); `true`, not `:`, so a failed redirection does not end dash
  if (exit.claim) lines.push(`  set -C; true 2>/dev/null >${q(exit.claim)} || exit 0; set +C`);
  lines.push(
    // builtins where they do (read, test, printf): each external command is a fork+exec on a stop's path
    `  code=; read -r code 2>/dev/null <${q(exit.conmonExit)}; case $code in ''|*[!0-9-]*) code=137 ;; esac`,
  );
  if (exit.netHook) lines.push(`  [ -e ${q(exit.netHook)} ] && timeout 60 /bin/sh ${q(exit.netHook)}`);
  lines.push("  oom=");
  if (exit.oomFile) {
    lines.push(
      `  while read -r k v; do [ "$k" = oom_kill ] && [ "$v" != 0 ] && oom=',"oomKilled":true'; done 2>/dev/null <${
        q(exit.oomFile)
      }`,
    );
  }
  lines.push("  t=$(date -u +%Y-%m-%dT%H:%M:%S.%N)");
  if (exit.events) {
    const { path, head, tail } = exit.events;
    lines.push(
      '  e=$t; while [ "${e%0}" != "$e" ]; do e=${e%0}; done; e=${e%.}Z',
      `  x=; [ "$code" = 0 ] || x="\\"ContainerExitCode\\":$code,"`,
      `  h=${q(head)}; z=${q(tail)}`,
      `  printf '{%s%s,"Status":"%s","Time":"%s"%s\\n' "$x" "$h" died "$e" "$z" "$x" "$h" cleanup "$e" "$z" >>${
        q(path)
      }`,
    );
  }
  const dirs = exit.cgroupDirs ?? [];
  if (dirs.length) {
    // one rmdir for all that is left (a cgroup v1 host has a dir per controller), retried while it is busy
    lines.push(
      `  i=0; while [ $i -lt 100 ]; do set --; for d in ${
        words(dirs)
      }; do [ -d "$d" ] && set -- "$@" "$d"; done`,
      '    [ $# = 0 ] && break; rmdir -- "$@" 2>/dev/null && break; i=$((i + 1)); sleep 0.02; done',
    );
  }
  // pods6: one write(2) of the whole line (dash's printf flushes once), no temp file and `mv` (a fork+exec on
  // every stop's path): readers take a file that does not parse (empty, or cut short) as "not yet", and only
  // the whole line ends in `}`
  lines.push(
    `  printf '{"exitCode":%s,"finishedAt":"%sZ"%s}\\n' "$code" "$t" "$oom" >${q(exit.exitJson)}`,
  );
  if (exit.hook?.length) lines.push(`  setsid ${words(exit.hook)} </dev/null >/dev/null 2>&1 &`);
  lines.push("  ;;", "esac", "");
  return lines.join("\n");
}
