/**
 * `exec` in a running container: the container's user, environment and working directory unless
 * overridden, then lib/ns's nsenter-based {@link execIn}. On the hot path: loads nothing heavy.
 * @module
 */

import { PodError } from "../errors.ts";
import { execIn, nsenterCommand } from "../ns/exec.ts";
import { hostBinary } from "../ns/helpers_check.ts";
import { containerPaths, type ContainerRecord } from "../store/containers.ts";
import { EnvList } from "./process_options.ts";
import { resolveUserInRoot } from "./user.ts";

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
}

/** Runs a process in the container; resolves with its exit code (0 at once with `detach`). */
export async function execInContainer(root: string, rec: ContainerRecord, req: ExecRequest): Promise<number> {
  if (rec.state.status !== "running") {
    const why = rec.state.status === "paused" ? "is paused" : "is not running";
    throw new PodError(`can only create exec sessions on running containers: container state improper`, 125, {
      cause: why,
    });
  }
  // an overlay root exists only in the container's mount namespace: read it through the init's root
  const rootfs = rec.config.storage
    ? `/proc/${rec.state.pid}/root`
    : containerPaths(root, rec.config.id).rootfs;
  const u = resolveUserInRoot(rootfs, req.user ?? rec.config.process.user);
  const env = new EnvList();
  env.setAll(rec.config.process.env);
  if (!env.has("HOME")) env.set(`HOME=${u.home}`);
  if (req.tty) env.set("TERM=xterm");
  env.setAll(req.env);
  const opts = {
    args: req.args,
    env: env.toArray(),
    cwd: req.workdir || rec.config.process.cwd || "/",
    uid: u.uid,
    gid: u.gid,
    tty: req.tty,
    interactive: req.interactive,
  };
  if (req.detach) {
    const cmd = nsenterCommand(rec.state.pid, { ...opts, tty: false, interactive: false });
    const child = new Deno.Command(hostBinary("nsenter") ?? "nsenter", {
      args: cmd.slice(1),
      detached: true, // its own session, like setsid
      env: Object.fromEntries(opts.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    return 0;
  }
  return await execIn(rec.state.pid, opts);
}
