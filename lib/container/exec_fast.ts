/**
 * `pod exec CONTAINER CMD…` without options, the hot path, from a plan: the first such exec of a container
 * start (container/exec.ts, which resolves the user, the environment, the security settings and the
 * namespaces to join) keeps the helper's whole command line, minus the command, in `<container>/run/exec_plan.json`
 * (`run/` is emptied by each start). The next ones read the name link, `state.json` and this one file, and
 * start the helper (lib/ns/exec_spawn.ts): they parse no `config.json` and load none of container/exec.ts,
 * process_options.ts, lib/ns/exec.ts, exec_helper.ts or spec.ts. The helper is the same program with the
 * same arguments, so the process gets the same namespaces, cgroups, capabilities, seccomp filter, ids and
 * no_new_privs as through the full path.
 *
 * A plan is used only for the start it was made for (the init's pid and start time), for a running (not
 * paused) container whose name link still points at it, and while its seccomp filter file exists; anything
 * else goes the full way ({@link execPlanned} returns undefined before it has started anything).
 *
 * Here too, for both ways, the `exec` and `exec_died` lines of the event log ({@link appendExecEvents}), through
 * lib/store/events.ts (a module without imports).
 * @module
 */

import { type HelperPlan, spawnHelper, waitForwarding } from "../ns/exec_spawn.ts";
import type { ContainerState } from "../store/container_types.ts";
import { storePaths } from "../store/paths.ts";
import { pidAlive } from "../proc.ts";
import { debug } from "../log.ts";
import { appendEventLines, eventLine, eventTime } from "../store/events.ts";

/** What `run/exec_plan.json` holds. */
export interface ExecPlan {
  /** The container init this plan is for: another start makes it stale. */
  pid: number;
  pidStart?: number;
  /** The helper's command line, environment and pid-namespace variant (lib/ns/exec.ts `helperPlan`). */
  helper: HelperPlan;
  /** The container's seccomp filter the helper loads (host path), if any. */
  seccomp?: string;
  /** The container as its exec events name it. */
  event: ExecEventSubject;
}

const ID = /^[a-f0-9]{64}$/;
/** Container names as container_names.ts `NAME_RE` allows them (no `/`, no leading `.`). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `<root>/containers/<id>` (store/container_paths.ts's `dir`, without loading it on the hot path). */
const containerDir = (root: string, id: string) => `${storePaths(root).containers}/${id}`;

/** Where the plan of container `id` is kept. */
export function execPlanPath(root: string, id: string): string {
  return `${containerDir(root, id)}/run/exec_plan.json`;
}

/** Keeps `plan` for the next execs of this start (best effort: a read-only store keeps none). */
export function keepExecPlan(root: string, id: string, plan: ExecPlan): void {
  const path = execPlanPath(root, id);
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(plan), { mode: 0o600 });
    Deno.renameSync(tmp, path);
  } catch {
    try {
      Deno.removeSync(tmp);
    } catch { /* not written */ }
  }
}

/** The plan for `nameOrId` (a name or a full id) if it is valid now, else undefined. */
function validPlan(root: string, nameOrId: string): ExecPlan | undefined {
  const names = storePaths(root).names;
  try {
    const id = ID.test(nameOrId)
      ? nameOrId
      : NAME.test(nameOrId)
      ? Deno.readLinkSync(`${names}/${nameOrId}`)
      : "";
    if (!ID.test(id)) return undefined;
    const plan = JSON.parse(Deno.readTextFileSync(execPlanPath(root, id))) as ExecPlan;
    if (plan.event?.id !== id || !Array.isArray(plan.helper?.argv) || !Array.isArray(plan.helper.env)) {
      return undefined;
    }
    // the container is still known by this name (not renamed, not half removed)
    if (Deno.readLinkSync(`${names}/${plan.event.name}`) !== id) return undefined;
    if (!ID.test(nameOrId) && plan.event.name !== nameOrId) return undefined;
    const state = JSON.parse(Deno.readTextFileSync(`${containerDir(root, id)}/state.json`)) as ContainerState;
    if (state.status !== "running" || state.pid !== plan.pid || state.pidStart !== plan.pidStart) {
      return undefined;
    }
    if (!pidAlive(plan.pid, plan.pidStart)) return undefined;
    if (plan.seccomp) Deno.statSync(plan.seccomp); // the filter cache was emptied: the full way builds it again
    // exec5: a plan with the compiled helper is not used when perl is asked for (exec_helper_c.ts)
    if (plan.helper.argv[0].startsWith("/") && Deno.env.get("POD_EXEC_HELPER") === "perl") return undefined;
    return plan;
  } catch {
    return undefined;
  }
}

/**
 * Runs `args` in container `nameOrId` as its plan says (stdin inherited with `interactive`) and resolves
 * with the exit code; undefined, having started nothing, when there is no valid plan or the helper cannot
 * be started this way (then the full path runs the exec).
 */
export async function execPlanned(
  root: string,
  nameOrId: string,
  args: string[],
  interactive: boolean,
): Promise<number | undefined> {
  const plan = validPlan(root, nameOrId);
  if (!plan) return undefined;
  const started = eventTime();
  const h = spawnHelper(plan.helper, args, interactive);
  if (!h) return undefined;
  debug(`exec: started from the plan of this start (${execPlanPath(root, plan.event.id)})`);
  const code = await waitForwarding(h);
  appendExecEvents(root, plan.event, started, code);
  return code;
}

/** What an exec event names: the container's id, image, name and labels. */
export interface ExecEventSubject {
  /** The container's full id. */
  id: string;
  /** Its image as the events name it (the reference, else the name). */
  image: string;
  /** Its name. */
  name: string;
  /** Its labels (the events' `Attributes`). */
  labels?: Record<string, string>;
}

/**
 * Appends the `exec` (at `started`, an RFC3339Nano time) and, with `code`, `exec_died` (now) lines of the
 * event log in one write, through lib/store/events.ts (it imports nothing, so the hot path loads it cheaply;
 * it rotates a full log and honours `--events-backend none`).
 */
export function appendExecEvents(root: string, c: ExecEventSubject, started: string, code?: number): void {
  const subject = {
    ID: c.id,
    Image: c.image,
    Name: c.name,
    Type: "container" as const,
    Attributes: c.labels,
  };
  let text = eventLine({ ...subject, Status: "exec", Time: started });
  if (code !== undefined) text += eventLine({ ...subject, Status: "exec_died", ContainerExitCode: code });
  appendEventLines(root, text);
}
