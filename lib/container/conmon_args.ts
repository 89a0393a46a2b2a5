/**
 * conmon's binary and command line (lib/container/start_conmon.ts), apart from the start itself: the early
 * detached start (start_early.ts) builds conmon's arguments before anything else of the start is loaded
 * (pods10: the modules start_conmon.ts brings along delayed conmon's spawn).
 * @module
 */

import type { ContainerRecord } from "../store/container_types.ts";
import { containerPaths } from "../store/container_paths.ts";
import { hostBinary } from "../ns/helpers_check.ts";
import { detachedLogOf } from "./log_options.ts";
import { podCommandLine } from "./self_command.ts";

const CONMON_PATHS = ["/usr/bin/conmon", "/usr/libexec/podman/conmon", "/usr/local/bin/conmon"];

/** The conmon binary, or `undefined` when the host has none (or `POD_SUPERVISOR=perl` asks for pod's own). */
export function conmonPath(): string | undefined {
  if (Deno.env.get("POD_SUPERVISOR") === "perl") return undefined;
  for (const p of CONMON_PATHS) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Whether conmon can supervise `c` as pod's perl supervisor would: no `-i`/`-t` (pod's attach is its own fifo),
 * no health check timer, no `--timeout`, no log size limit.
 */
export function conmonFits(c: ContainerRecord["config"]): boolean {
  return !c.process.stdin && !c.process.terminal && !c.healthcheck?.interval && !c.timeout && !c.logMaxSize;
}

/** conmon's argv (without the binary) for the container `c`; `runtime` is the runtime's argv before `create`. */
export function conmonArgs(
  root: string,
  c: ContainerRecord["config"],
  runtime: string[],
  pidFile: string,
  own?: { exitDir: string; exitCommand: string[]; bundle: string },
): string[] {
  const cp = containerPaths(root, c.id);
  const args = [
    "--api-version",
    "1",
    "-c",
    c.id,
    "-u",
    c.id,
    "-n",
    c.name,
    "-r",
    absolute(runtime[0]),
    ...runtime.slice(1).flatMap((a) => ["--runtime-arg", a]),
    "-b",
    own?.bundle ?? `${cp.dir}/bundle`,
    "-p",
    pidFile,
    "-P",
    `${cp.dir}/run/conmon.pid`,
    "-l",
    `k8s-file:${detachedLogOf(root, c)}`,
    "--exit-dir",
    own?.exitDir ?? cp.conmonExits,
    "--socket-dir-path",
    `${cp.dir}/run`,
  ];
  const exit = own
    ? own.exitCommand
    : c.restartPolicy
    ? podCommandLine(root, ["container", "cleanup", c.id])
    : [];
  if (exit.length) {
    const [cmd, ...rest] = exit;
    args.push("--exit-command", cmd, ...rest.flatMap((a) => ["--exit-command-arg", a]));
  }
  return args;
}

/** `prog` as a path (conmon execs its runtime without a PATH search). */
function absolute(prog: string): string {
  return prog.includes("/") ? prog : hostBinary(prog) ?? prog;
}
