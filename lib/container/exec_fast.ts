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
 * Here too, for both ways, the `exec` and `exec_died` lines of the event log (exec_events.ts; with the handoff
 * the compiled helper writes them). Only what the handoff needs is imported statically: the spawn way loads
 * its modules (exec_spawn.ts, events.ts) when it runs. From the checkout each module costs ~0.5 ms, so the
 * handoff's path is this file and lib/ns/libc.ts (with lib/errors.ts): the store paths and
 * the process check are written out here, and the debug notes go to a callback (lib/log.ts not loaded).
 * @module
 */

import type { HelperPlan } from "../ns/exec_spawn.ts";
import type { ContainerState } from "../store/container_types.ts";
import { execveProgram } from "../ns/libc.ts";
import type { ExecEventSubject } from "./exec_events.ts";

export type { ExecEventSubject } from "./exec_events.ts";

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
  /** exec6: `helper` is the compiled helper, which takes over this process (POD_EXEC_HANDOFF, {@link handOver}). */
  handoff?: boolean;
}

const ID = /^[a-f0-9]{64}$/;
/** Container names as container_names.ts `NAME_RE` allows them (no `/`, no leading `.`). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `<root>/containers/<id>` (store/container_paths.ts's `dir`, without loading it on the hot path). */
const containerDir = (root: string, id: string) => `${root}/containers/${id}`;

/** `<root>/containers/names`, the name links (store/paths.ts `storePaths(root).names`). */
const namesDir = (root: string) => `${root}/containers/names`;

/**
 * lib/proc.ts `pidAlive(pid, start)` without loading it: `pid` is a live process (not a zombie) that started
 * at `start` (clock ticks since boot, field 22 of `/proc/<pid>/stat`). Exported for the unit test that holds
 * the two to the same answers (tests/unit/proc_test.ts).
 * @internal
 */
export function sameProcess(pid: number, start: number | undefined): boolean {
  if (!(pid > 0) || !Number.isInteger(pid)) return false;
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return false;
  return start === undefined || Number(fields[19]) === start;
}

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
  const names = namesDir(root);
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
    if (!sameProcess(plan.pid, plan.pidStart)) return undefined;
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
 * be started this way (then the full path runs the exec). With `handoff` (the CLI's, never a library user's:
 * the process ends) and a plan of the compiled helper, this process becomes the helper ({@link handOver})
 * and this never returns; when the `execve` fails it goes on as without `handoff`. `note` gets the debug
 * notes (lib/log.ts `debug`; none by default).
 */
export async function execPlanned(
  root: string,
  nameOrId: string,
  args: string[],
  interactive: boolean,
  handoff = false,
  note: (msg: string) => void = () => {},
): Promise<number | undefined> {
  const plan = validPlan(root, nameOrId);
  if (!plan) return undefined;
  if (handoff && !interactive && mayHandOver(plan)) handOver(root, plan, args, note);
  const [{ spawnHelper, waitForwarding }, { eventTime }, { appendExecEvents }] = await Promise.all([
    import("../ns/exec_spawn.ts"),
    import("../store/events.ts"),
    import("./exec_events.ts"),
  ]);
  const started = eventTime();
  const h = spawnHelper(plan.helper, args, interactive);
  if (!h) return undefined;
  note(`exec: started from the plan of this start (${execPlanPath(root, plan.event.id)})`);
  const code = await waitForwarding(h);
  appendExecEvents(root, plan.event, started, code);
  return code;
}

/** The plan names the compiled helper, and `POD_EXEC_HANDOFF=0` does not ask for the spawn way (tests compare). */
const mayHandOver = (plan: ExecPlan) => plan.handoff === true && Deno.env.get("POD_EXEC_HANDOFF") !== "0";

/**
 * The handoff alone, for the plain exec's first try (lib/cli/exec_plain_main.ts): with a valid plan of the
 * compiled helper this process becomes the helper ({@link handOver}) and this never returns. It returns,
 * having started nothing, when there is no such plan or the `execve` failed: the full path then runs the
 * exec ({@link execPlanned}, the spawn way included). Apart from it so that the one-file bundle of the plain
 * exec (scripts/bundle.ts) holds none of the spawn way's modules.
 */
export function handOverPlanned(
  root: string,
  nameOrId: string,
  args: string[],
  note: (msg: string) => void = () => {},
): void {
  const plan = validPlan(root, nameOrId);
  if (plan && mayHandOver(plan)) handOver(root, plan, args, note);
}

/**
 * The handoff (issue 16): `execve` of the compiled helper (lib/ns/exec_helper_c.ts) in place of this process,
 * with `POD_EXEC_HANDOFF=1`. The helper then does what this process did after spawning it: it forks the
 * command (its own session, stdin `/dev/null`, default signals), forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1 and SIGUSR2 to it, waits, appends the `exec` and `exec_died` lines in one write (the JSON around
 * the times and the exit code rendered here, as lib/store/events.ts `eventLine` orders it; none with
 * `--events-backend none`) and exits with the command's code (128+N for signal N). Returns only when the
 * `execve` failed.
 */
function handOver(root: string, plan: ExecPlan, args: string[], note: (msg: string) => void): void {
  const env = [...plan.helper.env, "POD_EXEC_HANDOFF=1"];
  if (Deno.env.get("POD_EVENTS_BACKEND") !== "none") {
    const c = plan.event;
    // eventLine's order: ID, Image, Name (each omitted when empty), Status, Time, Type, Attributes
    const head = JSON.stringify({
      ID: c.id || undefined,
      Image: c.image || undefined,
      Name: c.name || undefined,
    });
    env.push(
      `POD_EXEC_EVENTS_ROOT=${root}`,
      `POD_EXEC_EVENT_HEAD=${head.slice(1, -1)}`,
      `POD_EXEC_EVENT_TAIL=,"Type":"container","Attributes":${JSON.stringify(c.labels ?? {})}}`,
    );
    const max = Deno.env.get("POD_EVENTS_MAX_SIZE");
    if (max) env.push(`POD_EVENTS_MAX_SIZE=${max}`);
  }
  const argv = [...plan.helper.argv, ...args];
  note(
    `exec: started from the plan of this start (${execPlanPath(root, plan.event.id)}): the helper takes over`,
  );
  const err = execveProgram(argv[0], argv, env);
  note(`exec: execve ${argv[0]}: errno ${err}: spawning it instead`);
}
