/**
 * Stage 2: runs inside the namespaces util-linux `unshare` made (as the mapped root when rootless),
 * builds the container's root and `execve`s its command, so the command — not Deno — is what runs.
 *
 * Talks to stage 1 through the exec fifo in the state dir: first `pid <host pid>\n`, then either
 * nothing (the fifo fd is close-on-exec, so EOF = the command was exec'd) or `<code> <message>\n`
 * (127 not found, 126 cannot invoke, 125 anything else) before exiting with that code.
 *
 * Order: host pid → root in the user namespace (keep-id) → `/` rprivate → prepare (extract layers: the image
 * tree, or the rootfs of a vfs container) → overlay on the rootfs (or the rootfs bound onto itself) → deferred
 * process from stage 1 (which reads the root through /proc/<pid>/root) → volume copy-up (a volume's first
 * use: the image's content at its destination, lib/ns/copy_up.ts) → the cgroup's procs files opened (stage 1
 * made it; made again when missing, lib/ns/cgroup.ts) → mounts (proc, dev, sys, etc files, user mounts, masks, ro rootfs) → tty → hostname
 * → loopback → pivot_root → cwd → bounding caps → ulimits, oom_score_adj → (net5: stage 1's `go`, its network ready, when the process came gated) → cgroup entered → seccomp filter
 * (see below) → ids (+ ambient caps for a non-root user's `--cap-add`) → PATH lookup → fds ≥ 3
 * close-on-exec → signals reset → no_new_privs → execve.
 * The seccomp filter (a BPF program libseccomp built, cached in the store) is loaded before the ids change,
 * while stage 2 still has CAP_SYS_ADMIN, or, with `no-new-privileges`, right before execve, as runc does.
 * No PR_SET_PDEATHSIG: a detached container must outlive every process of pod.
 * @module
 */

import { canExecute } from "./ns/fs.ts";
import { traceTime } from "./log.ts";
import { bindEarly, O, open, strerror, writeAll } from "./ns/libc.ts";
import {
  clearInheritableCaps,
  cloexecFrom,
  dropBoundingCap,
  execve,
  keepCapsAcrossSetuid,
  loopbackUp,
  raiseAmbientCaps,
  redirectStdin,
  resetSignals,
  sethostname,
  setIds,
  setNoNewPrivs,
  setRlimit,
  takeTerminal,
} from "./ns/process.ts";
import { loadSeccompBpf } from "./ns/seccomp.ts";
import { PodError } from "./errors.ts";
import { lookPath } from "./ns/lookpath.ts";
import { mount, mountOverlay, MS, pivotRoot, setupMounts, umount2 } from "./ns/mounts.ts";
import { resolveInRoot } from "./unpack/contain.ts";
import {
  CAPABILITY_NAMES as CAPS,
  DEFAULT_CAPABILITIES,
  type LaunchSpec,
  type ProcessSpec,
  stateFiles,
} from "./ns/spec.ts";

/** A stage 2 failure with the exit code stage 1 reports. */
class Stage2Error extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const enc = new TextEncoder();

async function prepareRootfs(spec: LaunchSpec): Promise<void> {
  const { unpackInto } = await import("./unpack/mod.ts");
  await unpackInto(spec.rootfs, `${spec.rootfs}.tmp`, spec.prepare!.layers, { replace: true });
}

/**
 * Builds the overlay's missing lower tree as `<lower>.tmp-<host pid>` and renames it into place. When another
 * start finished the same tree first, that one is used and this copy removed.
 */
async function buildTree(spec: LaunchSpec, hostPid: number): Promise<void> {
  const lower = spec.overlay!.lower;
  await Deno.mkdir(lower.slice(0, lower.lastIndexOf("/")), { recursive: true, mode: 0o700 });
  const { unpackInto, unpackLayers } = await import("./unpack/mod.ts");
  const tmp = `${lower}.tmp-${hostPid}`;
  const from = spec.prepare!.from;
  if (from) {
    // the parent's tree cloned (directories new, files shared: the unpacker never writes into an existing
    // file, it replaces the name), then only the layers after it
    try {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      const cp = await new Deno.Command("cp", { args: ["-al", "--", from.tree, tmp], stderr: "null" })
        .output();
      if (!cp.success) throw new Error("cp -al failed");
      await unpackLayers(tmp, spec.prepare!.layers.slice(from.count));
      try {
        await Deno.rename(tmp, lower);
      } catch (e) {
        if (!(await Deno.lstat(lower).then((s) => s.isDirectory, () => false))) throw e;
        await Deno.remove(tmp, { recursive: true });
      }
      return;
    } catch { /* extracted in full below */ }
  }
  await unpackInto(lower, tmp, spec.prepare!.layers);
}

/** The container's upper and work dirs (first start): the upper takes the owner and mode of the tree's root. */
function ensureUpper(o: NonNullable<LaunchSpec["overlay"]>): void {
  try {
    Deno.lstatSync(o.upper);
  } catch {
    const st = Deno.lstatSync(o.lower);
    Deno.mkdirSync(`${o.upper}.new`, { mode: 0o700 });
    Deno.chownSync(`${o.upper}.new`, st.uid, st.gid);
    Deno.chmodSync(`${o.upper}.new`, (st.mode ?? 0o755) & 0o7777);
    Deno.renameSync(`${o.upper}.new`, o.upper);
  }
  try {
    Deno.mkdirSync(o.work, { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}

/** The root file system at `spec.rootfs`: the overlay mounted there, or the rootfs bound onto itself. */
function mountRoot(spec: LaunchSpec): void {
  if (!spec.overlay) {
    mount(spec.rootfs, spec.rootfs, null, MS.BIND | MS.REC);
    return;
  }
  ensureUpper(spec.overlay);
  try {
    Deno.mkdirSync(spec.rootfs, { mode: 0o755 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  mountOverlay(spec.rootfs, spec.overlay, spec.namespaces.user);
}

/**
 * Deferred process: tells stage 1 the rootfs is ready (`prepared`) and reads the process it resolved there,
 * one JSON line on the process fifo (stage 1 holds it open read-write, so this open does not block and its
 * death gives EOF).
 */
function receiveProcess(fifo: number, path: string): { process: ProcessSpec; gate?: () => void } {
  // opened before `prepared`: once stage 1 has written the process it closes its end, and an open after
  // that would wait for a writer forever
  const f = Deno.openSync(path, { read: true });
  let gated = false;
  try {
    writeAll(fifo, enc.encode("prepared\n"));
    const lines = lineReader(f);
    const line = lines() ?? "";
    // "stage 1 gave up before …": exec_fifo.ts tells these from stage 2's own failures
    if (!line.startsWith("{")) throw new Stage2Error(125, "stage 1 gave up before sending the process");
    const process = JSON.parse(line) as ProcessSpec;
    if (!process.gate) return { process };
    gated = true;
    // net5: the network is set up while the root is built; the fd stays open across pivot_root
    const gate = () => {
      try {
        if (lines() !== "go") throw new Stage2Error(125, "stage 1 gave up before starting the process");
      } finally {
        f.close();
      }
    };
    return { process, gate };
  } finally {
    if (!gated) f.close();
  }
}

/** The lines of a fifo, one per call (undefined at EOF), read with blocking reads. */
function lineReader(f: Deno.FsFile): () => string | undefined {
  const buf = new Uint8Array(65536);
  const dec = new TextDecoder();
  let text = "";
  let eof = false;
  return () => {
    for (;;) {
      const nl = text.indexOf("\n");
      if (nl >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        return line;
      }
      if (eof) return undefined;
      const n = f.readSync(buf);
      if (n === null || n === 0) eof = true;
      else text += dec.decode(buf.subarray(0, n), { stream: true });
    }
  };
}

/**
 * Rootless keep-id: the user's uid is not the namespace's root, so stage 2 was exec'd with ambient
 * capabilities (`unshare --keep-caps`). Become uid/gid 0 (the capabilities stay) and empty the inheritable
 * and ambient sets, so the container's process gets capabilities only by the usual rules.
 */
function becomeNamespaceRoot(keepGroups: boolean): void {
  try {
    setIds(0, 0, keepGroups ? null : []);
    clearInheritableCaps();
  } catch (e) {
    throw new Stage2Error(125, `cannot become root in the user namespace: ${(e as Error).message}`);
  }
}

/** Appends `line` to the container's `file` (passwd/group) unless an entry has `id` in field 3 already. */
function addEntry(root: string, file: string, line: string | undefined, id: number): void {
  if (!line) return;
  let host: string;
  try {
    host = resolveInRoot(root, file, { follow: true });
  } catch {
    return; // /etc not a directory, a link loop: nothing to append to, as with a read-only /etc
  }
  let text = "";
  try {
    text = Deno.readTextFileSync(host);
  } catch { /* missing: created */ }
  if (text.split("\n").some((l) => l.split(":")[2] === String(id))) return;
  try {
    Deno.writeTextFileSync(host, `${text}${text && !text.endsWith("\n") ? "\n" : ""}${line}\n`, {
      mode: 0o644,
    });
  } catch { /* best effort, like podman with a read-only /etc */ }
}

/** podman's copy-up: volumes used for the first time get the image's content at their destination. */
async function copyUpVolumes(spec: LaunchSpec): Promise<void> {
  const { copyUpPending, markCopiedUp } = await import("./store/volumes.ts");
  const { copyUp } = await import("./ns/copy_up.ts");
  for (const m of spec.mounts) {
    if (!m.copyUp || !m.source) continue;
    if (await copyUpPending(m.source)) copyUp(spec.rootfs, m.destination, m.source);
    await markCopiedUp(m.source);
  }
}

function buildRoot(spec: LaunchSpec): void {
  if (spec.process) {
    addEntry(spec.rootfs, "/etc/passwd", spec.process.passwdEntry, spec.process.uid);
    addEntry(spec.rootfs, "/etc/group", spec.process.groupEntry, spec.process.gid);
  }
  if (spec.sysctls) writeSysctls(spec.sysctls);
  setupMounts(spec);
  if (spec.ttyPath) takeTerminal(open(spec.ttyPath, O.RDWR));
  if (spec.namespaces.uts) sethostname(spec.hostname);
  if (spec.namespaces.net) loopbackUp();
  else if (spec.join?.net) {
    // pods3: a pod's infra holder (lib/ns/holder.ts) leaves its loopback down: the first member raises it
    try {
      loopbackUp();
    } catch { /* a namespace that is not ours to change */ }
  }
  Deno.chdir(spec.rootfs);
  pivotRoot(".", ".");
  umount2(".", 2 /* MNT_DETACH */);
  Deno.chdir("/");
}

/**
 * `--sysctl`: written through `/proc/sys` (still the host's /proc mount, but net, ipc and uts sysctls resolve
 * to the namespaces of the writer, which are the container's).
 */
function writeSysctls(sysctls: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctls)) {
    try {
      Deno.writeTextFileSync(`/proc/sys/${key.replaceAll(".", "/")}`, value);
    } catch (e) {
      const why = (e as Error).message.split(":")[0].replace(/ \(os error \d+\)$/, "");
      throw new Stage2Error(125, `set sysctl ${key}=${value}: ${why}`);
    }
  }
}

/** Limits the bounding set to the spec's capabilities (podman's default set unless privileged). */
function limitCapabilities(spec: LaunchSpec): void {
  if (spec.privileged && !spec.capabilities) return;
  const keep = new Set(
    (spec.capabilities ?? DEFAULT_CAPABILITIES).map((c) => c.toUpperCase().replace(/^CAP_/, "")),
  );
  let last = CAPS.length - 1;
  try {
    last = Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  } catch { /* old kernel: the known list */ }
  for (let cap = 0; cap <= last; cap++) if (!keep.has(CAPS[cap] ?? "")) dropBoundingCap(cap);
}

/** `--ulimit` and `--oom-score-adj`. */
function applyLimits(spec: LaunchSpec): void {
  for (const r of spec.rlimits ?? []) {
    try {
      setRlimit(r.name, r.soft, r.hard);
    } catch (e) {
      throw new Stage2Error(125, `setrlimit \`${r.name.toUpperCase()}\`: ${(e as Error).message}`);
    }
  }
  if (spec.oomScoreAdj !== undefined) {
    try {
      Deno.writeTextFileSync("/proc/self/oom_score_adj", String(spec.oomScoreAdj));
    } catch (e) {
      throw new Stage2Error(125, `write to \`/proc/self/oom_score_adj\`: ${(e as Error).message}`);
    }
  }
}

/**
 * Opens the container's cgroup.procs files and returns what enters it, for {@link run} (late, right before
 * execve). Stage 1 made the cgroup; when it is gone (a restart after its removal), it is made again here, with
 * its limits. lib/ns/cgroup.ts loads only for a container with a cgroup: without one (rootless on a cgroup v1
 * host, `--cgroups disabled`) stage 2 starts without compiling it, and stage 2's start-up is the critical path
 * of a rootless `run` (issue 16).
 */
async function prepareCgroup(spec: LaunchSpec): Promise<() => void> {
  if (!spec.cgroup) return () => {};
  try {
    const { createCgroup, enterCgroup, openCgroupProcs } = await import("./ns/cgroup.ts");
    let fds: number[];
    try {
      fds = openCgroupProcs(spec.cgroup);
    } catch {
      createCgroup(spec.cgroup);
      fds = openCgroupProcs(spec.cgroup);
    }
    return () => enterCgroup(fds);
  } catch (e) {
    throw new Stage2Error(125, `cgroup: ${(e as Error).message}`);
  }
}

/**
 * What {@link run} needs that waits for nothing: the working directory resolved (made when missing), the
 * bounding set limited, `--ulimit`s and `--oom-score-adj` applied. Done before the gate (net5: stage 1's `go`
 * once the network is ready), while netavark still runs: ~2 ms off a root `run`'s critical path (issue 12).
 * Returns the working directory's path in the root.
 */
function prepareRun(spec: LaunchSpec): string {
  const cwd = resolveInRoot("/", spec.process!.cwd || "/", { follow: true, create: "dir" });
  limitCapabilities(spec);
  applyLimits(spec);
  return cwd;
}

function run(
  spec: LaunchSpec,
  fifo: number,
  seccomp: Uint8Array<ArrayBuffer> | undefined,
  enterCgroup: () => void,
  cwd: string,
): number {
  const p = spec.process!;
  try {
    enterCgroup(); // late: what stage 2 allocated so far is not charged to the container
  } catch (e) {
    throw new Stage2Error(125, `cannot enter the container's cgroup: ${(e as Error).message}`);
  }
  // without no_new_privs the kernel wants CAP_SYS_ADMIN for a filter, which a non-root user loses with its ids
  // (runc's order); with it, the filter comes last, right before execve
  if (seccomp && !spec.noNewPrivileges) loadSeccompBpf(seccomp);
  const ambient = p.uid !== 0 ? spec.ambientCapabilities ?? [] : [];
  if (ambient.length) keepCapsAcrossSetuid();
  setIds(p.uid, p.gid, spec.keepGroups ? null : p.additionalGids);
  if (ambient.length) {
    raiseAmbientCaps(ambient.map((c) => CAPS.indexOf(c.toUpperCase().replace(/^CAP_/, ""))));
  }
  try {
    Deno.chdir(cwd);
  } catch (e) {
    throw new Stage2Error(126, `chdir to \`${p.cwd}\`: ${(e as Error).message.split(":")[0]}`);
  }
  const path = lookPath(p.args[0] ?? "", p.env, "/", (host) => canExecute(host));
  cloexecFrom(3 + (spec.preserveFds ?? 0));
  resetSignals();
  if (spec.noNewPrivileges) setNoNewPrivs();
  if (seccomp && spec.noNewPrivileges) loadSeccompBpf(seccomp);
  traceTime("stage2: execve");
  const err = execve(path, p.args, p.env);
  const code = err === 2 /* ENOENT */ ? 127 : err === 13 || err === 8 || err === 21 ? 126 : 125;
  const msg = code === 127
    ? `${p.args[0]}: ${strerror(err)}: OCI runtime attempted to invoke a command that was not found`
    : code === 126
    ? `${p.args[0]}: ${strerror(err)}: OCI permission denied`
    : `exec ${p.args[0]}: ${strerror(err)}`;
  writeAll(fifo, enc.encode(`${code} ${msg}\n`));
  return code;
}

/**
 * An early start's spec (lib/ns/prelaunch.ts): one JSON line on stdin, a pipe from stage 1, which
 * is then replaced by /dev/null (the container's stdin without `-i`). EOF first: the start was cancelled (or
 * stage 1 died), so exit quietly.
 */
function specFromStdin(): LaunchSpec {
  // idle until the spec comes: bind the libc calls every start makes now
  traceTime("stage2: waiting for spec");
  bindEarly([
    "open",
    "write",
    "mount",
    "umount2",
    "syscall",
    "sethostname",
    "setgroups",
    "setresgid",
    "setresuid",
    "prctl",
    "close_range",
    "socket",
    "ioctl",
    "access",
    "execve",
    "dup2",
    "close",
    "statvfs",
  ]);
  const buf = new Uint8Array(65536);
  const parts: Uint8Array[] = [];
  for (;;) {
    const n = Deno.stdin.readSync(buf);
    if (n === null || n === 0) Deno.exit(125);
    parts.push(buf.slice(0, n));
    if (buf.subarray(0, n).includes(10)) break;
  }
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.length), 0);
  const text = new TextDecoder().decode(all);
  redirectStdin("/dev/null");
  return JSON.parse(text.slice(0, text.indexOf("\n"))) as LaunchSpec;
}

/** Stage 2's entry (`cli.ts __stage2 <launch-spec.json>`): never returns. */
export async function stage2Main(specPath: string): Promise<never> {
  traceTime("stage2: main");
  let fifo = -1;
  let code = 125;
  try {
    const spec = specPath === "-"
      ? specFromStdin()
      : JSON.parse(Deno.readTextFileSync(specPath)) as LaunchSpec;
    traceTime("stage2: spec read");
    const files = stateFiles(spec.stateDir);
    const hostPid = Number(Deno.readLinkSync("/proc/self"));
    // Non-blocking: fails at once (ENXIO) when stage 1 is gone instead of waiting forever.
    fifo = open(files.fifo, O.WRONLY | O.NONBLOCK | O.CLOEXEC);
    Deno.writeTextFileSync(files.pid, `${hostPid}\n`);
    writeAll(fifo, enc.encode(`pid ${hostPid}\n`));
    traceTime("stage2: pid sent");
    if (spec.namespaces.user && Deno.uid() !== 0) becomeNamespaceRoot(!!spec.keepGroups);
    else if (spec.namespaces.user) clearInheritableCaps(); // an early start's ambient ones (unshare --keep-caps)
    mount(null, "/", null, MS.REC | MS.PRIVATE);
    if (spec.prepare) await (spec.overlay ? buildTree(spec, hostPid) : prepareRootfs(spec));
    // an overlay root is mounted before the process is resolved (stage 1 reads it); a vfs rootfs may still
    // be being extracted by stage 1 until then
    if (spec.overlay && (spec.process || spec.deferProcess)) mountRoot(spec);
    traceTime("stage2: root mounted");
    let gate: (() => void) | undefined;
    if (spec.deferProcess) ({ process: spec.process, gate } = receiveProcess(fifo, files.processFifo));
    traceTime("stage2: process received");
    if (!spec.process) Deno.exit(0);
    if (!spec.overlay) mountRoot(spec);
    // detached with a terminal: the supervisor's pty (a host path, opened before pivot_root)
    const superTty = Deno.env.get("POD_TTY");
    if (spec.process.terminal && !spec.ttyPath && superTty?.startsWith("/dev/pts/")) spec.ttyPath = superTty;
    // the filter file is a host path: read before pivot_root
    const seccomp = spec.seccomp ? Deno.readFileSync(spec.seccomp) : undefined;
    if (spec.mounts.some((m) => m.copyUp)) await copyUpVolumes(spec);
    const enterCgroup = await prepareCgroup(spec); // a host path too
    // net5: `--sysctl` values (net.* ones name the container's interfaces) wait for its network
    if (spec.sysctls && gate) {
      gate();
      gate = undefined;
    }
    buildRoot(spec);
    traceTime("stage2: root built (mounts, pivot_root)");
    const cwd = prepareRun(spec);
    gate?.();
    traceTime("stage2: gate passed (network ready)");
    code = run(spec, fifo, seccomp, enterCgroup, cwd);
  } catch (e) {
    code = e instanceof Stage2Error ? e.code : e instanceof PodError ? e.exitCode : 125;
    const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    try {
      if (fifo >= 0) writeAll(fifo, enc.encode(`${code} ${msg}\n`));
      else Deno.stderr.writeSync(enc.encode(`Error: ${msg}\n`));
    } catch { /* stage 1 gone */ }
  }
  Deno.exit(code);
}

if (import.meta.main) await stage2Main(Deno.args[0]);
