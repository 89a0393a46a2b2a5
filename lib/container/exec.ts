/**
 * `exec` in a running container: the container's user, environment and working directory unless
 * overridden, then lib/ns's nsenter-based {@link execIn}. On the hot path: loads nothing heavy.
 * @module
 */

import { PodError } from "../errors.ts";
import { execIn, type ExecOptions, helperPlan, nsenterCommand } from "../ns/exec.ts";
import { type ExecSecurity, helperEnv } from "../ns/exec_helper.ts";
import { execHelperBinary } from "../ns/exec_helper_c.ts";
import { containerPaths } from "../store/container_paths.ts";
import type { ContainerRecord } from "../store/container_types.ts";
import { EnvList } from "./process_options.ts";
import { keepExecPlan } from "./exec_fast.ts";
import { appendExecEvents } from "./exec_events.ts";
import { eventTime } from "../store/events.ts";

/** What `exec` was asked for. */
export interface ExecRequest {
  /** Command and arguments. */
  args: string[];
  /** Extra `KEY=value` entries (already expanded). */
  env: string[];
  /** `-u` (default: the container's user). */
  user?: string;
  /** `-w` (default: the container's working directory). */
  workdir?: string;
  /** `-t`. */
  tty: boolean;
  /** `-i`. */
  interactive: boolean;
  /** `-d`: start it and return at once. */
  detach?: boolean;
  /** `--privileged`: every capability (the container's seccomp filter stays, as podman's). */
  privileged?: boolean;
  /** `--cap-add`: capabilities beyond the container's. */
  capAdd?: string[];
  /** runtime3 (issue 13): `--preserve-fds N`: this process's fds 3..3+N-1 go to the process. */
  preserveFds?: number;
}

/**
 * The container's security settings for an exec (lib/ns/exec_helper.ts applies them): its capabilities
 * (all with `--privileged`, plus `--cap-add`), its seccomp filter, no-new-privileges, a non-root user's
 * added capabilities.
 */
async function execSecurity(root: string, rec: ContainerRecord, req: ExecRequest): Promise<ExecSecurity> {
  const [{ containerCapabilities, normalizeCap }, { seccompFilter }] = await Promise.all([
    import("./security.ts"),
    import("./seccomp.ts"),
  ]);
  const c = rec.config;
  const extra = (req.capAdd ?? []).flatMap((v) => v.split(",")).filter((v) => v.trim()).map(normalizeCap);
  const capabilities = containerCapabilities({
    privileged: c.privileged || !!req.privileged,
    security: { ...c.security, capAdd: [...(c.security?.capAdd ?? []), ...extra] },
  });
  const added = [...(c.security?.capAdd ?? []), ...extra];
  const ambient = added.includes("ALL") ? capabilities : capabilities.filter((x) => added.includes(x));
  return {
    capabilities,
    seccomp: await seccompFilter(root, c),
    noNewPrivileges: c.security?.noNewPrivileges,
    ambient: req.privileged ? capabilities : ambient,
    cgroupProcs: rec.state.cgroupDirs?.map((d) => `${d}/cgroup.procs`),
  };
}

/**
 * What an exec with the container's own user and security settings needs, kept per start in
 * `<container>/run/exec.json` (`run/` is emptied by each start): the first exec resolves the user in the
 * container's /etc/passwd and builds (or finds) the seccomp filter; the next ones read this one file instead
 * of loading user.ts, contain.ts, security.ts and seccomp.ts. Kept only for a numeric or empty user (a name
 * is looked up at each exec, as podman does); HOME is the one the first exec found, as podman's comes from
 * the container's start.
 */
interface ExecDefaults {
  /** The container init this was made for (`pid`, `pidStart`): another start makes it stale. */
  pid: number;
  pidStart?: number;
  uid: number;
  gid: number;
  home: string;
  security: ExecSecurity;
}

const NUMERIC_USER = /^(\d+(:\d+)?)?$/;

function defaultsPath(root: string, rec: ContainerRecord): string {
  return `${containerPaths(root, rec.config.id).dir}/run/exec.json`;
}

/** The kept {@link ExecDefaults} of this start, if any (and if `req` asks for nothing else). */
function keptDefaults(root: string, rec: ContainerRecord, req: ExecRequest): ExecDefaults | undefined {
  if (req.user !== undefined || req.privileged || req.capAdd?.length) return undefined;
  if (!NUMERIC_USER.test(rec.config.process.user ?? "")) return undefined;
  try {
    const d = JSON.parse(Deno.readTextFileSync(defaultsPath(root, rec))) as ExecDefaults;
    if (d.pid !== rec.state.pid || d.pidStart !== rec.state.pidStart) return undefined;
    if (!Array.isArray(d.security?.capabilities)) return undefined;
    if (d.security.seccomp) Deno.statSync(d.security.seccomp); // the filter cache was emptied: build it again
    return d;
  } catch { /* none yet, or another start's */ }
  return undefined;
}

/** Keeps `d` for the next execs of this start (best effort: a read-only store just keeps none). */
function keepDefaults(root: string, rec: ContainerRecord, d: ExecDefaults): void {
  const path = defaultsPath(root, rec);
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(d), { mode: 0o600 });
    Deno.renameSync(tmp, path);
  } catch {
    try {
      Deno.removeSync(tmp);
    } catch { /* not written */ }
  }
}

/** The process options of an exec in `rec` (its user, environment and directory unless overridden). */
async function execOptions(root: string, rec: ContainerRecord, req: ExecRequest): Promise<ExecOptions> {
  if (rec.state.status !== "running") {
    const why = rec.state.status === "paused" ? "is paused" : "is not running";
    throw new PodError(`can only create exec sessions on running containers: container state improper`, {
      code: "STATE",
      cause: why,
    });
  }
  if (rec.config.isInfraHolder) {
    // pods3: the default infra only holds the pod's namespaces (lib/ns/holder.ts): no root to run a command in
    throw new PodError(
      `container ${rec.config.id.slice(0, 12)} is the infra container of a pod: it only holds the pod's ` +
        `namespaces and has no root file system to run commands in`,
      { code: "STATE" },
    );
  }
  let u: { uid: number; gid: number; home: string };
  let security: ExecSecurity;
  const kept = keptDefaults(root, rec, req);
  if (kept) {
    u = kept;
    security = kept.security;
  } else {
    // an overlay root exists only in the container's mount namespace: read it through the init's root
    const rootfs = rec.config.storage || rec.config.rootfsDir?.overlay
      ? `/proc/${rec.state.pid}/root`
      : containerPaths(root, rec.config.id).rootfs;
    const { resolveUserInRoot } = await import("./user.ts");
    u = resolveUserInRoot(rootfs, req.user ?? rec.config.process.user);
    security = await execSecurity(root, rec, req);
    if (req.user === undefined && !req.privileged && !req.capAdd?.length) {
      if (NUMERIC_USER.test(rec.config.process.user ?? "")) {
        const { pid, pidStart } = rec.state;
        keepDefaults(root, rec, { pid, pidStart, uid: u.uid, gid: u.gid, home: u.home, security });
      }
    }
  }
  if (req.preserveFds) security = { ...security, preserveFds: req.preserveFds };
  // exec5 (issue 16): the compiled helper in place of perl when the host can build it (built on first use)
  const helper = await execHelperBinary(`${root}/helpers`);
  if (helper) security = { ...security, helper };
  const env = new EnvList();
  env.setAll(rec.config.process.env);
  if (!env.has("HOME")) env.set(`HOME=${u.home}`);
  if (req.tty) env.set("TERM=xterm");
  env.setAll(req.env);
  return {
    args: req.args,
    env: env.toArray(),
    cwd: req.workdir || rec.config.process.cwd || "/",
    uid: u.uid,
    gid: u.gid,
    tty: req.tty,
    interactive: req.interactive,
    security,
  };
}

/** Runs a process in the container; resolves with its exit code (0 at once with `detach`). */
export async function execInContainer(root: string, rec: ContainerRecord, req: ExecRequest): Promise<number> {
  const started = eventTime();
  const code = await execRun(root, rec, req);
  // the two lines appended after the process ended, in one write
  const c = rec.config;
  const event = { id: c.id, image: c.image.ref ?? c.image.name, name: c.name, labels: c.labels };
  appendExecEvents(root, event, started, req.detach ? undefined : code);
  return code;
}

async function execRun(root: string, rec: ContainerRecord, req: ExecRequest): Promise<number> {
  const opts = await execOptions(root, rec, req);
  if (req.detach) {
    const cmd = nsenterCommand(rec.state.pid, { ...opts, tty: false, interactive: false });
    const { hostBinary } = await import("../ns/helpers_check.ts");
    const child = new Deno.Command(hostBinary(cmd[0]) ?? cmd[0], {
      args: cmd.slice(1),
      detached: true, // its own session, like setsid
      // the helper's: the container's environment is in its arguments
      env: Object.fromEntries(
        helperEnv(opts.security).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      ),
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    return 0;
  }
  if (plainRequest(req) && NUMERIC_USER.test(rec.config.process.user ?? "")) {
    // the next plain execs of this start run this same helper command line from the plan (exec_fast.ts)
    const c = rec.config;
    keepExecPlan(root, c.id, {
      pid: rec.state.pid,
      pidStart: rec.state.pidStart,
      helper: helperPlan(rec.state.pid, opts),
      ...(opts.security?.seccomp ? { seccomp: opts.security.seccomp } : {}),
      event: { id: c.id, image: c.image.ref ?? c.image.name, name: c.name, labels: c.labels },
      ...(opts.security?.helper ? { handoff: true } : {}), // exec6: the compiled helper takes the process over
    });
  }
  return await execIn(rec.state.pid, opts);
}

/** An exec with no option but `-i`: what a plan (exec_fast.ts) stands for. */
function plainRequest(req: ExecRequest): boolean {
  return req.user === undefined && !req.workdir && !req.env.length && !req.tty && !req.detach &&
    !req.privileged && !req.capAdd?.length && !req.preserveFds;
}

/** Where a captured exec's streams go. */
export interface ExecIO {
  /** `piped`: collected and returned; `null`: discarded; `inherit`: this process's. */
  stdout: "piped" | "null" | "inherit";
  /** As `stdout`. */
  stderr: "piped" | "null" | "inherit";
  /** Bytes for its stdin (default: none, `/dev/null`). */
  stdin?: Uint8Array;
  /** Kills the process. */
  signal?: AbortSignal;
}

/** What a captured exec returns. */
export interface ExecOutput {
  /** Its exit code (128+N when killed by signal N). */
  exitCode: number;
  /** Its stdout (empty unless piped). */
  stdout: Uint8Array;
  /** Its stderr (empty unless piped). */
  stderr: Uint8Array;
}

/**
 * Runs a process in the container without a terminal, with its output collected (the library's exec).
 * Throws a PodError: 127 not found, 126 cannot invoke, `STATE` when the container is not running.
 */
export async function execCaptured(
  root: string,
  rec: ContainerRecord,
  req: ExecRequest,
  io: ExecIO,
): Promise<ExecOutput> {
  const opts = await execOptions(root, rec, { ...req, tty: false, interactive: !!io.stdin });
  const pid = rec.state.pid;
  const [{ lookPath }, { hostBinary }] = await Promise.all([
    import("../ns/lookpath.ts"),
    import("../ns/helpers_check.ts"),
  ]);
  lookPath(opts.args[0] ?? "", opts.env, `/proc/${pid}/root`);
  io.signal?.throwIfAborted();
  const cmd = nsenterCommand(pid, opts);
  const child = new Deno.Command(hostBinary(cmd[0]) ?? cmd[0], {
    args: cmd.slice(1),
    env: {}, // the helper's: the container's environment is in its arguments
    clearEnv: true,
    stdin: io.stdin ? "piped" : "null",
    stdout: io.stdout,
    stderr: io.stderr,
  }).spawn();
  const kill = () => {
    // nsenter forks the process into the pid namespace: kill that child, then nsenter
    try {
      const kids = Deno.readTextFileSync(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(/\s+/);
      for (const k of kids) if (k) Deno.kill(Number(k), "SIGKILL");
    } catch { /* gone */ }
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  };
  io.signal?.addEventListener("abort", kill, { once: true });
  try {
    if (io.stdin) {
      const w = child.stdin.getWriter();
      await w.write(io.stdin).catch(() => {});
      await w.close().catch(() => {});
    }
    const out = await child.output();
    if (io.signal?.aborted) throw new PodError("exec cancelled", { code: "CANCELLED" });
    const exitCode = out.signal
      ? 128 + (await import("../ns/signals.ts")).signalNumber(out.signal)
      : out.code;
    return {
      exitCode,
      stdout: io.stdout === "piped" ? out.stdout : new Uint8Array(),
      stderr: io.stderr === "piped" ? out.stderr : new Uint8Array(),
    };
  } finally {
    io.signal?.removeEventListener("abort", kill);
  }
}
