/**
 * The namespaces a container gets (from `create`/`run` options and whether pod runs as root), in the
 * container config's terms and in stage 2's; and the early start of `run`'s stage 2. Small on purpose:
 * `run` loads it first to start stage 2 before the rest of the runtime is loaded.
 * @module
 */

import { UsageError } from "../errors.ts";
import { debug, traceTime, warnOnce } from "../log.ts";
import type { Prelaunched, PrelaunchNs } from "../ns/prelaunch.ts";
import type { ContainerConfig, NsMode } from "../store/containers.ts";
import { parseJoinMode } from "./ns_join.ts";
import { storePaths } from "../store/paths.ts";

/** The `create`/`run` options (lib/container/create.ts `CreateOptions`) that decide the namespaces. */
export interface NamespaceOptions {
  /** `--pid`. */
  pid?: string;
  /** `--ipc`. */
  ipc?: string;
  /** `--uts`. */
  uts?: string;
  /** `--network`. */
  network?: string;
  /** `--userns`. */
  userns?: string;
  /** Program name (lilipod → keep-id by default). */
  argv0?: string;
  /** `--rm`. */
  rm?: boolean;
}

/**
 * The mode of `--pid`/`--ipc`/`--uts`/`--network` (`flag` without dashes) for `create`, `run` and `update`:
 * `host`, or `private` (also for absent or empty). `--network` also takes podman's `none`, `bridge`,
 * `slirp4netns[:…]`, `pasta[:…]` and `default`, all of which give the container its own network namespace
 * with only loopback. `container:ID|NAME` and `ns:PATH` join another container's or a path's namespace
 * (lib/container/ns_join.ts). Anything else is a UsageError.
 */
export function nsMode(flag: string, value: string | undefined): NsMode {
  if (value === undefined || value === "" || value === "private") return "private";
  if (value === "host") return "host";
  const joined = parseJoinMode(flag, value);
  if (joined) return joined;
  // net scope (issue 12): every other network mode (none, bridge, slirp4netns, pasta, a network's name) is a
  // network namespace of its own; lib/network/mode.ts validates the value
  if (flag === "network") return "private";
  throw new UsageError(`invalid value "${value}" for --${flag}: use host, private, container:ID or ns:PATH`);
}

/** True when pod runs without root (a user namespace with subordinate ids is needed). */
export function isRootless(): boolean {
  return Deno.uid() !== 0;
}

/** The namespaces and the user namespace (mode and id maps) a container with these options gets. */
export async function namespacesFor(
  o: NamespaceOptions,
): Promise<{ namespaces: ContainerConfig["namespaces"]; userns: ContainerConfig["userns"] }> {
  const namespaces = {
    pid: nsMode("pid", o.pid),
    ipc: nsMode("ipc", o.ipc),
    uts: nsMode("uts", o.uts),
    net: nsMode("network", o.network),
  };
  const rootless = isRootless();
  const lilipod = (o.argv0 ?? "").includes("lilipod");
  let usernsMode = o.userns ?? (rootless ? (lilipod ? "keep-id" : "private") : "host");
  if (usernsMode === "") usernsMode = rootless ? "private" : "host";
  const baseMode = usernsMode.split(":")[0];
  if (!["host", "private", "keep-id", "auto", "nomap"].includes(baseMode)) {
    throw new UsageError(`invalid value "${usernsMode}" for --userns: use host, keep-id, auto or private`);
  }
  const userns: ContainerConfig["userns"] = { mode: baseMode };
  if (!rootless) {
    if (baseMode !== "host") {
      debug(`--userns=${usernsMode}: running as root, the container uses the host's ids`);
    }
    userns.mode = "host";
  } else {
    const { rootlessMaps } = await import("../ns/idmap.ts");
    const maps = rootlessMaps({ keepId: baseMode === "keep-id" });
    if (maps.warning) warnOnce("subids", maps.warning);
    userns.mode = baseMode === "keep-id" ? "keep-id" : "private";
    userns.uidMap = maps.uidMap;
    userns.gidMap = maps.gidMap;
  }
  return { namespaces, userns };
}

/** The namespaces and id maps stage 2 is started with, from a container's config. */
export function launchNamespaces(c: Pick<ContainerConfig, "namespaces" | "userns">): PrelaunchNs {
  // a joined user namespace (`container:<id>`, rootless joins) is entered, not made: see lib/ns/unshare.ts
  const userns = c.userns.mode !== "host";
  return {
    namespaces: {
      user: userns,
      pid: c.namespaces.pid === "private",
      ipc: c.namespaces.ipc === "private",
      uts: c.namespaces.uts === "private",
      net: c.namespaces.net === "private",
    },
    uidMap: userns ? c.userns.uidMap : undefined,
    gidMap: userns ? c.userns.gidMap : undefined,
  };
}

/**
 * Starts stage 2 for a container about to be created with `o` and run in the foreground without `-i`/`-t`
 * (see lib/ns/prelaunch.ts); undefined when that cannot be done (the real launch then reports why).
 */
export async function startEarly(root: string, o: NamespaceOptions): Promise<Prelaunched | undefined> {
  // joined namespaces are only known at start (their target's pid): no early start
  if ([o.pid, o.ipc, o.uts, o.network].some((v) => v?.startsWith("container:") || v?.startsWith("ns:"))) {
    return undefined;
  }
  // net2: rootless on a bridge network, stage 2 joins the rootless netns's user namespace (known at start)
  if (isRootless() && o.network && !/^(slirp4netns|pasta|none|host|private)(:|$)/.test(o.network)) {
    return undefined;
  }
  try {
    const { prelaunch } = await import("../ns/prelaunch.ts");
    traceTime("run: prelaunch module loaded");
    const ns = launchNamespaces(await namespacesFor(o));
    // a new store: the run pulls first anyway. Sync: an async stat here was the process's first trip through
    // the blocking thread pool (a thread started and woken) right before stage 2's spawn (run9)
    try {
      Deno.lstatSync(storePaths(root).tmp);
    } catch {
      return undefined;
    }
    return prelaunch(ns, !o.rm); // kept containers log their output
  } catch (e) {
    debug(`no early start: ${e instanceof Error ? e.message : e}`);
    return undefined;
  }
}
