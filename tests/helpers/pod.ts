/**
 * Run the pod CLI (`deno run -A <repo>/cli.ts`) as a subprocess, as root or as the rootless test user, with a
 * clean environment and a temp store.
 *
 * ```ts
 * const h = await tempPodHome();            // or tempPodHome({ user: "podtest" })
 * try {
 *   const r = await pod(["pull", img.ref], { home: h.home });   // + user: "podtest" for rootless
 *   assertEquals(r.code, 0, r.stderr);
 * } finally {
 *   await h.cleanup();
 * }
 * ```
 *
 * {@linkcode startPod} starts pod in the background (to kill it at a chosen moment); {@linkcode isOneLineError}
 * and {@linkcode errorLine} check pod's one-line error contract.
 * @module
 */

import { lookupUser, type UserInfo } from "./rootless.ts";
import { signalNumber } from "../../lib/ns/signals.ts";

/** Repository root (where `cli.ts` is). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Path of the CLI entry. */
export const CLI_PATH = `${REPO_ROOT}/cli.ts`;

/** A temp store and its surroundings. */
export interface TempPodHome {
  /** The temp dir holding everything below (0700, owned by the user when given). */
  root: string;
  /** The store root to pass as `home` (`POD_HOME`): `<root>/store`, 0700. */
  home: string;
  /** `HOME` for the CLI: `<root>/home` (isolated from the host's `~/.docker`, `~/.config`). */
  userHome: string;
  /** `XDG_RUNTIME_DIR` for the CLI: `<root>/run`, 0700. */
  runtimeDir: string;
  /** The owner when made for a rootless user. */
  user?: UserInfo;
  /** {@linkcode pod} on this store, as its user (if any), with its `env` (per-call `env` wins). */
  pod: (args: string[], opts?: Omit<PodOptions, "home" | "user">) => Promise<PodResult>;
  /** {@linkcode startPod} on this store, as its user (if any), with its `env`. */
  startPod: (args: string[], opts?: Omit<PodOptions, "home" | "user">) => Promise<PodProcess>;
  /** Remove everything (as root this also removes files owned by sub-ids). */
  cleanup: () => Promise<void>;
  /** `await using h = await tempPodHome()`. */
  [Symbol.asyncDispose]: () => Promise<void>;
}

/** Options of {@linkcode tempPodHome}. */
export interface TempPodHomeOptions {
  /** Make it for this (rootless) user; its `pod`/`startPod` run as that user. */
  user?: string;
  /** Extra environment for every run through its `pod`/`startPod` (e.g. {@linkcode REGISTRY_TEST_ENV}). */
  env?: Record<string, string>;
}

/**
 * Make a temp dir with a store root (`home`, 0700), a `HOME` and an `XDG_RUNTIME_DIR`; chowned to `user` when given.
 * The store dir exists but is empty.
 */
export async function tempPodHome(opts: TempPodHomeOptions = {}): Promise<TempPodHome> {
  const user = opts.user !== undefined ? await lookupUser(opts.user) : undefined;
  if (opts.user !== undefined && !user) throw new Error(`no such user: ${opts.user}`);
  const root = await Deno.makeTempDir({ prefix: "pod-test-" });
  const home = `${root}/store`;
  const userHome = `${root}/home`;
  const runtimeDir = `${root}/run`;
  for (const d of [home, userHome, runtimeDir]) {
    await Deno.mkdir(d);
    await Deno.chmod(d, 0o700);
  }
  await Deno.chmod(root, 0o700);
  if (user) {
    for (const d of [root, home, userHome, runtimeDir]) await Deno.chown(d, user.uid, user.gid);
  }
  let done = false;
  const cleanup = async () => {
    if (done) return;
    done = true;
    await removeTree(root);
  };
  const bound = (o: Omit<PodOptions, "home" | "user"> = {}): PodOptions => ({
    ...o,
    home,
    user: opts.user,
    env: { ...opts.env, ...o.env },
  });
  return {
    root,
    home,
    userHome,
    runtimeDir,
    user: user ?? undefined,
    pod: (args, o) => pod(args, bound(o)),
    startPod: (args, o) => startPod(args, bound(o)),
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}

/** Remove a tree, first making dirs writable (a rootless store may hold 0555 dirs owned by sub-ids). */
export async function removeTree(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
    return;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
  }
  // e.g. busy mount points or permission trouble as non-root: best effort with chmod + rm.
  await new Deno.Command("chmod", { args: ["-R", "u+rwX", path], stdout: "null", stderr: "null" }).output();
  await new Deno.Command("rm", { args: ["-rf", "--one-file-system", path], stdout: "null", stderr: "null" })
    .output();
}

/** Options of {@linkcode pod}. */
export interface PodOptions {
  /** The store root (`POD_HOME`), e.g. `tempPodHome().home`. */
  home: string;
  /** Run as this user (rootless), through `setpriv --reuid/--regid --init-groups`. */
  user?: string;
  /** Bytes or text for stdin (stdin is `/dev/null` otherwise). */
  stdin?: string | Uint8Array;
  /** Extra environment (wins over the defaults; `undefined`-free). */
  env?: Record<string, string>;
  /** `HOME`; default `<dirname(home)>/home` when that exists (made by {@linkcode tempPodHome}), else the user's home. */
  userHome?: string;
  /** Working directory; default `HOME`. */
  cwd?: string;
  /** Kill after this many ms (SIGTERM, then SIGKILL 2 s later). Default 120000. */
  timeoutMs?: number;
  /** Run this entry (e.g. the bundle's `pod.js`) instead of the checkout's `cli.ts`, without the repo's deno.json. */
  entry?: string;
}

/** Result of {@linkcode pod}. */
export interface PodResult {
  /** Exit code (128+n when killed by signal n). */
  code: number;
  /** The signal that ended the process, `null` when it exited (so "exit 130" and "killed by SIGINT" differ). */
  signal: Deno.Signal | null;
  /** stdout as text. */
  stdout: string;
  /** stderr as text. */
  stderr: string;
  /** Raw stdout. */
  stdoutBytes: Uint8Array;
  /** Whether the timeout killed it. */
  timedOut: boolean;
}

/** A pod process started by {@linkcode startPod}. */
export interface PodProcess {
  /** The child's pid (deno running cli.ts; for `user`, `setpriv` execs into it, so the same pid). */
  pid: number;
  /** Resolves when it has ended. */
  done: Promise<PodResult>;
  /** Send a signal to exactly this process (ignored once it has ended). */
  kill(sig: Deno.Signal): void;
}

/**
 * Environment for registry tests (`env` of {@linkcode PodOptions}): a 20 s registry idle timeout instead of pod's
 * 30 s, so a stalled transfer fails sooner.
 */
export const REGISTRY_TEST_ENV: Readonly<Record<string, string>> = { POD_REGISTRY_TIMEOUT_MS: "20000" };

/** The command line and environment {@linkcode pod} uses (for tests that spawn pod themselves). */
export interface PodCommand {
  /** Program. */
  cmd: string;
  /** Arguments. */
  args: string[];
  /** The complete environment (use with `clearEnv: true`). */
  env: Record<string, string>;
  /** Working directory. */
  cwd: string;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isDirectory;
  } catch {
    return false;
  }
}

function dirname(p: string): string {
  const s = p.replace(/\/+$/, "");
  const i = s.lastIndexOf("/");
  return i <= 0 ? "/" : s.slice(0, i);
}

/** Build the command for `pod args` (see {@linkcode PodOptions}). */
export async function podCommand(args: string[], opts: PodOptions): Promise<PodCommand> {
  const user = opts.user !== undefined ? await lookupUser(opts.user) : undefined;
  if (opts.user !== undefined && !user) throw new Error(`no such user: ${opts.user}`);
  const sibling = `${dirname(opts.home)}/home`;
  const realHome = user ? user.home : (Deno.env.get("HOME") ?? "/root");
  const home = opts.userHome ?? (await isDir(sibling) ? sibling : realHome);
  const runtime = `${dirname(opts.home)}/run`;
  const denoDir = user ? `${user.home}/.cache/deno` : (Deno.env.get("DENO_DIR") ?? `${realHome}/.cache/deno`);
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: home,
    POD_HOME: opts.home,
    DENO_DIR: denoDir,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PROMPT: "1",
    NO_COLOR: "1",
    LANG: "C.UTF-8",
  };
  if (user) {
    env.USER = env.LOGNAME = user.name;
  }
  if (await isDir(runtime)) env.XDG_RUNTIME_DIR = runtime;
  const debug = Deno.env.get("POD_DEBUG");
  if (debug) env.POD_DEBUG = debug;
  Object.assign(env, opts.env ?? {});
  const denoArgs = opts.entry
    ? ["run", "-A", "--no-lock", "--no-config", opts.entry, ...args]
    : ["run", "-A", "--no-lock", `--config=${REPO_ROOT}/deno.json`, CLI_PATH, ...args];
  const cwd = opts.cwd ?? home;
  if (!user) return { cmd: Deno.execPath(), args: denoArgs, env, cwd };
  return {
    cmd: "setpriv",
    args: [
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      "--init-groups",
      "--reset-env",
      "--",
      "/usr/bin/env",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Deno.execPath(),
      ...denoArgs,
    ],
    env,
    cwd,
  };
}

/** Spawn pod (piped stdin/stdout/stderr) and return the child, for long-running or interactive tests. */
export async function spawnPod(args: string[], opts: PodOptions): Promise<Deno.ChildProcess> {
  const c = await podCommand(args, opts);
  return new Deno.Command(c.cmd, {
    args: c.args,
    env: c.env,
    clearEnv: true,
    cwd: c.cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Start `pod args` in the background (stdin from `opts.stdin`, else `/dev/null`): for tests that kill it at a
 * chosen moment or run several at once. The timeout of {@linkcode PodOptions} applies.
 */
export async function startPod(args: string[], opts: PodOptions): Promise<PodProcess> {
  const c = await podCommand(args, opts);
  const child = new Deno.Command(c.cmd, {
    args: c.args,
    env: c.env,
    clearEnv: true,
    cwd: c.cwd,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let ended = false;
  const kill = (sig: Deno.Signal) => {
    if (ended) return;
    try {
      child.kill(sig);
    } catch {
      // exited
    }
  };
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    kill("SIGTERM");
    killTimer = setTimeout(() => kill("SIGKILL"), 2000);
  }, opts.timeoutMs ?? 120_000);
  const writing = opts.stdin !== undefined
    ? (async () => {
      const w = child.stdin.getWriter();
      try {
        await w.write(typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin);
        await w.close();
      } catch {
        // the process closed stdin early
      }
    })()
    : Promise.resolve();
  const done = (async (): Promise<PodResult> => {
    try {
      const [out] = await Promise.all([child.output(), writing]);
      const td = new TextDecoder();
      return {
        code: out.signal ? 128 + signalNumber(out.signal) : out.code,
        signal: out.signal,
        stdout: td.decode(out.stdout),
        stderr: td.decode(out.stderr),
        stdoutBytes: out.stdout,
        timedOut,
      };
    } finally {
      ended = true;
      clearTimeout(timer);
      if (killTimer !== undefined) clearTimeout(killTimer);
    }
  })();
  return { pid: child.pid, done, kill };
}

/** Run `pod args` and collect its exit code and output. */
export async function pod(args: string[], opts: PodOptions): Promise<PodResult> {
  return await (await startPod(args, opts)).done;
}

/**
 * True when the one-line error contract holds: the last non-empty stderr line starts `Error: `, or the one
 * before it does and the last is its hint (`See 'pod run --help'`); no stack trace.
 */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  const last = lines.findLastIndex((l) => l.startsWith("Error: "));
  return last >= 0 && last >= lines.length - 2 && !/^\s+at /m.test(stderr);
}

/** The last `Error: …` line of stderr (or the whole stderr when there is none). */
export function errorLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("Error: "));
  return lines[lines.length - 1] ?? stderr;
}

/** Pids of processes whose environment has this store as POD_HOME (conmon and stage 2 inherit pod's). */
export function processesOf(h: TempPodHome): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const env = Deno.readFileSync(`/proc/${e.name}/environ`);
      if (new TextDecoder().decode(env).split("\0").includes(`POD_HOME=${h.home}`)) out.push(Number(e.name));
    } catch { /* gone, or a kernel thread */ }
  }
  return out;
}
