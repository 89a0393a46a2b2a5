/**
 * `exec`: runs a process in a running container by joining its namespaces with util-linux `nsenter`
 * (Deno itself cannot `setns` into a user namespace). The command is looked up first inside the
 * container's root (`/proc/<pid>/root`), so not-found/cannot-invoke report podman's 127/126.
 * @module
 */

import { PodError } from "../errors.ts";
import { checkHelpers, hostBinary } from "./helpers_check.ts";
import { lookPath } from "./lookpath.ts";
import { PtyRelay } from "./pty.ts";
import { resolveInRoot } from "./rootpath.ts";
import { sendSignal, signalNumber } from "./signals.ts";

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

/** The nsenter command line for `opts` in the container whose init is `pid`. */
export function nsenterCommand(pid: number, opts: ExecOptions): string[] {
  const cmd = ["nsenter", "--target", String(pid)];
  for (const [ns, flag] of NAMESPACES) {
    if (ns === "user" ? (opts.userNamespace ?? differs(pid, ns)) : ns === "mnt" || differs(pid, ns)) {
      cmd.push(flag);
    }
  }
  cmd.push("--root", `--wdns=${opts.cwd || "/"}`, "-S", String(opts.uid), "-G", String(opts.gid), "--");
  return [...cmd, ...opts.args];
}

function exitCodeOf(s: Deno.CommandStatus): number {
  return s.signal ? 128 + signalNumber(s.signal) : s.code;
}

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Forwards a signal to nsenter's child (the exec'd process), or to nsenter before it has forked. */
function forwardTo(nsenterPid: number, sig: Deno.Signal): void {
  let target = nsenterPid;
  try {
    const kids = Deno.readTextFileSync(`/proc/${nsenterPid}/task/${nsenterPid}/children`).trim().split(/\s+/);
    if (kids[0]) target = Number(kids[0]);
  } catch { /* gone */ }
  sendSignal(target, signalNumber(sig));
}

/**
 * Runs `opts.args` in the container whose init has host pid `pid`; resolves with its exit code.
 * Throws a PodError: 127 not found, 126 cannot invoke, 125 when the container is not running.
 */
export async function execIn(pid: number, opts: ExecOptions): Promise<number> {
  checkHelpers({ rootless: false, checkVersion: true });
  const root = `/proc/${pid}/root`;
  try {
    Deno.statSync(`${root}/`);
  } catch {
    throw new PodError(`container process ${pid} is not running`);
  }
  lookPath(opts.args[0] ?? "", opts.env, root);
  try {
    if (!Deno.statSync(resolveInRoot(root, opts.cwd || "/")).isDirectory) throw new Error();
  } catch {
    throw new PodError(`chdir to \`${opts.cwd}\`: No such file or directory`, 126);
  }
  const env = Object.fromEntries(opts.env.map((e) => {
    const i = e.indexOf("=");
    return i < 0 ? [e, ""] : [e.slice(0, i), e.slice(i + 1)];
  }));
  const ns = nsenterCommand(pid, opts);
  let relay: PtyRelay | undefined;
  if (opts.tty) {
    try {
      relay = new PtyRelay(`${root}/dev/pts`);
    } catch {
      relay = new PtyRelay(); // no devpts of its own (privileged /dev): a host pty
    }
  }
  const setsid = hostBinary("setsid") ?? "/usr/bin/setsid";
  ns[0] = hostBinary("nsenter") ?? "/usr/bin/nsenter";
  const argv = relay
    ? ["/bin/sh", "-c", 'exec 0<>"$0" 1>&0 2>&0; exec "$@"', relay.slavePath, setsid, "-c", ...ns]
    : [setsid, ...ns];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env,
      clearEnv: true,
      stdin: opts.interactive && !relay ? "inherit" : "null",
      stdout: relay ? "null" : "inherit",
      stderr: relay ? "null" : "inherit",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new PodError(`${argv[0]} not found: install util-linux ("apt-get install util-linux")`);
    }
    throw e;
  }
  opts.onStarted?.(child.pid);
  const listeners: [Deno.Signal, () => void][] = FORWARDED.map((s) => [s, () => forwardTo(child.pid, s)]);
  if (relay) listeners.push(["SIGWINCH", () => relay.resize()]);
  for (const [s, f] of listeners) Deno.addSignalListener(s, f);
  relay?.start(opts.interactive);
  try {
    const status = await child.status;
    return exitCodeOf(status);
  } finally {
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
    await relay?.finish();
  }
}
