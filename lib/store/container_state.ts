/**
 * A container's state over time: `state.json` written atomically under the container's own lock, and brought
 * up to date on every read — a container whose init is gone becomes `exited` with the code its waiter
 * recorded in `exit.json`.
 * @module
 */

import { NotFoundError } from "../errors.ts";
import { debug } from "../log.ts";
import { pidAlive } from "../proc.ts";
import { readJsonIfExists, writeJsonAtomic } from "./atomic.ts";
import { containerPaths } from "./container_paths.ts";
import type { ContainerRecord, ContainerState, ExitRecord } from "./container_types.ts";
import { withLock } from "./lock.ts";

/** RFC 3339 with nanoseconds (Go's `time.RFC3339Nano` shape), in UTC. */
export function nowNano(): string {
  const ms = Date.now();
  const iso = new Date(ms).toISOString(); // …T12:00:00.123Z
  const frac = (performance.now() % 1).toFixed(6).slice(2); // sub-ms noise for ordering
  return iso.slice(0, 23) + frac + "Z";
}

/** Writes state.json atomically (`durable: false`: without fsync, see lib/store/atomic.ts). */
export async function writeState(
  root: string,
  id: string,
  state: ContainerState,
  durable = true,
): Promise<void> {
  await writeJsonAtomic(containerPaths(root, id).state, state, 0o600, durable);
}

/** Runs `fn` holding the container's own lock (state transitions: start, stop, rm). */
export async function withContainerLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await withLock(containerPaths(root, id).lock, fn);
  } catch (e) {
    // the container was removed while we waited for (or before we took) its lock
    if (
      e instanceof Deno.errors.NotFound && !(await Deno.lstat(containerPaths(root, id).dir).catch(() => null))
    ) {
      throw new NotFoundError(`no container with name or ID "${id}" found: no such container`);
    }
    throw e;
  }
}

/**
 * Reads exit.json, if any; else conmon's exit file (issue 13: conmon supervises the container; the file holds
 * the code, its modification time is the finish time).
 */
export async function readExitRecord(root: string, id: string): Promise<ExitRecord | undefined> {
  const cp = containerPaths(root, id);
  try {
    const rec = await readJsonIfExists<ExitRecord>(cp.exit);
    if (rec) return rec;
  } catch {
    return undefined; // half-written by a dead writer
  }
  try {
    const text = (await Deno.readTextFile(cp.conmonExit)).trim();
    if (!/^-?\d+$/.test(text)) return undefined; // being written
    const mtime = (await Deno.stat(cp.conmonExit)).mtime ?? new Date();
    return { exitCode: Number(text), finishedAt: mtime.toISOString().replace(/Z$/, "000000Z") };
  } catch {
    return undefined;
  }
}

/**
 * Brings `rec.state` up to date: a running/paused/stopping container whose init process is gone becomes
 * `exited`, with the code from exit.json (waiting briefly while a live waiter is still writing it).
 * Persists the change. Returns true when the state changed.
 */
export async function refreshState(root: string, rec: ContainerRecord): Promise<boolean> {
  const s = rec.state;
  if (s.status !== "running" && s.status !== "paused" && s.status !== "stopping") return false;
  if (s.pid > 0 && pidAlive(s.pid, s.pidStart)) return false;
  let exit = await readExitRecord(root, rec.config.id);
  const waiterAlive = () =>
    !!s.waiterPid && s.waiterPid !== Deno.pid &&
    pidAlive(s.waiterPid, s.waiterStart);
  if (!exit && waiterAlive()) {
    for (let i = 0; i < 50 && !exit && waiterAlive(); i++) {
      await new Promise((r) => setTimeout(r, 10));
      exit = await readExitRecord(root, rec.config.id);
    }
    // the foreground waiter records the state itself
    const fresh = await readJsonIfExists<ContainerState>(containerPaths(root, rec.config.id).state);
    if (fresh && fresh.status === "exited") {
      rec.state = fresh;
      return true;
    }
    // a detached container's supervisor (a waiter with a known start) writes the exit record: no guess meanwhile
    if (!exit && s.waiterStart !== undefined && waiterAlive()) return false;
  }
  // the waiter may have written the record and ended since it was last looked for
  exit ??= await readExitRecord(root, rec.config.id);
  rec.state = {
    ...s,
    status: "exited",
    pid: 0,
    pidStart: undefined,
    exitCode: exit?.exitCode ?? (s.exitCode || 137),
    finishedAt: exit?.finishedAt ?? nowNano(),
  };
  if (exit?.oomKilled) rec.state.oomKilled = true; // cgroups (issue 13)
  try {
    await writeState(root, rec.config.id, rec.state);
  } catch (e) {
    debug(`cannot record the exit of ${rec.config.id}: ${e instanceof Error ? e.message : e}`);
  }
  return true;
}
