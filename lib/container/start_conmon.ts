/**
 * conmon as the supervisor (issue 13): a detached `--runtime runc|crun|PATH` container is created and watched by
 * Debian's conmon, the way podman does it — `conmon -r RUNTIME -b BUNDLE -c ID … -l k8s-file:LOG --exit-dir …`,
 * then `RUNTIME start ID`. conmon keeps the k8s-file log (the shape pod reads), writes the exit code to
 * `exits/<id>` (read by lib/store/container_state.ts) and runs `pod container cleanup` as its exit command when
 * the container has a restart policy. Idle, it costs 0.33 MiB private per container against the perl
 * supervisor's 0.70 (`scripts/bench_idle.ts --runc`).
 *
 * What conmon doesn't do stays with the perl supervisor (lib/ns/supervisor.ts): `-i` (pod's attach fifo),
 * health checks, `--timeout`, `--log-opt max-size` (pod rotates to `<log>.1`). Without conmon on the host, or with
 * `POD_SUPERVISOR=perl` in the environment, the perl supervisor is used, silently (conmon is optional).
 *
 * conmon2: detached containers of pod's own runtime go to conmon the same way when they fit
 * ({@link ownConmonLaunch}): its runtime is then a `sh` shim (lib/ns/conmon_shim.ts) that runs pod's `unshare`
 * command and, as conmon's exit command, does the perl supervisor's end duties.
 * @module
 */

import { PodError } from "../errors.ts";
import type { CgroupSpec } from "../ns/cgroup.ts";
import { type ConmonLaunch, readConmonSync } from "../ns/conmon_launch.ts";
import { debug } from "../log.ts";
import { hostBinary } from "../ns/helpers_check.ts";
import { containerPaths, type ContainerRecord, nowNano, writeState } from "../store/containers.ts";
import { writePidFiles } from "./start_extras.ts";
import { startedState } from "./start_state.ts";
import { ociRuntimeName } from "./oci_runtime_name.ts";
import { exitClaimPath } from "./exit_claim.ts";
import { conmonArgs, conmonFits, conmonPath } from "./conmon_args.ts";
import { podCommandLine } from "./self_command.ts";

export { conmonArgs, conmonFits, conmonPath } from "./conmon_args.ts";

/** Starts a runc/crun container under conmon: create (conmon), start (the runtime); the `running` state. */
export async function startRuncConmon(
  root: string,
  rec: ContainerRecord,
  runc: { oci: typeof import("./oci_runtime.ts"); path: string },
  conmon: string,
  byPolicy?: boolean,
): Promise<ContainerRecord["state"]> {
  const c = rec.config, id = c.id, cp = containerPaths(root, id);
  const l = await runc.oci.runcLaunch(root, c, runc.path, "create");
  await Deno.mkdir(cp.conmonExits, { recursive: true, mode: 0o700 });
  await Deno.remove(`${cp.dir}/run/${id}`).catch(() => {}); // the attach link of the last start
  const args = conmonArgs(root, c, l.cmd, l.pidFile);
  debug(`conmon: ${args.join(" ")}`);
  // the sync pipe is conmon's fd 3 (it puts /dev/null on 0-2): our stdout pipe, moved there by sh
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$@" 3>&1 >/dev/null 2>&1', "sh", conmon, ...args],
    env: { _OCI_SYNCPIPE: "3" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const sync = await readConmonSync(child.stdout);
  await child.status;
  const name = ociRuntimeName(c.ociRuntime) ?? "runtime";
  const fail = async (msg: string) => {
    rec.state = { ...rec.state, status: "exited", pid: 0, error: msg, exitCode: 125, finishedAt: nowNano() };
    await writeState(root, id, rec.state);
    return new PodError(`${name}: ${msg}`);
  };
  if (!(sync.data > 0)) throw await fail(lastLine(sync.message) ?? "conmon could not create the container");
  const err = await runc.oci.runcStart(root, c, runc.path);
  if (err) throw await fail(err);
  const conmonPid = Number(Deno.readTextFileSync(`${cp.dir}/run/conmon.pid`).trim()) || undefined;
  const state = startedState(rec, sync.data, true, conmonPid, byPolicy);
  writePidFiles(c, sync.data, conmonPid);
  await writeState(root, id, state);
  return state;
}

/** The runtime's own message out of what conmon passes on (`… msg="…"` from runc, else the last line). */
function lastLine(text: string | undefined): string | undefined {
  if (!text) return undefined;
  return /msg="((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? text.trim().split("\n").at(-1);
}

// --- conmon2 (issue 13): conmon for pod's own runtime, through the shim (lib/ns/conmon_shim.ts) ---

/** Whether detached containers of pod's own runtime go to conmon when it fits (`POD_SUPERVISOR=perl`: never). */
export const OWN_RUNTIME_CONMON = true;

/**
 * conmon's part of a detached launch of pod's own runtime (lib/ns/conmon_launch.ts), or `undefined` when the
 * perl supervisor keeps it: no conmon on the host, `POD_SUPERVISOR=perl`, or a container conmon cannot
 * supervise as pod would ({@link conmonFits}).
 */
export function ownConmonLaunch(
  root: string,
  rec: ContainerRecord,
  cgroup: CgroupSpec | undefined,
  events: { path: string; head: string; tail: string } | undefined,
): ConmonLaunch | undefined {
  const c = rec.config;
  const wanted = OWN_RUNTIME_CONMON || Deno.env.get("POD_SUPERVISOR") === "conmon";
  const conmon = wanted && conmonFits(c) ? conmonPath() : undefined;
  if (!conmon) return undefined;
  const cp = containerPaths(root, c.id), run = `${cp.dir}/run`, shim = `${run}/conmon-shim.sh`;
  const exitDir = `${run}/exits`;
  Deno.mkdirSync(exitDir, { recursive: true, mode: 0o700 });
  for (const old of [`${run}/${c.id}`, exitClaimPath(cp.dir)]) {
    try {
      Deno.removeSync(old); // conmon's attach socket, the exit claim (pods7) of the last start
    } catch { /* absent */ }
  }
  const sh = hostBinary("sh") ?? "/bin/sh";
  const args = conmonArgs(root, c, [sh, shim], `${run}/init.pid`, {
    exitDir,
    exitCommand: [sh, shim, "exit"],
    bundle: run,
  });
  const oomFile = cgroup
    ? cgroup.version === 2
      ? `${cgroup.dirs.unified}/memory.events`
      : cgroup.dirs.memory
      ? `${cgroup.dirs.memory}/memory.oom_control`
      : undefined
    : undefined;
  return {
    argv: [conmon, ...args],
    shim,
    conmonPidFile: `${run}/conmon.pid`,
    exit: {
      conmonExit: `${exitDir}/${c.id}`,
      exitJson: cp.exit,
      netHook: c.net ? `${cp.dir}/network-cleanup.sh` : undefined,
      oomFile,
      cgroupDirs: cgroup ? Object.values(cgroup.dirs).filter((d): d is string => !!d) : undefined,
      events,
      hook: c.restartPolicy ? podCommandLine(root, ["container", "cleanup", c.id]) : undefined,
      claim: exitClaimPath(cp.dir), // pods7 (issue 15)
    },
  };
}
