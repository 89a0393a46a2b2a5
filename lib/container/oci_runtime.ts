/**
 * `--runtime runc`: the container runs under runc from an OCI bundle pod writes (`containers/<id>/bundle/
 * config.json`, see oci_bundle.ts), as root without a user namespace. runc's state lives in `<store>/runc`.
 *
 * The overlay root is mounted by util-linux `mount` in a private mount namespace made for the container by
 * `unshare --mount` (runc's own mount namespace is made from it), so no mount is left on the host: it goes with
 * the last process. `runc run` (attached, not `-d`) stays the container's parent until it ends and exits with
 * its code; detached, pod's supervisor runs it like its own runtime (log, exit record, restart hook, health
 * timer). The init's pid comes from runc's `--pid-file`. stop/kill/exec/top work on that pid as usual.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug, warnOnce } from "../log.ts";
import { lookPath } from "../ns/lookpath.ts";
import type { LaunchSpec } from "../ns/spec.ts";
import { type ContainerConfig, containerPaths } from "../store/containers.ts";
import { ensureTreesDir, treePath } from "../store/trees.ts";
import { configJson, ociConfig } from "./oci_bundle.ts";
import { processSpec, runSpecWithoutProcess } from "./launch_spec.ts";
import { profileSource, readProfile } from "./seccomp.ts";
import { ociRuntimeName } from "./oci_runtime_name.ts";
import { sleepMs } from "../ns/sleep.ts";

const SEARCH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Whether `--runtime` names an OCI runtime pod runs from a bundle (runc or crun, a name or a path). */
export function namesRunc(runtime: string | undefined): boolean {
  return ociRuntimeName(runtime) !== undefined;
}

/** Where the OCI runtime named by `c` keeps its state: `<store>/runc` or `<store>/crun`. */
function stateDir(root: string, c: ContainerConfig): string {
  return `${root}/${ociRuntimeName(c.ociRuntime) ?? "runc"}`;
}

/**
 * The runc binary a container runs with, or `undefined` for pod's own runtime: `--runtime runc` as root
 * without a user namespace (otherwise pod runs it itself and says so once). Not installed: a clear error.
 */
export function runcFor(c: ContainerConfig): string | undefined {
  if (!namesRunc(c.ociRuntime)) return undefined;
  if (Deno.uid() !== 0 || c.userns.mode !== "host") {
    warnOnce(
      "runc-rootless",
      `--runtime ${c.ociRuntime}: pod runs rootless and user-namespaced containers with its own runtime`,
    );
    return undefined;
  }
  const v = c.ociRuntime!;
  const candidates = v.includes("/") ? [v] : [...(Deno.env.get("PATH") ?? "").split(":"), ...SEARCH]
    .filter((d) => d).map((d) => `${d}/${v}`);
  for (const p of candidates) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  const pkg = ociRuntimeName(v);
  throw new PodError(`OCI runtime "${v}" not found: no such file or directory`, {
    hint: `install ${pkg} (apt-get install ${pkg}), or leave --runtime out to use pod's own runtime`,
  });
}

/** What a runc launch needs: its command line and the file runc writes the container's pid to. */
export interface RuncLaunch {
  cmd: string[];
  pidFile: string;
}

/** conmon (issue 13): `RUNTIME --root STATE start ID` once conmon has created the container. */
export async function runcStart(root: string, c: ContainerConfig, runc: string): Promise<string | undefined> {
  const out = await new Deno.Command(runc, {
    args: ["--root", stateDir(root, c), "start", c.id],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.success) return undefined;
  const text = new TextDecoder().decode(out.stderr);
  return /msg="((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? (text.trim().split("\n").at(-1) || "start failed");
}

/** The image tree (overlay) or the rootfs copy (vfs), made when missing, in this process (root, host ids). */
async function prepareRoot(
  root: string,
  c: ContainerConfig,
): Promise<{ resolveIn: string[]; overlay?: string }> {
  const cp = containerPaths(root, c.id);
  const { unpackInto } = await import("../unpack/mod.ts");
  if (!c.storage) {
    try {
      Deno.statSync(cp.rootfs);
    } catch {
      await unpackInto(cp.rootfs, `${cp.rootfs}.tmp`, c.layers, { replace: true });
    }
    return { resolveIn: [cp.rootfs] };
  }
  const lower = treePath(root, c.storage.tree);
  try {
    Deno.statSync(lower);
  } catch {
    await ensureTreesDir(root);
    await unpackInto(lower, `${lower}.tmp-${Deno.pid}`, c.layers);
  }
  try {
    Deno.lstatSync(cp.upper);
  } catch {
    const st = Deno.lstatSync(lower);
    Deno.mkdirSync(`${cp.upper}.new`, { mode: 0o700 });
    Deno.chmodSync(`${cp.upper}.new`, (st.mode ?? 0o755) & 0o7777);
    Deno.renameSync(`${cp.upper}.new`, cp.upper);
  }
  for (const d of [cp.work, cp.rootfs]) Deno.mkdirSync(d, { recursive: true, mode: 0o755 });
  return {
    resolveIn: [cp.upper, lower],
    overlay: `lowerdir=${lower},upperdir=${cp.upper},workdir=${cp.work}`,
  };
}

/**
 * Writes the bundle of `c` and returns the command that runs it with `runc` (at `runc`): the command is checked
 * to exist in the root first (127 / 126 as pod's own runtime reports them). `detach`: `run --detach` (runc
 * exits once the container runs; its supervisor reaps the init, start_runc.ts) — no runc stays resident.
 * `"create"` (conmon, start_conmon.ts): `cmd` is the runtime's command up to its subcommand (`… runc --root
 * STATE`), to which conmon appends `create --bundle B --pid-file P ID`.
 */
export async function runcLaunch(
  root: string,
  c: ContainerConfig,
  runc: string,
  detach: boolean | "create" = false,
): Promise<RuncLaunch> {
  if (c.process.terminal) {
    const name = ociRuntimeName(c.ociRuntime);
    throw new PodError(
      `--runtime ${name}: pod does not give ${name} containers a terminal (-t); leave -t out`,
    );
  }
  if (c.groupAdd?.includes("keep-groups") && ociRuntimeName(c.ociRuntime) === "runc") {
    throw new PodError("the '--group-add keep-groups' option is not supported by runc");
  }
  const cp = containerPaths(root, c.id);
  const prepared = await prepareRoot(root, c);
  let process;
  let firstError: unknown;
  for (const dir of prepared.resolveIn) {
    try {
      process = processSpec(dir, c, false);
      lookPath(c.process.args[0] ?? "", process.env, dir); // the command, not the init bound before it
      break;
    } catch (e) {
      firstError ??= e;
      process = undefined;
    }
  }
  if (!process) throw firstError;
  const spec: LaunchSpec = runSpecWithoutProcess(root, c);
  const unconfined = c.security?.seccomp === "unconfined" || (c.privileged && !c.security?.seccomp);
  const seccomp = unconfined ? undefined : await readProfile(profileSource(c).path);
  const config = ociConfig(c, { rootfs: cp.rootfs, spec, process, seccomp, kernel: Deno.osRelease() });
  const bundle = `${cp.dir}/bundle`;
  await Deno.mkdir(bundle, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${bundle}/config.json`, configJson(config), { mode: 0o600 });
  const state = stateDir(root, c);
  await Deno.mkdir(state, { recursive: true, mode: 0o700 });
  const pidFile = `${bundle}/pid`;
  await Deno.remove(pidFile).catch(() => {});
  // a container of this id left in runc's state (a killed run) would make `run` fail
  await new Deno.Command(runc, {
    args: ["--root", state, "delete", "--force", c.id],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => {});
  const run = [runc, "--root", state];
  if (detach !== "create") {
    run.push("run", ...(detach ? ["--detach"] : []), "--bundle", bundle, "--pid-file", pidFile, c.id);
  }
  debug(`runc: ${run.join(" ")}`);
  if (!prepared.overlay) return { cmd: run, pidFile };
  const script = 'o=$1; r=$2; shift 2; mount -t overlay -o "$o" overlay "$r" && exec "$@"';
  return {
    cmd: [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      script,
      "sh",
      prepared.overlay,
      cp.rootfs,
      ...run,
    ],
    pidFile,
  };
}

/**
 * Waits for runc's pid file (the container exists, its process about to run); `ended()` says the run already
 * ended (a failure: its message is in the log or on the terminal). Returns 0 then.
 */
export async function waitRuncPid(pidFile: string, ended: () => boolean): Promise<number> {
  for (let delay = 2;; delay = Math.min(delay * 2, 50)) {
    try {
      const pid = Number(Deno.readTextFileSync(pidFile).trim());
      if (pid > 0) return pid;
    } catch { /* not yet */ }
    if (ended()) return 0;
    await sleepMs(delay);
  }
}

/** The last line runc wrote on stderr, from a k8s-file log (its error when the start failed). */
export function lastStderrLine(logPath: string): string | undefined {
  try {
    const lines = Deno.readTextFileSync(logPath).split("\n").filter((l) => / stderr [FP] /.test(l));
    const last = lines.at(-1);
    return last?.replace(/^\S+ stderr [FP] /, "").trim();
  } catch {
    return undefined;
  }
}

/** Removes what runc keeps of a container (its state dir entry); nothing when there is none. */
export async function runcDelete(root: string, c: ContainerConfig): Promise<void> {
  if (!namesRunc(c.ociRuntime) || Deno.uid() !== 0) return;
  let runc: string | undefined;
  try {
    runc = runcFor(c);
  } catch {
    return;
  }
  if (!runc) return;
  await new Deno.Command(runc, {
    args: ["--root", stateDir(root, c), "delete", "--force", c.id],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
}
