/**
 * Idle-cost benchmark (issue 13): the memory that every process pod leaves per detached container (the
 * supervisor and anything between it and the container) next to podman's (conmon), as root and rootless, with
 * N idle containers (`run -d --network=none img sleep 100000`) so the marginal cost shows: VmRSS, PSS and
 * private memory (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup) per container, and their ratios.
 * The container's own processes (in its pid namespace) are the same on both sides and left out; processes both
 * engines share between containers (rootless podman's pause process) are listed apart.
 *
 *     deno run -A scripts/bench_idle.ts [--n 10] [--modes root,rootless] [--rounds 1] [--runc]
 *
 * `--runc`: pod's containers run with `--runtime runc` (root; rootless pod keeps its own runtime): supervised by
 * conmon when installed (issue 13). `--before`: also pod with `POD_SUPERVISOR=perl` (its perl supervisor, as
 * before conmon), in the same rounds, printed as its own table.
 *
 * Prints numbers and ratios (target: pod ≤ 1.0× conmon); never asserts.
 * @module
 */

import { type Registry, startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";
import { rootlessAvailable, TEST_USER } from "../tests/helpers/rootless.ts";
import {
  argNum,
  argStr,
  type Engine,
  median,
  podEngine,
  podmanEngine,
  podmanRuntime,
  run,
} from "./bench_runtime.ts";

/** One process's memory, KiB. */
export interface ProcMem {
  pid: number;
  ppid: number;
  /** The program's name (argv[0]'s basename). */
  name: string;
  cmd: string;
  pidns: string;
  rss: number;
  pss: number;
  /** Private_Clean + Private_Dirty. */
  priv: number;
  /** RssAnon (from status). */
  anon: number;
}

/** Every process with its memory (those that vanish while read are skipped). */
export async function readProcs(): Promise<Map<number, ProcMem>> {
  const m = new Map<number, ProcMem>();
  for await (const d of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(d.name)) continue;
    const pid = Number(d.name);
    try {
      const status = await Deno.readTextFile(`/proc/${pid}/status`);
      const num = (re: RegExp, s: string) => Number(re.exec(s)?.[1] ?? 0);
      const cmd = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).replaceAll("\0", " ").trim();
      const roll = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`).catch(() => "");
      m.set(pid, {
        pid,
        ppid: num(/PPid:\s+(\d+)/, status),
        name: cmd.split(" ")[0].split("/").pop() || "?",
        cmd,
        pidns: await Deno.readLink(`/proc/${pid}/ns/pid`).catch(() => ""),
        rss: num(/VmRSS:\s+(\d+)/, status),
        pss: num(/^Pss:\s+(\d+)/m, roll),
        priv: num(/Private_Clean:\s+(\d+)/, roll) + num(/Private_Dirty:\s+(\d+)/, roll),
        anon: num(/RssAnon:\s+(\d+)/, status),
      });
    } catch { /* exited, or a kernel thread */ }
  }
  return m;
}

/** What N idle containers of one engine leave on the host. */
export interface IdleSample {
  n: number;
  /** Processes in the host's pid namespace, per program name: count and summed memory (KiB). */
  helpers: Map<string, { count: number; rss: number; pss: number; priv: number; anon: number }>;
  /** The same summed over all helpers. */
  total: { rss: number; pss: number; priv: number; anon: number };
  /** Processes inside the containers' pid namespaces (the containers' own), count. */
  own: number;
}

/**
 * The helpers of `e`'s containers: new processes (not in `before`) whose command line names the engine's
 * store (`e.marker`), and their descendants; those in another pid namespace are the containers' own.
 */
export async function sampleIdle(e: Engine, before: Set<number>, n: number): Promise<IdleSample> {
  const all = await readProcs();
  const myNs = await Deno.readLink("/proc/self/ns/pid");
  const picked = new Set<number>();
  for (const p of all.values()) if (!before.has(p.pid) && p.cmd.includes(e.marker)) picked.add(p.pid);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all.values()) {
      if (!picked.has(p.pid) && picked.has(p.ppid) && !before.has(p.pid)) {
        picked.add(p.pid);
        grew = true;
      }
    }
  }
  const helpers: IdleSample["helpers"] = new Map();
  const total = { rss: 0, pss: 0, priv: 0, anon: 0 };
  let own = 0;
  for (const pid of picked) {
    const p = all.get(pid)!;
    if (p.pidns !== myNs) {
      own++;
      continue;
    }
    const h = helpers.get(p.name) ?? { count: 0, rss: 0, pss: 0, priv: 0, anon: 0 };
    h.count++;
    for (const k of ["rss", "pss", "priv", "anon"] as const) {
      h[k] += p[k];
      total[k] += p[k];
    }
    helpers.set(p.name, h);
  }
  return { n, helpers, total, own };
}

const IDLE = ["sleep", "100000"];

/** Starts `n` idle detached containers with `e`, samples them (after they settled), removes them. */
export async function idleRound(e: Engine, ref: string, n: number, tag: string): Promise<IdleSample> {
  const before = new Set((await readProcs()).keys());
  const names = Array.from({ length: n }, (_, i) => `idle-${tag}-${i}`);
  try {
    for (const name of names) await run(e, ["run", "-d", "--name", name, ...e.runFlags, ref, ...IDLE]);
    await new Promise((r) => setTimeout(r, 1500));
    return await sampleIdle(e, before, n);
  } finally {
    await run(e, ["rm", "-f", "-t", "0", ...names], false);
  }
}

const mib = (k: number) => (k / 1024).toFixed(2);

/** Prints one mode's table: per container (total / N) RSS, PSS, private of pod and podman, and the ratios. */
export function printIdle(label: string, pod: IdleSample[], pm: IdleSample[] | undefined): void {
  const per = (ss: IdleSample[], k: "rss" | "pss" | "priv" | "anon") =>
    median(ss.map((s) => s.total[k] / s.n));
  const n = pod[0].n;
  console.log(
    `\n== idle detached containers, ${label}, N=${n} (MiB per container, median of ${pod.length}) ==`,
  );
  const rows: string[][] = [["", "pod", "podman", "ratio", "target", "verdict"]];
  for (
    const [k, what] of [["rss", "VmRSS"], ["pss", "PSS"], ["priv", "private"], ["anon", "RssAnon"]] as const
  ) {
    const a = per(pod, k);
    const b = pm ? per(pm, k) : undefined;
    const r = b ? a / b : undefined;
    rows.push([
      `idle supervisor cost per container, ${what}`,
      mib(a),
      b === undefined ? "-" : mib(b),
      r === undefined ? "-" : r.toFixed(2),
      k === "pss" || k === "priv" ? "≤ 1.0× conmon ±2%" : "",
      // the same program on both sides (conmon under pod's --runtime runc) measures within ±2%
      r === undefined || (k !== "pss" && k !== "priv") ? "" : r <= 1.02 ? "ok" : "MISS",
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((l) => l[i].length)));
  for (const l of rows) console.log(l.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join("  "));
  const detail = (s: IdleSample) =>
    [...s.helpers].map(([name, h]) =>
      `${name}×${h.count} (RSS ${mib(h.rss / h.count)}, PSS ${mib(h.pss / h.count)}, private ${
        mib(h.priv / h.count)
      })`
    ).join(", ") + `; container processes: ${s.own}`;
  console.log(`  pod:    ${detail(pod[pod.length - 1])}`);
  if (pm) console.log(`  podman: ${detail(pm[pm.length - 1])}`);
}

/** Runs the idle benchmark against `shared` (a running registry) or a registry of its own. */
export async function main(shared?: Registry): Promise<void> {
  const n = argNum("n", 10);
  const rounds = argNum("rounds", 1);
  const modes = argStr("modes", "root,rootless").split(",");
  const havePodman =
    (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output()).success;
  if (!havePodman) console.log("podman was not found: printing pod's numbers alone");
  const runtime = havePodman ? await podmanRuntime() : undefined;
  const reg = shared ?? await startRegistry({ logLevel: "error" });
  try {
    const img = await busybox(reg);
    for (const mode of modes) {
      let user: string | undefined;
      if (mode === "rootless") {
        if (!await rootlessAvailable()) {
          console.log(`\n== idle, rootless: skipped (not root, or ${TEST_USER}/newuidmap/subuid missing) ==`);
          continue;
        }
        user = TEST_USER;
      }
      const label = user ? `rootless (${user})` : "root";
      const pe = await podEngine(user);
      if (Deno.args.includes("--runc")) pe.runFlags = [...pe.runFlags, "--runtime", "runc"];
      const me = havePodman ? await podmanEngine(user, runtime) : undefined;
      const be = Deno.args.includes("--before") ? await podEngine(user) : undefined;
      if (be) {
        be.runFlags = pe.runFlags;
        const build = be.build;
        be.build = async (args) => {
          const c = await build(args);
          // rootless: the user's environment is set by `/usr/bin/env K=V…` on the command line (--reset-env)
          const at = c.args.indexOf("/usr/bin/env");
          const a = at < 0
            ? c.args
            : [...c.args.slice(0, at + 1), "POD_SUPERVISOR=perl", ...c.args.slice(at + 1)];
          return { ...c, args: a, env: { ...c.env, POD_SUPERVISOR: "perl" } };
        };
      }
      const pod: IdleSample[] = [], pm: IdleSample[] = [], before: IdleSample[] = [];
      try {
        if (be) await run(be, ["pull", "-q", img.ref]);
        await run(pe, ["pull", "-q", img.ref]);
        if (me) await run(me, ["pull", "-q", "--tls-verify=false", img.ref]);
        // warm-up: the first start of each makes its storage and caches
        await run(pe, ["run", "--rm", ...pe.runFlags, img.ref, "true"]);
        if (me) await run(me, ["run", "--rm", ...me.runFlags, img.ref, "true"]);
        for (let r = 0; r < rounds; r++) {
          pod.push(await idleRound(pe, img.ref, n, `pod${r}`));
          if (be) before.push(await idleRound(be, img.ref, n, `before${r}`));
          if (me) pm.push(await idleRound(me, img.ref, n, `podman${r}`));
        }
      } finally {
        await pe.cleanup();
        await be?.cleanup();
        await me?.cleanup();
      }
      printIdle(label, pod, me ? pm : undefined);
      if (be) printIdle(`${label}, before (POD_SUPERVISOR=perl)`, before, me ? pm : undefined);
    }
  } finally {
    if (!shared) await reg.stop();
  }
}

if (import.meta.main) await main();
