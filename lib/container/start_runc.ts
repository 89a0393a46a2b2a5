/**
 * Starting a `--runtime runc` container (see oci_runtime.ts): detached under pod's supervisor, or attached in the
 * foreground, with the same state transitions as pod's own runtime.
 * @module
 */

import { PodError } from "../errors.ts";
import { supervisorCommand } from "../ns/supervisor.ts";
import { signalNumber } from "../ns/signals.ts";
import {
  containerPaths,
  type ContainerRecord,
  nowNano,
  readContainer,
  withContainerLock,
  writeState,
} from "../store/containers.ts";
import { foregroundExitHook, foregroundTimeout, supervisorExtras, writePidFiles } from "./start_extras.ts";
import { detachedLogOf, logFileOf } from "./log_options.ts";
import { type ForegroundIO, recordExit, resetForStart, startedState } from "./start_state.ts";
import { ociRuntimeName } from "./oci_runtime_name.ts";
import { conmonFits, conmonPath, startRuncConmon } from "./start_conmon.ts";

/** `--runtime runc` (as root): the OCI runtime module and the binary; else `undefined` (pod's own runtime). */
export async function findRunc(
  c: ContainerRecord["config"],
): Promise<{ oci: typeof import("./oci_runtime.ts"); path: string } | undefined> {
  if (!ociRuntimeName(c.ociRuntime)) return undefined;
  const oci = await import("./oci_runtime.ts");
  const path = oci.runcFor(c);
  return path ? { oci, path } : undefined;
}

/**
 * Starts a runc container detached: under conmon when the host has it and it fits (issue 13, start_conmon.ts),
 * else under pod's supervisor (log, exit record, restart hook, health timer).
 */
export async function startRuncDetached(
  root: string,
  rec: ContainerRecord,
  runc: NonNullable<Awaited<ReturnType<typeof findRunc>>>,
  byPolicy?: boolean,
): Promise<ContainerRecord["state"]> {
  const conmon = conmonFits(rec.config) ? conmonPath() : undefined;
  if (conmon) return await startRuncConmon(root, rec, runc, conmon, byPolicy);
  const id = rec.config.id, cp = containerPaths(root, id);
  const l = await runc.oci.runcLaunch(root, rec.config, runc.path, true);
  const stdinFifo = rec.config.process.stdin ? cp.attach : undefined;
  // supervisor (issue 13): `runc run --detach` exits once the container runs; the sh hands the init's pid to
  // the supervisor (fd 4), which reaps it as a child subreaper — neither runc nor sh stays resident (runc's pid
  // file has no newline: `read` fails but sets p)
  const cmd = [
    "sh",
    "-c",
    '"$@" 4>&- || exit; read p < "$0"; [ -n "$p" ] && echo "$p" >&4',
    l.pidFile,
    ...l.cmd,
  ];
  const sup = supervisorCommand(
    detachedLogOf(root, rec.config),
    cp.exit,
    cmd,
    false,
    stdinFifo,
    supervisorExtras(root, rec.config),
    true,
  );
  const child = new Deno.Command(sup[0], {
    args: sup.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  })
    .spawn();
  const out = (await new Response(child.stdout).text()).trim();
  child.unref();
  const m = /^(\d+) (\d+)$/.exec(out);
  if (!m) throw new PodError("cannot start the container supervisor (is perl installed?)");
  const ended = () => {
    try {
      return Deno.statSync(cp.exit).isFile;
    } catch {
      return false;
    }
  };
  const pid = await runc.oci.waitRuncPid(l.pidFile, ended);
  if (!pid) {
    const name = ociRuntimeName(rec.config.ociRuntime);
    const msg = runc.oci.lastStderrLine(logFileOf(root, rec.config)) ??
      `${name} ended before the container ran`;
    rec.state = { ...rec.state, status: "exited", pid: 0, error: msg, exitCode: 125, finishedAt: nowNano() };
    await writeState(root, id, rec.state);
    throw new PodError(`${name}: ${msg}`);
  }
  const state = startedState(rec, pid, true, Number(m[2]), byPolicy);
  writePidFiles(rec.config, pid, Number(m[2]));
  await writeState(root, id, state);
  return state;
}

/**
 * A runc container in the foreground: runc's stdio is pod's; its own errors (before the container runs) come
 * back as one line. Returns the container's exit code.
 */
export async function runRuncForeground(
  root: string,
  id: string,
  io: ForegroundIO,
  runc: NonNullable<Awaited<ReturnType<typeof findRunc>>>,
): Promise<number> {
  let rec!: ContainerRecord;
  let l!: Awaited<ReturnType<typeof runc.oci.runcLaunch>>;
  await withContainerLock(root, id, async () => {
    rec = await readContainer(root, id);
    if (rec.state.status === "running" || rec.state.status === "paused") {
      throw new PodError(`container ${rec.config.id} is already running: container state improper`);
    }
    await resetForStart(root, rec);
    l = await runc.oci.runcLaunch(root, rec.config, runc.path);
  });
  const child = new Deno.Command(l.cmd[0], {
    args: l.cmd.slice(1),
    stdin: io.stdin ? "inherit" : "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const forward = (sig: Deno.Signal) => () => child.kill(sig);
  const signals: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM", "SIGHUP"] as Deno.Signal[]).map((
    s,
  ) => [s, forward(s)]);
  for (const [s, f] of signals) Deno.addSignalListener(s, f);
  let ended = false, errText = "", started = false;
  const pump = (async () => {
    for await (const chunk of child.stderr) {
      if (!started) errText = (errText + new TextDecoder().decode(chunk)).slice(-4096);
      else await Deno.stderr.write(chunk).catch(() => 0);
    }
  })();
  const status = child.status.then((s) => {
    ended = true;
    return s;
  });
  const pid = await runc.oci.waitRuncPid(l.pidFile, () => ended);
  if (pid) {
    started = true;
    if (errText) await Deno.stderr.write(new TextEncoder().encode(errText)).catch(() => 0);
    errText = "";
    rec.state = startedState(rec, pid, false, Deno.pid);
    writePidFiles(rec.config, pid, Deno.pid);
    await writeState(root, id, rec.state);
  }
  const stopDeadline = foregroundTimeout(rec.config, () => pid);
  const s = await status;
  stopDeadline();
  await pump.catch(() => {});
  for (const [sig, f] of signals) Deno.removeSignalListener(sig, f);
  const code = s.signal ? 128 + signalNumber(s.signal) : s.code;
  if (!pid) {
    const name = ociRuntimeName(rec.config.ociRuntime);
    const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(errText)?.[1] ?? errText.trim().split("\n").at(-1) ??
      `${name} failed`;
    await recordExit(root, id, 125, msg);
    throw new PodError(`${name}: ${msg}`);
  }
  await recordExit(root, id, code);
  foregroundExitHook(root, rec.config);
  return code;
}
