/**
 * net3 (issue 12): the network teardown of a root bridge container that `run --rm` removes right after its
 * exit is handed off to a detached shell instead of being waited for (podman leaves it to `container cleanup`):
 * netavark's teardown — a dozen iptables calls — then ends while pod already returns. What must be over when
 * pod returns is done first: the port holder ends (the host ports are free again). The script, netavark's
 * options and the state (its addresses, kept from other containers by {@link pendingIps} until it is over)
 * move to `<run dir>/pending/`, out of the container's dir that the removal deletes; netavark calls stay
 * serialized by their machine-wide lock, so a container started meanwhile is set up after it.
 * @module
 */

import { debug } from "../log.ts";
import { lockedScriptHead, netavarkTeardownLines, netRunDir, runDirRemovalLocked } from "./netavark.ts";
import { shQuote } from "../ns/sh_quote.ts";
import { bindTogether } from "../ns/libc.ts";
import { SPAWN_SYMBOLS, spawnProgram } from "../ns/spawn.ts";
import { sleepMs } from "../ns/sleep.ts";

/** The pending dir of a store's run dir. */
function pendingDir(root: string): string {
  return `${netRunDir(root)}/pending`;
}

/** True while `pid` runs (not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Ends the port holder `pid` (if it still is one) and waits (≤ 1 s) until its ports are closed. */
async function endHolder(pid: number): Promise<void> {
  try {
    if (!Deno.readTextFileSync(`/proc/${pid}/cmdline`).startsWith("pod-port-holder")) return;
    Deno.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let i = 0; i < 200 && alive(pid); i++) await sleepMs(5);
}

/** What {@link handOffTeardown} reads of a container's `network.json` (setup.ts `NetState`). */
interface HandedState {
  mode?: string;
  rootless?: boolean;
  nsPath?: string;
  holderPid?: number;
  ips?: Record<string, string>;
}

/**
 * Hands the network teardown of container `id` (about to be removed) off to a detached shell; false when it
 * is not a root bridge network set up by this store (the caller then tears it down itself). `f`: its network
 * files (setup.ts `netFiles`).
 */
export async function handOffTeardown(
  root: string,
  id: string,
  f: { state: string; cleanup: string; opts: string },
): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  // run10: sync file calls, a few small files (each async one is a trip through Deno's thread pool on the
  // path between the container's exit and `run`'s)
  let st: HandedState | undefined;
  try {
    st = JSON.parse(Deno.readTextFileSync(f.state));
  } catch {
    return false;
  }
  if (st?.mode !== "bridge" || st.rootless || !st.nsPath) return false;
  try {
    Deno.statSync(f.cleanup);
    Deno.statSync(f.opts);
  } catch {
    return false; // nothing (or not all of it) to hand off
  }
  if (st.holderPid) await endHolder(st.holderPid);
  const dir = pendingDir(root);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = { sh: `${dir}/${id}.sh`, opts: `${dir}/${id}.opts.json`, state: `${dir}/${id}.state.json` };
  Deno.copyFileSync(f.opts, p.opts);
  // run7: sync writes and a posix_spawn (below): the async write and Deno.Command load Deno's streams and
  // process code on their first use (~10 ms of the CLI's main thread after the container exited)
  Deno.writeTextFileSync(p.state, JSON.stringify({ ips: st.ips ?? {} }), { mode: 0o600 });
  Deno.writeTextFileSync(p.sh, handedOffScript(root, st.nsPath, p), { mode: 0o700 });
  // the container's own teardown is now this one: removing the container finds nothing left to do
  for (const path of [f.cleanup, f.state, f.opts]) {
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
  }
  if (spawnDetached(["sh", p.sh])) {
    debug(`network teardown of ${id.slice(0, 12)} handed off`);
    return true;
  }
  try {
    const child = new Deno.Command("setsid", {
      args: ["sh", p.sh],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    child.status.catch(() => {});
    debug(`network teardown of ${id.slice(0, 12)} handed off (pid ${child.pid})`);
  } catch {
    await runPending(p.sh); // no detached shell: done here after all
  }
  return true;
}

/**
 * The handed-off teardown: the whole script under netavark.ts's `NETAVARK_LOCK` ({@link lockedScriptHead}),
 * so one run at a time and serialized with every netavark call and pin.
 * run10: one lock, one `rm` and the run dir's emptiness told by the shell's globs: 5 processes besides
 * netavark's (`sh`, `flock`, `umount`, `rm`, the last container's `rm -rf`) instead of 12 (`setsid -f`, a lock
 * per step, each its own `flock`, `sh -c` and `rmdir`s).
 */
function handedOffScript(
  root: string,
  nsPath: string,
  p: { sh: string; opts: string; state: string },
): string {
  const [netavark, unpin] = netavarkTeardownLines(root, nsPath, p.opts);
  return [
    ...lockedScriptHead(),
    "# a removed container's network teardown, handed off by `run --rm` (written by pod; removes itself)",
    netavark,
    `${unpin} ${shQuote(p.opts)} ${shQuote(p.state)} "$0"`,
    runDirRemovalLocked(root),
    "",
  ].join("\n");
}

/**
 * run7: `argv` started through `posix_spawn` (lib/ns/spawn.ts), stdio on `/dev/null`, in a session of its own.
 * run10: spawned so directly (`POSIX_SPAWN_SETSID`), no `setsid -f` in front (one process less); its exit is
 * waited for by a nonblocking `waitpid` that does not hold the CLI (it ends with `Deno.exit`), and a process
 * using pod as a library reaps it when it is over. False when it could not be started that way.
 */
function spawnDetached(argv: string[]): boolean {
  try {
    bindTogether(SPAWN_SYMBOLS);
    const env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`);
    const spawned = spawnProgram(argv[0], argv, { env, stdin: false, setsid: true, quiet: true });
    spawned?.status.catch(() => {});
    return !!spawned;
  } catch {
    return false;
  }
}

/** Runs a pending teardown script here and waits for it (it takes its own lock; a finished one is a no-op). */
async function runPending(path: string): Promise<void> {
  await new Deno.Command("sh", { args: [path], stdin: "null", stdout: "null", stderr: "null" }).output()
    .catch(() => {});
}

/** A pending script older than this was not run to its end (its shell died): whoever waits for it runs it. */
const STALE_MS = 60_000;

/** The addresses of removed containers whose handed-off teardown still runs, per network. */
export async function pendingIps(root: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  try {
    for await (const e of Deno.readDir(pendingDir(root))) {
      if (!e.name.endsWith(".state.json")) continue;
      try {
        const st = JSON.parse(await Deno.readTextFile(`${pendingDir(root)}/${e.name}`));
        for (const [net, ip] of Object.entries(st.ips ?? {})) {
          if (!out.has(net)) out.set(net, new Set());
          out.get(net)!.add(String(ip));
        }
      } catch { /* just removed */ }
    }
  } catch { /* no pending dir */ }
  return out;
}

/**
 * Waits (≤ 30 s) until the store's handed-off teardowns, other than container `except`'s own, are over: a
 * teardown that `stop`/`rm` run after them then sees the bridge as they left it (the last container's
 * teardown removes it). `run --rm`'s removal does not wait for the teardown it has just handed off.
 */
export async function awaitPendingTeardowns(root: string, except?: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    let pending = false;
    try {
      // run10: sync (one small dir; `run --rm`'s removal comes here, finding its own script only)
      for (const e of Deno.readDirSync(pendingDir(root))) {
        if (!e.name.endsWith(".sh") || e.name === `${except}.sh`) continue;
        pending = true;
        const path = `${pendingDir(root)}/${e.name}`;
        let mtime: number | undefined;
        try {
          mtime = Deno.statSync(path).mtime?.getTime();
        } catch { /* just removed */ }
        if (mtime !== undefined && Date.now() - mtime > STALE_MS) await runPending(path);
      }
    } catch { /* no pending dir */ }
    if (!pending) return;
    await sleepMs(10); // run7: not setTimeout (lib/ns/sleep.ts)
  }
}
