/**
 * pods7 (issue 15): a stop records the exit itself, as podman's cleanup does, instead of waiting for conmon's
 * exit step (the shim's `sh`, a `date`, an `rmdir`: 12-18 ms after the process is gone, 30-40 under load).
 *
 * Exactly one writer of the exit record and the `died`/`cleanup` events: whoever creates the claim file
 * (`run/exit-claim`, O_EXCL) first. The stop claims before its signal, so the shim's exit step
 * (lib/ns/conmon_shim.ts), which tries first thing, finds the claim and leaves; the stop then waits for
 * conmon's code (`run/exits/<id>`, written right after its waitpid) and writes what the shim would. A stop that
 * finds the claim taken (the container ended on its own just before) waits for the shim's record as before. The
 * code is conmon's (a signal: 128+N); the finish time is when conmon wrote it. A stop that dies between its
 * claim and its record leaves none: readers then take the exit as refreshState guesses it once conmon is gone
 * (137). A container that ends while nobody stops it is
 * recorded by the shim, as before. Containers with a restart policy keep the shim's step (it starts the
 * policy's `pod container cleanup`).
 * @module
 */

import { debug, traceTime } from "../log.ts";
import { pidAlive } from "../proc.ts";
import type { ContainerRecord, ExitRecord } from "../store/container_types.ts";
import { containerPaths } from "../store/container_paths.ts";
import { writeContainerEvents } from "../store/events.ts";
import { sleepMs } from "../ns/sleep.ts";

/** The claim file's name in the container's run dir (the shim's marker too). */
export const EXIT_CLAIM = "exit-claim";

/** The claim file of the container whose directory is `dir`. */
export function exitClaimPath(dir: string): string {
  return `${dir}/run/${EXIT_CLAIM}`;
}

const sleep = sleepMs; // not setTimeout: its first use loads node:timers (lib/ns/sleep.ts)

/**
 * Whether the running container `rec` is supervised by conmon through a shim that honours the claim (so a stop
 * may record its exit): its waiter is a live conmon, the shim of this start knows the claim, no restart policy.
 * Called before the stop's signal (conmon may be gone soon after the process).
 */
export function stopMayClaim(rec: ContainerRecord): boolean {
  const { waiterPid, waiterStart } = rec.state;
  if (!waiterPid || rec.config.restartPolicy || Deno.env.get("POD_TEST_EXIT_CLAIM") === "off") return false;
  try {
    if (Deno.readTextFileSync(`/proc/${waiterPid}/comm`).trim() !== "conmon") return false;
    if (!pidAlive(waiterPid, waiterStart)) return false;
    return Deno.readTextFileSync(`${rec.dir}/run/conmon-shim.sh`).includes(EXIT_CLAIM);
  } catch {
    return false;
  }
}

/** conmon's exit code once it is written (a number on one line), else undefined. */
function conmonCode(file: string): { code: number; mtime: Date } | undefined {
  try {
    const text = Deno.readTextFileSync(file).trim();
    if (!/^-?\d+$/.test(text)) return undefined;
    return { code: Number(text), mtime: Deno.statSync(file).mtime ?? new Date() };
  } catch {
    return undefined;
  }
}

/** Whether a process of the cgroup dirs was killed by the memory limit (`oom_kill N`, v2 or v1). */
function oomKilled(dirs: string[]): boolean {
  for (const d of dirs) {
    for (const f of ["memory.events", "memory.oom_control"]) {
      try {
        const m = /^oom_kill (\d+)/m.exec(Deno.readTextFileSync(`${d}/${f}`));
        if (m && m[1] !== "0") return true;
      } catch { /* absent */ }
    }
  }
  return false;
}

/**
 * Removes the container's cgroup dirs, retried while they are busy (up to 2 s, as the shim): all at once (a
 * cgroup v1 host has a dir per controller, and each rmdir waits for the kernel's release of the group).
 */
async function removeCgroupDirs(dirs: string[]): Promise<void> {
  let left = dirs;
  for (let i = 0; i < 100 && left.length; i++) {
    if (i) await sleep(20);
    const busy = await Promise.all(
      left.map((d) => Deno.remove(d).then(() => false, (e) => !(e instanceof Deno.errors.NotFound))),
    );
    left = left.filter((_, j) => busy[j]);
  }
  if (left.length) debug(`cgroup ${left.join(", ")}: still in use`);
}

/**
 * Before the stop's signal ({@link stopMayClaim} was true): claims the exit of `rec` (the shim's exit step then
 * leaves at once). False: the exit step has it already (the container ended on its own just before).
 */
export function claimExit(rec: ContainerRecord): boolean {
  try {
    Deno.openSync(exitClaimPath(rec.dir), { write: true, createNew: true, mode: 0o600 }).close();
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) debug(`exit claim of ${rec.config.id}: ${e}`);
    return false;
  }
}

/**
 * After the stop of `rec` whose exit it claimed ({@link claimExit}): waits for conmon's code (written right
 * after conmon reaped the init), then does the shim's exit step (`teardown`: the network's, before the record,
 * as the shim's hook). When the process outlived the stop (no code in `ms`), the claim is given back (taken
 * again if it ended meanwhile and the shim had left) and undefined returned: the shim records it when it ends.
 * Else the exit record it wrote.
 */
export async function recordClaimedExit(
  root: string,
  rec: ContainerRecord,
  teardown: () => Promise<void>,
  ms = 1000,
): Promise<ExitRecord | undefined> {
  const id = rec.config.id, cp = containerPaths(root, id), codeFile = `${rec.dir}/run/exits/${id}`;
  const end = Date.now() + ms;
  let got: { code: number; mtime: Date } | undefined;
  for (let delay = 1; !(got = conmonCode(codeFile)); delay = Math.min(delay * 2, 20)) {
    if (Date.now() >= end) {
      if (pidAlive(rec.state.pid, rec.state.pidStart)) {
        Deno.removeSync(exitClaimPath(rec.dir));
        // ended between the check and the removal, its exit step seeing the claim: taken again
        if (!conmonCode(codeFile) || !claimExit(rec)) return undefined;
        continue;
      }
      break; // gone without a code from conmon: the shim's guess (137)
    }
    await sleep(delay);
  }
  traceTime("stop: exit code read");
  const code = got?.code ?? 137;
  await teardown();
  const dirs = rec.state.cgroupDirs ?? [];
  const oom = oomKilled(dirs);
  writeContainerEvents(root, rec, ["died", "cleanup"], { exitCode: code });
  if (dirs.length) await removeCgroupDirs(dirs);
  traceTime("stop: events written, cgroup removed");
  const finishedAt = (got?.mtime ?? new Date()).toISOString().replace(/Z$/, "000000Z");
  // as the shim: in place, in one write (readers take a record that does not parse as "not yet")
  const exit: ExitRecord = { exitCode: code, finishedAt, ...(oom ? { oomKilled: true } : {}) };
  Deno.writeTextFileSync(cp.exit, JSON.stringify(exit) + "\n");
  return exit;
}
