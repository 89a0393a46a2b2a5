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
import { type Spawned, spawnProgram } from "./spawn.ts";
import { inPidNamespace } from "./pidns.ts";
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

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/**
 * Forwards a signal to the exec'd process: the helper's child when the helper forks into the pid namespace
 * (`forks`; the helper itself before it has forked), else the process started (the helper became it).
 */
function forwardTo(nsenterPid: number, forks: boolean, sig: Deno.Signal): void {
  let target = nsenterPid;
  if (forks) {
    try {
      const kids = Deno.readTextFileSync(`/proc/${nsenterPid}/task/${nsenterPid}/children`).trim().split(
        /\s+/,
      );
      if (kids[0]) target = Number(kids[0]);
    } catch { /* gone */ }
  }
  // loaded on the first signal: signals.ts is off the hot path
  import("./signals.ts").then(({ sendSignal, signalNumber }) => sendSignal(target, signalNumber(sig)))
    .catch(() => {});
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
  const joined = joinedNamespaces(pid, opts);
  let ns = commandFor(pid, opts, joined);
  const program = ns[0]; // nsenter, or perl (the helper: the environment is in its arguments)
  const processEnv = opts.security ? helperEnv(opts.security) : opts.env;
  let relay: PtyRelay | undefined;
  let child: Spawned | undefined;
  let forks = joined.includes("pid"); // the helper (nsenter or perl) forks into the pid namespace
  if (!opts.tty) {
    // in a session of its own: terminal signals reach pod, which forwards them
    const o = { env: processEnv, stdin: opts.interactive, setsid: true };
    const spawn = (argv: string[]) => {
      try {
        return spawnProgram(argv[0], argv, o); // found in pod's PATH
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        return undefined; // below: looked for in the standard directories too
      }
    };
    if (opts.security && joined.includes("pid") && !joined.includes("user")) {
      // as root: born in the container's pid namespace, so the helper need not fork
      const direct = commandFor(pid, opts, joined.filter((n) => n !== "pid"));
      child = inPidNamespace(pid, () => spawn(direct));
      if (child) {
        ns = direct;
        forks = false;
      }
    }
    child ??= spawn(ns);
  }
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
  const listeners: [Deno.Signal, () => void][] = FORWARDED.map((
    s,
  ) => [s, () => forwardTo(child.pid, forks, s)]);
  if (relay) listeners.push(["SIGWINCH", () => relay.resize()]);
  for (const [s, f] of listeners) Deno.addSignalListener(s, f);
  relay?.start(opts.interactive);
  try {
    const code = await child.status;
    // nsenter's own failures exit 1: an util-linux too old for --wdns is named then
    if (code === 1 && !opts.security) {
      const { checkUtilLinuxVersion, hostBinary } = await import("./helpers_check.ts");
      checkUtilLinuxVersion(hostBinary("nsenter") ?? "nsenter");
    }
    return code;
  } finally {
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
    await relay?.finish();
  }
}
