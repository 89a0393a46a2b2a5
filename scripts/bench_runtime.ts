/**
 * Runtime benchmark: pod side by side with podman (same busybox fixture pulled into both from a local registry),
 * as root and rootless (the test user), in temp stores. Prints numbers and ratios against the targets; never
 * asserts.
 *
 *     deno run -A scripts/bench_runtime.ts [--runs 10] [--execs 20] [--ps 100] [--modes root,rootless]
 *
 * Measured: `run --rm img true` (median), `create` and `start` (median), `exec c true` (ms per exec over a
 * loop), `stop`, `rm -f`, `ps -a` with N containers, and the memory a detached idle container costs beyond its
 * own processes (pod: perl supervisor + helper processes; podman: conmon), as VmRSS and PSS.
 *
 * Both run with `--network=none` (networking is measured by scripts/bench_net.ts); podman with
 * `--cgroup-manager=cgroupfs --events-backend=file` and, when crun cannot run here, `--runtime=runc`.
 * @module
 */

import { podmanStoreArgs, removePodmanStore } from "./podman_args.ts";
import { podmanCgroupParent } from "../tests/helpers/podman_cgroups.ts";
import { type Registry, startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";
import { podCommand, type TempPodHome, tempPodHome } from "../tests/helpers/pod.ts";
import { lookupUser, rootlessAvailable, TEST_USER } from "../tests/helpers/rootless.ts";

const dec = new TextDecoder();

/** The value of `--name` on the command line, else `def`. */
export function argStr(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : def;
}
/** The number of `--name` on the command line, else `def`. */
export const argNum = (name: string, def: number) => Number(argStr(name, String(def)));

/** A command to spawn. */
export interface Cmd {
  cmd: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** One engine (pod or podman) in one mode (root or rootless). */
export interface Engine {
  name: string;
  build: (args: string[]) => Promise<Cmd>;
  /** Extra flags for run/create (podman's network/ulimits). */
  runFlags: string[];
  /** Paths that appear in the engine's helper processes' command lines. */
  marker: string;
  cleanup: () => Promise<void>;
}

/** A finished command: wall ms, exit code, output. */
export interface Out {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns `c` (clean environment, stdin /dev/null) and times it. */
export async function exec(c: Cmd): Promise<Out> {
  const t0 = performance.now();
  const o = await new Deno.Command(c.cmd, {
    args: c.args,
    env: c.env,
    clearEnv: true,
    cwd: c.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  return { ms, code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

/** `exec` of `e`'s command for `args`; throws on a non-zero exit when `check`. */
export async function run(e: Engine, args: string[], check = true): Promise<Out> {
  const o = await exec(await e.build(args));
  if (check && o.code !== 0) {
    throw new Error(`${e.name} ${args.join(" ")} → ${o.code}: ${o.stderr.trim().slice(-1500)}`);
  }
  return o;
}

/** The median (NaN of none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * pod in a temp store, as root or as `user`. net4: `entry`, another checkout's `cli.ts` run instead of this
 * one's (named "pod-before": before/after numbers side by side).
 */
export async function podEngine(user: string | undefined, entry?: string): Promise<Engine> {
  const h: TempPodHome = await tempPodHome(user ? { user } : {});
  return {
    name: entry ? "pod-before" : "pod",
    build: (args) => podCommand(args, { home: h.home, user, entry }),
    runFlags: ["--network=none"], // like podman's below: the runtime without networking (scripts/bench_net.ts has it)
    marker: h.root,
    cleanup: () => h.cleanup(),
  };
}

/** crun refuses hybrid cgroup hosts with controllers on the v2 hierarchy; runc copes. */
export async function podmanRuntime(): Promise<string | undefined> {
  const ctl = await Deno.readTextFile("/sys/fs/cgroup/unified/cgroup.controllers").catch(() => "");
  if (ctl.trim() === "") return undefined;
  const runc = await Deno.stat("/usr/bin/runc").then(() => true, () => false);
  return runc ? "runc" : undefined;
}

/** podman in a temp store (its own --root/--runroot), as root or as `user`. */
export async function podmanEngine(user: string | undefined, runtime: string | undefined): Promise<Engine> {
  const root = await Deno.makeTempDir({ prefix: "pod-bench-podman-" });
  const u = user ? await lookupUser(user) : null;
  const dirs = [`${root}/root`, `${root}/run`, `${root}/xdg`, `${root}/home`];
  for (const d of dirs) await Deno.mkdir(d, { mode: 0o700 });
  await Deno.chmod(root, 0o755);
  if (u) { for (const d of [root, ...dirs]) await Deno.chown(d, u.uid, u.gid); }
  const global = [...podmanStoreArgs(root), ...(runtime ? [`--runtime=${runtime}`] : [])];
  // root podman's cgroupfs manager leaves its cgroups under `libpod_parent`: a parent of the bench's own
  const cgroups = u ? undefined : podmanCgroupParent();
  const env: Record<string, string> = {
    PATH,
    HOME: `${root}/home`,
    XDG_RUNTIME_DIR: `${root}/xdg`,
    LANG: "C.UTF-8",
    ...(u ? { USER: u.name, LOGNAME: u.name } : {}),
  };
  const e: Engine = {
    name: "podman",
    build: (args) =>
      Promise.resolve(
        u
          ? {
            cmd: "setpriv",
            args: [
              `--reuid=${u.uid}`,
              `--regid=${u.gid}`,
              "--init-groups",
              "--reset-env",
              "--",
              "/usr/bin/env",
              ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
              "podman",
              ...global,
              ...args,
            ],
            env,
            cwd: `${root}/home`,
          }
          : { cmd: "podman", args: [...global, ...args], env, cwd: `${root}/home` },
      ),
    runFlags: [
      ...(cgroups?.args ?? []),
      "--network=none",
      "--ulimit",
      "nofile=4096:4096",
      "--ulimit",
      "nproc=4096:4096",
    ],
    marker: root,
    cleanup: async () => {
      // overlay dirs of a rootless store belong to sub-ids; podman's own unshare removes them
      await removePodmanStore(
        root,
        u
          ? async () => exec(await e.build(["unshare", "rm", "-rf", `${root}/root`, `${root}/run`]))
          : undefined,
      );
      cgroups?.remove();
    },
  };
  return e;
}

// ---------------------------------------------------------------------------------------------------------------
// process accounting for the idle detached container

interface Proc {
  pid: number;
  ppid: number;
  cmd: string;
  pidns: string;
  rssKiB: number;
  pssKiB: number;
}

async function procs(): Promise<Map<number, Proc>> {
  const m = new Map<number, Proc>();
  for await (const d of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(d.name)) continue;
    const pid = Number(d.name);
    try {
      const status = await Deno.readTextFile(`/proc/${pid}/status`);
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const cmd = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).replaceAll("\0", " ");
      const pidns = await Deno.readLink(`/proc/${pid}/ns/pid`).catch(() => "");
      const roll = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`).catch(() => "");
      const pss = Number(/Pss:\s+(\d+)/.exec(roll)?.[1] ?? 0);
      m.set(pid, { pid, ppid, cmd, pidns, rssKiB: rss, pssKiB: pss });
    } catch { /* exited */ }
  }
  return m;
}

interface IdleCost {
  helpers: Proc[];
  own: Proc[];
}

/** Processes of one detached container: those naming its id or store in argv, and their descendants. */
async function idleCost(e: Engine, id: string, before: Set<number>): Promise<IdleCost> {
  const all = await procs();
  const myNs = await Deno.readLink("/proc/self/ns/pid");
  const picked = new Set<number>();
  for (const p of all.values()) {
    if (before.has(p.pid)) continue;
    if (p.cmd.includes(id) || p.cmd.includes(e.marker)) picked.add(p.pid);
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all.values()) {
      if (!picked.has(p.pid) && picked.has(p.ppid) && !before.has(p.pid)) {
        picked.add(p.pid);
        grew = true;
      }
    }
  }
  const ps = [...picked].map((p) => all.get(p)!);
  return { helpers: ps.filter((p) => p.pidns === myNs), own: ps.filter((p) => p.pidns !== myNs) };
}

// ---------------------------------------------------------------------------------------------------------------

interface Result {
  runRm: number;
  create: number;
  start: number;
  exec: number;
  stop: number;
  rmF: number;
  ps: number;
  psN: number;
  idleRssKiB: number;
  idlePssKiB: number;
  idleWhat: string;
}

/** pid 1 that exits on SIGTERM (a plain `sleep` as pid 1 ignores it and `stop` would wait for its timeout). */
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"];

async function bench(
  e: Engine,
  ref: string,
  o: { runs: number; execs: number; psN: number },
): Promise<Result> {
  const tag = `${e.name}`;
  await run(e, ["pull", "-q", ...(e.name === "podman" ? ["--tls-verify=false"] : []), ref]);
  // warm-up (module cache, storage init)
  await run(e, ["run", "--rm", ...e.runFlags, ref, "true"]);

  const runRm: number[] = [];
  for (let i = 0; i < o.runs; i++) runRm.push((await run(e, ["run", "--rm", ...e.runFlags, ref, "true"])).ms);

  const n = 5;
  const create: number[] = [], start: number[] = [], stop: number[] = [], rmF: number[] = [];
  const names = Array.from({ length: n }, (_, i) => `bench-${tag}-${i}`);
  for (const name of names) {
    create.push((await run(e, ["create", "--name", name, ...e.runFlags, ref, ...IDLE])).ms);
    start.push((await run(e, ["start", name])).ms);
  }
  await run(e, ["exec", names[0], "true"]); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < o.execs; i++) await run(e, ["exec", names[0], "true"]);
  const execMs = (performance.now() - t0) / o.execs;
  for (const name of names) stop.push((await run(e, ["stop", "-t", "5", name])).ms);
  for (const name of names) rmF.push((await run(e, ["rm", "-f", name])).ms);

  // idle detached container: memory of everything but its own processes
  const before = new Set((await procs()).keys());
  const id = (await run(e, ["run", "-d", "--name", `bench-${tag}-idle`, ...e.runFlags, ref, ...IDLE])).stdout
    .trim().split("\n").pop()!;
  await new Promise((r) => setTimeout(r, 1500));
  const cost = await idleCost(e, id, before);
  const idleRssKiB = cost.helpers.reduce((s, p) => s + p.rssKiB, 0);
  const idlePssKiB = cost.helpers.reduce((s, p) => s + p.pssKiB, 0);
  const short = (p: Proc) => `${p.cmd.split(" ")[0].split("/").pop()}(${(p.rssKiB / 1024).toFixed(1)})`;
  const idleWhat = `helpers ${cost.helpers.map(short).join(" ")}; own ${cost.own.map(short).join(" ")}`;
  await run(e, ["rm", "-f", `bench-${tag}-idle`]);

  // ps -a with N (created, not started) containers
  for (let i = 0; i < o.psN; i++) await run(e, ["create", ...e.runFlags, ref, "true"]);
  await run(e, ["ps", "-a"]);
  const ps: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await run(e, ["ps", "-a"]);
    ps.push(r.ms);
    const lines = r.stdout.trim().split("\n").length - 1;
    if (lines !== o.psN) console.log(`  (${e.name} ps -a listed ${lines} containers, expected ${o.psN})`);
  }
  await run(e, ["rm", "-a", "-f"], false);

  return {
    runRm: median(runRm),
    create: median(create),
    start: median(start),
    exec: execMs,
    stop: median(stop),
    rmF: median(rmF),
    ps: median(ps),
    psN: o.psN,
    idleRssKiB,
    idlePssKiB,
    idleWhat,
  };
}

function table(mode: string, pod: Result, pm: Result | undefined): void {
  const f = (x: number | undefined, d = 0) => x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d);
  const rows: [string, keyof Result, string][] = [
    ["run --rm img true (median)", "runRm", "≤ 120 ms and ≤ 0.4× podman"],
    ["create (median)", "create", ""],
    ["start (median)", "start", ""],
    ["exec c true (per exec)", "exec", "≤ 40 ms and ≤ 0.2× podman"],
    ["stop (median)", "stop", ""],
    ["rm -f (median, stopped)", "rmF", ""],
    [`ps -a, ${pod.psN} containers (median)`, "ps", ""],
  ];
  const lines: string[][] = [["", "pod ms", "podman ms", "ratio", "target", "verdict"]];
  for (const [label, k, target] of rows) {
    const a = pod[k] as number;
    const b = pm?.[k] as number | undefined;
    const ratio = b ? a / b : undefined;
    let verdict = "";
    if (k === "runRm") {
      verdict = (a <= 120 ? "abs ok" : "abs MISS") +
        (ratio !== undefined ? (ratio <= 0.4 ? ", ratio ok" : ", ratio MISS") : "");
    }
    if (k === "exec") {
      verdict = (a <= 40 ? "abs ok" : "abs MISS") +
        (ratio !== undefined ? (ratio <= 0.2 ? ", ratio ok" : ", ratio MISS") : "");
    }
    lines.push([label, f(a), f(b), ratio === undefined ? "-" : ratio.toFixed(2), target, verdict]);
  }
  lines.push([
    "idle detached container overhead, RSS MiB",
    f(pod.idleRssKiB / 1024, 1),
    f(pm ? pm.idleRssKiB / 1024 : undefined, 1),
    pm ? (pod.idleRssKiB / pm.idleRssKiB).toFixed(2) : "-",
    "",
    "",
  ]);
  lines.push([
    "idle detached container overhead, PSS MiB",
    f(pod.idlePssKiB / 1024, 1),
    f(pm ? pm.idlePssKiB / 1024 : undefined, 1),
    pm ? (pod.idlePssKiB / pm.idlePssKiB).toFixed(2) : "-",
    "",
    "",
  ]);
  const w = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  console.log(`\n== runtime, ${mode} ==`);
  for (const l of lines) console.log(l.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join("  "));
  console.log(`  pod idle processes:    ${pod.idleWhat}`);
  if (pm) console.log(`  podman idle processes: ${pm.idleWhat}`);
}

/** Runs the benchmark against `shared` (a running registry) or a registry of its own. */
export async function main(shared?: Registry): Promise<void> {
  const runs = argNum("runs", 10);
  const execs = argNum("execs", 20);
  const psN = argNum("ps", 100);
  const modes = argStr("modes", "root,rootless").split(",");
  const havePodman =
    (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output())
      .success;
  if (!havePodman) console.log("podman was not found: printing pod's numbers alone");
  const runtime = havePodman ? await podmanRuntime() : undefined;
  if (runtime) {
    console.log(
      `podman: crun refuses this hybrid cgroup host (controllers on cgroup v2), using --runtime=${runtime}`,
    );
  }
  const reg = shared ?? await startRegistry({ logLevel: "error" });
  try {
    const img = await busybox(reg);
    for (const mode of modes) {
      let user: string | undefined;
      if (mode === "rootless") {
        if (!await rootlessAvailable()) {
          console.log(
            `\n== runtime, rootless: skipped (not root, or ${TEST_USER}/newuidmap/subuid missing) ==`,
          );
          continue;
        }
        user = TEST_USER;
      }
      const label = user ? `rootless (${user})` : "root";
      console.log(`\nbenchmarking ${label} …`);
      const pe = await podEngine(user);
      let pod: Result;
      try {
        pod = await bench(pe, img.ref, { runs, execs, psN });
      } finally {
        await pe.cleanup();
      }
      let pm: Result | undefined;
      if (havePodman) {
        const me = await podmanEngine(user, runtime);
        try {
          pm = await bench(me, img.ref, { runs, execs, psN });
        } catch (err) {
          console.log(`podman ${label} failed: ${(err as Error).message.split("\n")[0]}`);
        } finally {
          await me.cleanup();
        }
      }
      table(label, pod, pm);
    }
  } finally {
    if (!shared) await reg.stop();
  }
}

if (import.meta.main) await main();
