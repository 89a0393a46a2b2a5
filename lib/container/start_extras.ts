/**
 * What runs beside a started container (runtime2, issue 13): the supervisor's exit hook and health timer
 * (`pod container cleanup`, `pod healthcheck run`), and their equivalents for a foreground run, which pod
 * itself waits for.
 * @module
 */

import { debug } from "../log.ts";
import type { SupervisorExtras } from "../ns/supervisor.ts";
import type { ContainerRecord } from "../store/containers.ts";
import { podCommandLine } from "./self_command.ts";

/**
 * The supervisor's extras (runtime2, issue 13): `pod container cleanup` when the container ends (its restart
 * policy), `pod healthcheck run` on the health check's interval.
 */
export function supervisorExtras(root: string, c: ContainerRecord["config"]): SupervisorExtras | undefined {
  if (!c.restartPolicy && !c.healthcheck?.interval && !c.timeout && !c.logMaxSize) return undefined;
  return {
    logMaxSize: c.logMaxSize,
    exitHook: c.restartPolicy ? podCommandLine(root, ["container", "cleanup", c.id]) : undefined,
    health: c.healthcheck?.interval
      ? { seconds: c.healthcheck.interval / 1e9, command: podCommandLine(root, ["healthcheck", "run", c.id]) }
      : undefined,
    deadline: c.timeout
      ? { seconds: c.timeout, command: podCommandLine(root, ["kill", "--signal", "SIGKILL", c.id]) }
      : undefined,
  };
}

/** `--pidfile` (the init's pid) and `--conmon-pidfile` (its waiter's), written at each start; best effort. */
export function writePidFiles(c: ContainerRecord["config"], pid: number, waiterPid?: number): void {
  for (const [file, value] of [[c.pidFile, pid], [c.conmonPidFile, waiterPid]] as const) {
    if (!file || !value) continue;
    try {
      Deno.writeTextFileSync(file, String(value));
    } catch (e) {
      debug(`writing ${file}: ${e instanceof Error ? e.message : e}`);
    }
  }
}

/** A foreground container's `--timeout`: SIGKILL to its init after so many seconds; returns the canceller. */
export function foregroundTimeout(c: ContainerRecord["config"], pid: () => number): () => void {
  if (!c.timeout) return () => {};
  const t = setTimeout(() => {
    const p = pid();
    if (p > 0) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
  }, c.timeout * 1000);
  Deno.unrefTimer(t);
  return () => clearTimeout(t);
}

/**
 * A foreground container's health check timer (pod itself waits for it, so pod runs the checks, each
 * `pod healthcheck run` in its own session); returns the function that stops it.
 */
export function foregroundHealthTimer(root: string, c: ContainerRecord["config"]): () => void {
  const extras = supervisorExtras(root, c);
  if (!extras?.health) return () => {};
  const cmd = extras.health.command;
  let running: Deno.ChildProcess | undefined;
  const timer = setInterval(() => {
    if (running) return;
    try {
      running = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
      running.status.finally(() => running = undefined);
    } catch { /* retried at the next tick */ }
  }, extras.health.seconds * 1000);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/** After a foreground container ended: its restart policy is applied by `pod container cleanup`, detached. */
export function foregroundExitHook(root: string, c: ContainerRecord["config"]): void {
  const hook = supervisorExtras(root, c)?.exitHook;
  if (!hook) return;
  try {
    new Deno.Command(hook[0], {
      args: hook.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    })
      .spawn().unref();
  } catch (e) {
    debug(`starting the restart policy's cleanup: ${e instanceof Error ? e.message : e}`);
  }
}
