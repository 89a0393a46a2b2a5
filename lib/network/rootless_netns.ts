/**
 * Rootless bridge networks as podman 4 does them: a per-store "rootless network namespace". A holder process
 * (`sleep infinity` under `unshare --user --net --mount`, with the store owner's id maps) keeps a user, a
 * network and a mount namespace alive; slirp4netns connects that network namespace to the outside (tap0,
 * 10.0.2.100); netavark runs inside it (`nsenter --target HOLDER --user --net --mount`; the holder's /run is a tmpfs of its
 * own, so netavark starts aardvark-dns itself and iptables has its lock) and makes the bridge,
 * veths, NAT and aardvark-dns there, as root does on the host. Containers on such a network join the holder's
 * user namespace (so netavark, its root, may move a veth into their network namespace, which they make as
 * usual) — the same sharing as podman's rootless pause process.
 *
 * Published ports: slirp4netns forwards the host port into the namespace (`add_hostfwd` to the same port on
 * 10.0.2.100), where netavark's DNAT rule sends it on to the container.
 *
 * Files under `<store>/rootless-netns/`: `state.json` (holder and slirp4netns pids, the maps), `lock` (flock:
 * one set-up or teardown at a time), `pins/<container id>` (one per container using the namespace: the
 * container's netns is bind-mounted there inside the holder's mount namespace, for netavark's teardown), and
 * netavark's config dir. The teardown of the last user ends slirp4netns and the holder: nothing stays behind.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug } from "../log.ts";
import { rootlessMaps } from "../ns/idmap.ts";
import type { IdMapping } from "../ns/spec.ts";
import { mapAndRelease, SYNC_SHELL, SYNC_WAIT } from "../ns/userns.ts";
import { mkfifo } from "../ns/fs.ts";
import { withLock } from "../store/lock.ts";
import { networkTool } from "./helpers.ts";
import { shQuote } from "../ns/sh_quote.ts";
import { endHelper, startSlirp } from "./slirp.ts";
import { runNetavarkSetup } from "./netavark.ts";

/** The recorded state of a store's rootless network namespace. */
export interface RootlessNetns {
  /** The holder's pid (its namespaces are the rootless netns). */
  pid: number;
  /** Its start time (field 22 of /proc/PID/stat), so that a reused pid is not taken for it. */
  start: string;
  /** slirp4netns's pid. */
  slirpPid: number;
  /** slirp4netns's API socket (port forwarding). */
  apiSocket: string;
  /** The uid map of its user namespace (containers joining it must have the same). */
  uidMap: IdMapping[];
}

/** The paths of a store's rootless netns. */
export function rootlessNetnsPaths(root: string) {
  const dir = `${root}/rootless-netns`;
  return {
    dir,
    state: `${dir}/state.json`,
    lock: `${dir}/lock`,
    pins: `${dir}/pins`,
    netavark: `${dir}/netavark`,
    resolv: `${dir}/resolv.conf`,
  };
}

function startTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return f[0] === "Z" || f[0] === "X" ? undefined : f[19];
  } catch {
    return undefined;
  }
}

function alive(st: RootlessNetns): boolean {
  if (startTime(st.pid) !== st.start) return false;
  try {
    return Deno.readTextFileSync(`/proc/${st.slirpPid}/cmdline`).includes("slirp4netns");
  } catch {
    return false;
  }
}

/** The recorded rootless netns of the store, when its holder and slirp4netns still run. */
export function readRootlessNetns(root: string): RootlessNetns | undefined {
  try {
    const st = JSON.parse(Deno.readTextFileSync(rootlessNetnsPaths(root).state)) as RootlessNetns;
    return alive(st) ? st : undefined;
  } catch {
    return undefined;
  }
}

const sameMap = (a: IdMapping[], b: IdMapping[]) => JSON.stringify(a) === JSON.stringify(b);

const mapsDiffer = () =>
  new PodError(
    "a rootless container on a bridge network shares the rootless network namespace's user namespace: " +
      "it needs the default id mapping (not --userns=keep-id, auto or custom maps)",
  );

/**
 * Makes sure the store's rootless netns runs (started with `maps` when not) and registers container `id` as
 * one of its users (`pins/<id>`), under the lock, so that no teardown ends it meanwhile. Returns its state.
 */
export async function acquireRootlessNetns(
  root: string,
  id: string,
  uidMap: IdMapping[] | undefined,
): Promise<RootlessNetns> {
  const p = rootlessNetnsPaths(root);
  // a missing tool is named before anything is started
  for (const tool of ["netavark", "aardvark-dns", "slirp4netns"] as const) networkTool(tool);
  const maps = rootlessMaps({ keepId: false });
  if (!uidMap || !sameMap(uidMap, maps.uidMap)) throw mapsDiffer();
  await Deno.mkdir(p.pins, { recursive: true, mode: 0o700 });
  return await withLock(p.lock, async () => {
    let st = readRootlessNetns(root);
    if (st && !sameMap(st.uidMap, maps.uidMap)) throw mapsDiffer();
    if (!st) st = await restartSlirp(root);
    if (!st) {
      await stopHolder(root);
      st = await startHolder(root, maps);
    }
    await Deno.writeTextFile(`${p.pins}/${id}`, "", { mode: 0o600 });
    return st;
  });
}

/** Starts the holder and its slirp4netns; on failure nothing is left running. */
async function startHolder(
  root: string,
  maps: { uidMap: IdMapping[]; gidMap: IdMapping[] },
): Promise<RootlessNetns> {
  const p = rootlessNetnsPaths(root);
  const t0 = performance.now();
  const fifo = `${p.dir}/sync.fifo`;
  await Deno.remove(fifo).catch(() => {});
  mkfifo(fifo, 0o600);
  // aardvark-dns forwards other names to slirp4netns's DNS; netavark must find no running-systemd marker
  // (it would start aardvark-dns through systemd-run) and needs a writable /run (iptables' lock)
  await Deno.writeTextFile(p.resolv, "nameserver 10.0.2.3\n", { mode: 0o644 });
  const script = [
    SYNC_WAIT,
    // /etc/resolv.conf may link into /run (systemd-resolved): its target is made again in the new /run
    "t=$(readlink -f /etc/resolv.conf)",
    "mount -t tmpfs -o mode=755,size=1m pod-rootless-netns /run || exit 1",
    'case "$t" in /run/*) mkdir -p "${t%/*}" && : > "$t" ;; esac',
    `mount --bind ${shQuote(p.resolv)} "$t" 2>/dev/null`,
    "exec sleep infinity",
  ].join("; ");
  const child = new Deno.Command("setsid", {
    args: [
      "unshare",
      "--user",
      "--net",
      "--mount",
      "--propagation",
      "private",
      "--",
      ...SYNC_SHELL,
      script,
      fifo,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  let ended = false;
  const status = child.status.then(() => ended = true);
  try {
    await mapAndRelease(child.pid, maps, fifo, status, () => ended, "the rootless network namespace");
    // the holder is ready once it sleeps (its /run mounted)
    for (let i = 0; !ended; i++) {
      try {
        if (Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).startsWith("sleep")) break;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, i < 20 ? 1 : 5));
    }
    if (ended) throw new PodError("the rootless network namespace could not be set up (its holder ended)");
    const start = startTime(child.pid)!;
    const slirp = await startSlirp(child.pid, {}, [], p.dir, root).catch((e) => {
      throw new PodError(`rootless network namespace: ${e instanceof Error ? e.message : e}`);
    });
    const st: RootlessNetns = {
      pid: child.pid,
      start,
      slirpPid: slirp.pid,
      apiSocket: slirp.apiSocket!,
      uidMap: maps.uidMap,
    };
    await Deno.writeTextFile(p.state, JSON.stringify(st), { mode: 0o600 });
    debug(`rootless netns ${child.pid} up in ${Math.round(performance.now() - t0)} ms`);
    return st;
  } catch (e) {
    try {
      Deno.kill(child.pid, "SIGKILL");
    } catch { /* gone */ }
    throw e;
  } finally {
    await Deno.remove(fifo).catch(() => {});
  }
}

/**
 * A holder that still runs but whose slirp4netns ended (its containers keep their bridge; only the way out
 * went): a new slirp4netns for it, the state updated. Undefined when there is no such holder.
 */
async function restartSlirp(root: string): Promise<RootlessNetns | undefined> {
  const p = rootlessNetnsPaths(root);
  let st: RootlessNetns;
  try {
    st = JSON.parse(await Deno.readTextFile(p.state));
  } catch {
    return undefined;
  }
  if (startTime(st.pid) !== st.start) return undefined;
  await Deno.remove(st.apiSocket).catch(() => {});
  const slirp = await startSlirp(st.pid, {}, [], p.dir, root);
  st = { ...st, slirpPid: slirp.pid, apiSocket: slirp.apiSocket! };
  await Deno.writeTextFile(p.state, JSON.stringify(st), { mode: 0o600 });
  debug(`rootless netns ${st.pid}: slirp4netns restarted (${slirp.pid})`);
  return st;
}

/** Ends a recorded holder and its slirp4netns (when they still are the ones started) and drops the state. */
async function stopHolder(root: string): Promise<void> {
  const p = rootlessNetnsPaths(root);
  let st: RootlessNetns;
  try {
    st = JSON.parse(await Deno.readTextFile(p.state));
  } catch {
    return;
  }
  endHelper(st.slirpPid, "slirp4netns");
  if (startTime(st.pid) === st.start) {
    try {
      Deno.kill(st.pid, "SIGKILL");
    } catch { /* gone */ }
  }
  await Deno.remove(st.apiSocket).catch(() => {});
  await Deno.remove(p.state).catch(() => {});
}

/** `nsenter` into the holder's user, network and mount namespaces, then `argv`. */
export function inRootlessNetns(st: RootlessNetns, argv: string[]): string[] {
  return ["nsenter", "--target", String(st.pid), "--user", "--net", "--mount", "--", ...argv];
}

/** The argv of a rootless netavark call (`setup`/`teardown`) inside the holder's namespaces. */
export function rootlessNetavarkArgv(
  root: string,
  st: RootlessNetns,
  verb: "setup" | "teardown",
  nsPath: string,
): string[] {
  const argv = [
    networkTool("netavark"),
    "--config",
    rootlessNetnsPaths(root).netavark,
    "--rootless",
    "true",
    "--aardvark-binary",
    networkTool("aardvark-dns"),
    verb,
    nsPath,
  ];
  // one netavark at a time in the namespace (its config dir, aardvark-dns's entries); -o: aardvark-dns, which
  // netavark starts, must not inherit the lock
  return ["flock", "-o", `${rootlessNetnsPaths(root).dir}/netavark.lock`, ...inRootlessNetns(st, argv)];
}

/**
 * Pins the network namespace of `pid` at `pins/<id>` inside the holder's mount namespace (netavark's
 * teardown needs it after the container ended); returns the path.
 */
export async function pinInRootlessNetns(root: string, st: RootlessNetns, id: string, pid: number) {
  const path = `${rootlessNetnsPaths(root).pins}/${id}`;
  const argv = inRootlessNetns(st, ["mount", "--bind", `/proc/${pid}/ns/net`, path]);
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new PodError(`cannot pin the container's network namespace: ${msg}`);
  }
  return path;
}

/** Runs `netavark setup` in the rootless netns (options on stdin); resolves to its status. */
export async function rootlessNetavarkSetup(
  root: string,
  st: RootlessNetns,
  nsPath: string,
  opts: unknown,
): Promise<Record<string, unknown>> {
  await Deno.mkdir(rootlessNetnsPaths(root).netavark, { recursive: true, mode: 0o700 });
  return await runNetavarkSetup(rootlessNetavarkArgv(root, st, "setup", nsPath), opts, /syslog/);
}

/**
 * The shell lines (run by the container's network-cleanup.sh) that release container `id`'s use of the
 * rootless netns, under its lock: remove its port forwards (perl speaks to slirp4netns's API socket), run
 * netavark's teardown on its pinned netns (`optsPath`, when given), unpin it, and, when no other container
 * uses the namespace any more, end slirp4netns and the holder.
 */
export function rootlessReleaseScript(
  root: string,
  st: RootlessNetns,
  id: string,
  optsPath: string | undefined,
  forwardIds: number[],
): string {
  const p = rootlessNetnsPaths(root);
  const pin = `${p.pins}/${id}`;
  const lines: string[] = [];
  if (forwardIds.length) {
    const perl = "use IO::Socket::UNIX; my $p = shift; for my $id (@ARGV) { my $s = IO::Socket::UNIX->new(" +
      'Peer => $p) or next; print $s qq({"execute":"remove_hostfwd","arguments":{"id":$id}}); ' +
      "shutdown($s, 1); my $r = <$s>; close $s }";
    lines.push(`perl -e ${shQuote(perl)} ${shQuote(st.apiSocket)} ${forwardIds.join(" ")} 2>/dev/null`);
  }
  const alive = `[ "$(cut -d' ' -f22 /proc/${st.pid}/stat 2>/dev/null)" = ${shQuote(st.start)} ]`;
  if (optsPath) {
    const nv = rootlessNetavarkArgv(root, st, "teardown", pin).map(shQuote).join(" ");
    const um = inRootlessNetns(st, ["umount", pin]).map(shQuote).join(" ");
    lines.push(
      `if ${alive}; then ${nv} < ${
        shQuote(optsPath)
      } >/dev/null 2>&1 || echo "netavark teardown failed" >&2; ` +
        `${um} 2>/dev/null; fi`,
    );
  }
  lines.push(`rm -f ${shQuote(pin)}`);
  lines.push(
    `if [ -z "$(ls -A ${shQuote(p.pins)} 2>/dev/null)" ]; then ` +
      // the slirp4netns the state names now (restartSlirp may have replaced the one of this start)
      `for s in ${st.slirpPid} $(sed -n 's/.*"slirpPid":\\([0-9]*\\).*/\\1/p' ${
        shQuote(p.state)
      } 2>/dev/null); do ` +
      `grep -q slirp4netns /proc/$s/cmdline 2>/dev/null && kill $s; done; ` +
      `${alive} && kill -9 ${st.pid}; ` +
      // the state (and socket) only when still this holder's: a newer holder's must stay
      `grep -q ${shQuote(`"pid":${st.pid},`)} ${shQuote(p.state)} 2>/dev/null && rm -f ${shQuote(p.state)} ${
        shQuote(st.apiSocket)
      }; fi`,
  );
  // one release at a time, and none while a container acquires it (the same flock as acquireRootlessNetns)
  return `flock -o ${shQuote(p.lock)} sh -c ${shQuote(lines.join("\n"))}`;
}
