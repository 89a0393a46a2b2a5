/**
 * pods9 (issue 15): an early start for detached containers (`run -d`, `run -d --pod`). The container's id
 * (and name) are chosen right after flag parsing and conmon is started with its shim at once, everything it
 * is given derived from the id: its run directory, pid files, exit dir and log. The shim reads the unshare
 * command from a fifo (lib/ns/conmon_launch.ts `startEarlyConmon`) and runs it, so stage 2's Deno start-up
 * (~90 ms) overlaps with loading the create/start modules and writing the record; stage 2 then waits for its
 * spec on a second fifo, which the launch writes where it would have spawned conmon.
 *
 * Only where the start is known to go to conmon with that command: as root, pod's own runtime, no `-i`/`-t`,
 * no health check flags, `--timeout`, log driver or log options, no joined namespaces but a pod's, and for a
 * pod member only when its infra runs already (its pid is in the command; a first member's critical path is
 * the infra's start, which this work would delay). When the launch's command differs after all (or the
 * container does not fit conmon: an image's HEALTHCHECK) the early start is cancelled: stage 2 killed and
 * conmon waited for; a failed create also removes the directory, so nothing is left.
 * @module
 */

import { debug, traceTime } from "../log.ts";
import type { EarlyConmon } from "../ns/conmon_launch.ts";
import { containerPaths, newContainerId } from "../store/containers.ts";
import { storePaths } from "../store/paths.ts";
import type { CreateOptions } from "./create.ts";
import type { ContainerConfig } from "../store/containers.ts";
import { launchNamespaces, namespacesFor } from "./namespaces.ts";
import { ociRuntimeName } from "./oci_runtime_name.ts";

/** A detached container's start begun before its record exists (see the module doc). */
export interface EarlyDetached {
  /** The container's id (and the name conmon was given: the first one tried when none was asked for). */
  preset: { id: string; name: string };
  /** What the launch takes over (lib/ns/launch.ts). */
  conmon: EarlyConmon;
  /** Unless the launch took it: ends it and waits for conmon; `remove`: also the directory (no record made). */
  cancel(remove: boolean): Promise<void>;
}

/** Whether `o` could start early at all (before anything is read from the store). */
function fits(o: CreateOptions): boolean {
  const h = o.health ?? {};
  const health = [h.healthCmd, h.healthInterval, h.healthRetries, h.healthTimeout, h.healthStartPeriod]
    .some((v) => v !== undefined);
  const joins = [o.pid, o.ipc, o.uts, o.network, o.userns].some((v) =>
    v?.startsWith("container:") || v?.startsWith("ns:")
  );
  return Deno.uid() === 0 && !o.tty && !o.interactive && !ociRuntimeName(o.runtime) && !health &&
    !o.timeout &&
    !o.logDriver && !o.logOpts?.length && !joins && !o.pod?.startsWith("new:");
}

/**
 * Starts conmon and stage 2 for a container about to be created with `o` and started detached (see the module
 * doc); undefined when that is not done (the start then goes as before).
 */
export async function startDetachedEarly(root: string, o: CreateOptions): Promise<EarlyDetached | undefined> {
  if (!fits(o)) return undefined;
  try {
    // first what the command needs: a pod's first member (its infra not running yet) leaves here, without
    // loading conmon's launch before its infra's start (pods10); the rest then, before the spawn (loaded after
    // it, the modules would delay the create more than conmon takes)
    const [{ conmonArgs, conmonPath }, unshare, stage2, members, nsJoin] = await Promise.all([
      import("./conmon_args.ts"),
      import("../ns/unshare.ts"),
      import("../ns/stage2_command.ts"),
      o.pod ? import("./pod/members.ts") : undefined,
      o.pod ? import("./ns_join.ts") : undefined,
    ]);
    const conmon = conmonPath();
    if (!conmon) return undefined;
    try {
      // sync: an async stat would be this process's first trip through Deno's blocking thread pool (slow)
      Deno.lstatSync(storePaths(root).tmp);
    } catch {
      return undefined; // a new store: pulls first
    }
    // the command first: a member whose infra is not running yet (its first, which starts it) starts as before
    const { cmd, forks } = await unshareCommandFor(root, o, {
      ...unshare,
      ...stage2,
      joinPod: members?.joinPod,
      nsJoin,
    });
    traceTime("early: command made");
    const [cl, { hostBinary }, { randomName }] = await Promise.all([
      import("../ns/conmon_launch.ts"),
      import("../ns/helpers_check.ts"),
      import("./names.ts"),
    ]);
    traceTime("early: modules loaded");
    cl.bindEarlySymbols(); // first: hostBinary then probes with faccessat
    const id = newContainerId();
    const name = o.name ?? randomName();
    const cp = containerPaths(root, id), run = `${cp.dir}/run`, shim = `${run}/conmon-shim.sh`;
    Deno.mkdirSync(`${run}/exits`, { recursive: true, mode: 0o700 }); // sync: see the store check
    const sh = hostBinary("sh") ?? "/bin/sh";
    // as lib/container/start_conmon.ts ownConmonLaunch makes them for this container
    const args = conmonArgs(root, { id, name } as ContainerConfig, [sh, shim], `${run}/init.pid`, {
      exitDir: `${run}/exits`,
      exitCommand: [sh, shim, "exit"],
      bundle: run,
    });
    let early: EarlyConmon;
    try {
      early = cl.startEarlyConmon(
        { argv: [conmon, ...args], shim, conmonPidFile: `${run}/conmon.pid` },
        forks,
        {
          command: `${run}/command.fifo`,
          spec: `${run}/spec.fifo`,
        },
      );
    } catch (e) {
      await Deno.remove(cp.dir, { recursive: true }).catch(() => {});
      throw e;
    }
    traceTime("early: conmon spawned");
    if (!early.send(cmd)) {
      await early.cancel();
      await Deno.remove(cp.dir, { recursive: true }).catch(() => {});
      return undefined;
    }
    return {
      preset: { id, name },
      conmon: early,
      cancel: async (remove) => {
        if ((await early.cancel()) && remove) await Deno.remove(cp.dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (e) {
    debug(`no early detached start: ${e instanceof Error ? e.message : e}`);
    return undefined;
  }
}

/**
 * The unshare command of a container created with `o`, as its start will make it (stage 2 reading its spec
 * from stdin), and whether it forks the init: its namespaces as create records them (a member: its pod's),
 * joined as the start joins them (throws for a member whose infra is not running).
 */
async function unshareCommandFor(
  root: string,
  o: CreateOptions,
  m:
    & Pick<typeof import("../ns/unshare.ts"), "unshareCommand" | "forksInit">
    & Pick<typeof import("../ns/stage2_command.ts"), "stage2Command">
    & {
      joinPod?: typeof import("./pod/members.ts").joinPod;
      nsJoin?: typeof import("./ns_join.ts");
    },
): Promise<{ cmd: string[]; forks: boolean }> {
  let ns: Pick<CreateOptions, "pid" | "ipc" | "uts" | "network" | "userns" | "argv0"> = o;
  if (o.pod && m.joinPod) ns = (await m.joinPod(root, { ...o })).spec;
  const c = (await namespacesFor(ns)) as Pick<ContainerConfig, "namespaces" | "userns">;
  const joins = Object.values(c.namespaces).some((v) => v.includes(":"));
  if (joins && !m.nsJoin) throw new Error("joined namespaces without a pod");
  const join = joins ? await m.nsJoin!.joinPaths(root, c as ContainerConfig) : undefined;
  const spec = { ...launchNamespaces(c), ...(join ? { join } : {}) };
  const forks = m.forksInit(spec);
  return { cmd: m.unshareCommand(spec, m.stage2Command("-"), undefined, undefined, undefined, forks), forks };
}
