/**
 * `exec`: runs a process in a running container by joining its namespaces with util-linux `nsenter`
 * (Deno itself cannot `setns` into a user namespace). The command is looked up first inside the
 * container's root (`/proc/<pid>/root`), so not-found/cannot-invoke report podman's 127/126.
 *
 * This is the `pod exec` hot path: nsenter is the only helper process (started by `posix_spawnp` in a new
 * session, see spawn.ts, not through a `setsid` program; util-linux's version is checked only when nsenter
 * fails), and the pty code is loaded only for `-t`.
 * @module
 */

import { PodError } from "../errors.ts";
import type { PtyRelay } from "./pty.ts";
import type { Spawned } from "./spawn.ts";
import { type HelperPlan, spawnHelper, type StartedHelper, waitForwarding } from "./exec_spawn.ts";
import { execHelperCommand, type ExecSecurity, helperEnv, perlMissing } from "./exec_helper.ts";

/** What to run in the container. */
export interface ExecOptions {
  args: string[];
  /** The process's whole environment (`KEY=value`). */
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  tty: boolean;
  interactive: boolean;
  /** Join the container's user namespace; default: when it has its own. */
  userNamespace?: boolean;
  /** Called with the host pid of nsenter once it is started. */
  onStarted?: (pid: number) => void;
  /**
   * The container's capabilities and seccomp filter: the process is started through the perl helper
   * (exec_helper.ts), as nsenter alone would give it every capability and no filter.
   */
  security?: ExecSecurity;
}

const NAMESPACES: [string, string][] = [
  ["user", "--user"],
  ["mnt", "--mount"],
  ["uts", "--uts"],
  ["ipc", "--ipc"],
  ["net", "--net"],
  ["pid", "--pid"],
];

function differs(pid: number, ns: string): boolean {
  try {
    return Deno.readLinkSync(`/proc/${pid}/ns/${ns}`) !== Deno.readLinkSync(`/proc/self/ns/${ns}`);
  } catch {
    return false;
  }
}

/**
 * The command line for `opts` in the container whose init is `pid`: nsenter's, or the perl helper's when
 * `opts.security` is set (exec_helper.ts; the process environment must then be empty: the container's is in
 * its arguments).
 */
export function nsenterCommand(pid: number, opts: ExecOptions): string[] {
  return commandFor(pid, opts, joinedNamespaces(pid, opts));
}

/**
 * The helper's command line for `opts` without `opts.args` (they are appended at each start), with its
 * environment and, as root with a pid but no user namespace to join, the variant started straight into the
 * container's pid namespace (exec_spawn.ts): what an exec of `opts` runs, computed once and kept by
 * lib/container/exec_fast.ts so later execs need not load this module.
 */
export function helperPlan(pid: number, opts: ExecOptions): HelperPlan {
  const joined = joinedNamespaces(pid, opts);
  const bare = { ...opts, args: [] };
  const direct = opts.security && joined.includes("pid") && !joined.includes("user") && Deno.uid() === 0
    ? commandFor(pid, bare, joined.filter((n) => n !== "pid"))
    : undefined;
  return {
    pid,
    argv: commandFor(pid, bare, joined),
    ...(direct ? { direct } : {}),
    env: opts.security ? helperEnv(opts.security) : opts.env,
    forks: joined.includes("pid"),
  };
}

/** The namespaces (`/proc/PID/ns` names) an exec joins: the mount namespace and every other that differs. */
function joinedNamespaces(pid: number, opts: ExecOptions): string[] {
  return NAMESPACES.filter(([ns]) =>
    ns === "user" ? (opts.userNamespace ?? differs(pid, ns)) : ns === "mnt" || differs(pid, ns)
  ).map(([ns]) => ns);
}

function commandFor(pid: number, opts: ExecOptions, joined: string[]): string[] {
  if (opts.security) return execHelperCommand(pid, joined, opts, opts.security);
  const cmd = ["nsenter", "--target", String(pid)];
  for (const [ns, flag] of NAMESPACES) if (joined.includes(ns)) cmd.push(flag);
  cmd.push("--root", `--wdns=${opts.cwd || "/"}`, "-S", String(opts.uid), "-G", String(opts.gid), "--");
  return [...cmd, ...opts.args];
}

async function exitCodeOf(s: Deno.CommandStatus): Promise<number> {
  return s.signal ? 128 + (await import("./signals.ts")).signalNumber(s.signal) : s.code;
}

/** `Deno.Command` for what spawn.ts cannot do (`-t`'s wrapper, a libc without posix_spawn's setsid). */
function spawnCommand(argv: string[], env: Record<string, string>, o: Deno.CommandOptions): Spawned {
  const child = new Deno.Command(argv[0], { args: argv.slice(1), env, clearEnv: true, ...o }).spawn();
  return { pid: child.pid, status: child.status.then(exitCodeOf) };
}

/**
 * Runs `opts.args` in the container whose init has host pid `pid`; resolves with its exit code.
 * Throws a PodError: 127 not found, 126 cannot invoke, 125 when the container is not running.
 */
export async function execIn(pid: number, opts: ExecOptions): Promise<number> {
  const root = `/proc/${pid}/root`;
  try {
    Deno.statSync(`${root}/`);
  } catch {
    throw new PodError(`container process ${pid} is not running`);
  }
  if (!opts.security) {
    // the perl helper reports these itself, with the same messages and codes, after chroot
    const [{ lookPath }, { resolveInRoot }] = await Promise.all([
      import("./lookpath.ts"),
      import("../unpack/contain.ts"),
    ]);
    lookPath(opts.args[0] ?? "", opts.env, root);
    try {
      if (!Deno.statSync(resolveInRoot(root, opts.cwd || "/", { follow: true })).isDirectory) {
        throw new Error();
      }
    } catch {
      throw new PodError(`chdir to \`${opts.cwd}\`: No such file or directory`, 126);
    }
  }
  const plan = helperPlan(pid, opts);
  const ns = [...plan.argv, ...opts.args];
  const program = ns[0]; // nsenter, or perl (the helper: the environment is in its arguments)
  const processEnv = plan.env;
  let relay: PtyRelay | undefined;
  let started: StartedHelper | undefined = opts.tty
    ? undefined
    : spawnHelper(plan, opts.args, opts.interactive);
  let child: Spawned | undefined = started?.child;
  let argv0 = "";
  try {
    if (!child) {
      const { hostBinary, utilLinuxMissing } = await import("./helpers_check.ts");
      const missing = () => program === "perl" ? perlMissing() : utilLinuxMissing("nsenter");
      const env = Object.fromEntries(processEnv.map((e) => {
        const i = e.indexOf("=");
        return i < 0 ? [e, ""] : [e.slice(0, i), e.slice(i + 1)];
      }));
      const setsid = hostBinary("setsid");
      ns[0] = hostBinary(program) ?? "";
      if (!setsid) throw utilLinuxMissing("setsid");
      if (!ns[0]) throw missing();
      if (opts.tty) {
        const { PtyRelay } = await import("./pty.ts");
        try {
          relay = new PtyRelay(`${root}/dev/pts`);
        } catch {
          relay = new PtyRelay(); // no devpts of its own (privileged /dev): a host pty
        }
        // the pty slave becomes stdio and (setsid -c) the controlling terminal of a new session
        const argv = [
          "/bin/sh",
          "-c",
          'exec 0<>"$0" 1>&0 2>&0; exec "$@"',
          relay.slavePath,
          setsid,
          "-c",
          ...ns,
        ];
        argv0 = argv[0];
        child = spawnCommand(argv, env, { stdin: "null", stdout: "null", stderr: "null" });
      } else {
        const stdin = opts.interactive ? "inherit" : "null";
        argv0 = setsid;
        child = spawnCommand([setsid, ...ns], env, { stdin, stdout: "inherit", stderr: "inherit" });
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new PodError(`${argv0} not found: install util-linux ("apt-get install util-linux")`);
    }
    throw e;
  }
  opts.onStarted?.(child.pid);
  const pty = relay;
  const extra: [Deno.Signal, () => void][] = pty ? [["SIGWINCH", () => pty.resize()]] : [];
  started ??= { child, forks: plan.forks };
  relay?.start(opts.interactive);
  try {
    const code = await waitForwarding(started, extra);
    // nsenter's own failures exit 1: an util-linux too old for --wdns is named then
    if (code === 1 && !opts.security) {
      const { checkUtilLinuxVersion, hostBinary } = await import("./helpers_check.ts");
      checkUtilLinuxVersion(hostBinary("nsenter") ?? "nsenter");
    }
    return code;
  } finally {
    await relay?.finish();
  }
}
