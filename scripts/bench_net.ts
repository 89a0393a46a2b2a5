/**
 * Networking benchmark (issue 12): pod side by side with podman (same busybox fixture from a local registry,
 * temp stores), as root and rootless. Prints numbers and ratios against the targets; never asserts.
 *
 *     deno run -A scripts/bench_net.ts [--runs 10] [--requests 200] [--mib 100] [--modes root,rootless]
 *         [--before DIR] [--downloads 3]
 *
 * Measured: `run --rm img true` with each engine's default network (pod: slirp4netns rootless, the `podman`
 * bridge through netavark as root; podman 4.3: the same helpers), target ≤ 0.6× podman; and through a port
 * published on 127.0.0.1 (`-p 127.0.0.1:PORT:80`, a busybox httpd in the container): 200 sequential HTTP
 * requests and a 100 MiB download, target ≤ 1.0× podman with the same helper (rootless podman gets
 * `--network slirp4netns:port_handler=slirp4netns` there: its default rootlessport is another forwarder).
 * Also (net2) `run --rm --network bridge` (rootless: each engine's rootless netns), informative ≤ 1.0×.
 * net3: the two engines alternate within each of `--runs` rounds (who goes first alternates as well) and
 * every row is a median, the download included; both web containers run at the same time — the machine's
 * load then weighs on both alike. Traffic goes only to 127.0.0.1. net4: `--before DIR`, another checkout of pod
 * (`git archive` of an earlier commit, readable by the rootless user) measured in the same rounds as
 * "pod-before", its numbers and ratio beside pod's. net7: `--downloads N` downloads per side and round (slots:
 * the sides back to back, who goes first alternating by slot); under the tables the download row's spread,
 * the median of its paired ratios and, rootless, the CPU ms per MiB of each side's slirp4netns.
 * @module
 */

import { startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";
import { lookupUser, rootlessAvailable, TEST_USER } from "../tests/helpers/rootless.ts";
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

interface NetResult {
  runRm: number;
  /** net2: `run --rm --network bridge` (rootless: netavark in the rootless netns, on both sides). */
  runRmBridge: number;
  requests: number;
  download: number;
  /** net7: every download's ms (slot i of each side measured back to back with slot i of the others). */
  dlSamples: number[];
  /** net7: CPU ms per MiB of the side's slirp4netns over the downloads (rootless; NaN without one). */
  helperCpuPerMiB: number;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** podman's flags: its own default network (no --network), the ulimits it needs on this host. */
function flagsOf(e: Engine): string[] {
  return e.name === "podman" ? ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"] : [];
}

/**
 * pod's runs must succeed; podman 4.3's `run --rm` now and then ends with 127 after the container ran ("getting
 * exit code of container … from DB: no such exit code", a race with its cleanup process): timed all the same.
 */
const pod = (e: Engine) => e.name === "pod" || e.name === "pod-before";

/** One engine's side of a mode: its engine, whether rootless podman needs the same port helper. */
interface Side {
  e: Engine;
  rootless: boolean;
}

/** `-p` needs the same helper on both sides (see the module doc). */

function sameHelper(s: Side): string[] {
  return s.e.name === "podman" && s.rootless ? ["--network", "slirp4netns:port_handler=slirp4netns"] : [];
}

/** Starts the busybox httpd container `web` of `s` on a free 127.0.0.1 port; resolves to its base URL. */
async function startWeb(s: Side, ref: string, mib: number): Promise<string> {
  const port = freePort();
  const script = `mkdir -p /www && echo ok > /www/index.html && ` +
    `dd if=/dev/zero of=/www/big bs=1M count=${mib} 2>/dev/null && exec httpd -f -p 80 -h /www`;
  const args = [
    "run",
    "-d",
    "--name",
    "web",
    "-p",
    `127.0.0.1:${port}:80`,
    ...flagsOf(s.e),
    ...sameHelper(s),
  ];
  await run(s.e, [...args, ref, "sh", "-c", script]);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0;; i++) {
    try {
      const r = await fetch(`${base}/index.html`, { signal: AbortSignal.timeout(2000) });
      if ((await r.text()) === "ok\n") return base;
    } catch { /* not yet */ }
    if (i > 300) throw new Error(`${s.e.name}: ${base} never answered`);
    await sleep(50);
  }
}

/** ms for `n` sequential GETs of the small page. */
async function requests(base: string, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await (await fetch(`${base}/index.html`)).arrayBuffer();
  return performance.now() - t0;
}

/**
 * net7: the slirp4netns process of a side's web container (its command line names the engine's temp store), as
 * root reads it; undefined when there is none (root: the kernel forwards the port).
 */
function helperOf(marker: string): number | undefined {
  for (const d of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(d.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${d.name}/comm`).trim() !== "slirp4netns") continue;
      if (Deno.readTextFileSync(`/proc/${d.name}/cmdline`).includes(marker)) return Number(d.name);
    } catch { /* gone */ }
  }
  return undefined;
}

/** net7: CPU time (ns, user + system, from schedstat) a process has used; 0 once it is gone. */
function cpuNs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return Number(Deno.readTextFileSync(`/proc/${pid}/schedstat`).split(" ")[0]);
  } catch {
    return 0;
  }
}

/** ms for one download of the big file (its size checked). */
async function download(name: string, base: string, mib: number): Promise<number> {
  const t = performance.now();
  const r = await fetch(`${base}/big`);
  let n = 0;
  for await (const chunk of r.body!) n += chunk.length;
  if (n !== mib * 1048576) throw new Error(`${name}: downloaded ${n} bytes`);
  return performance.now() - t;
}

/**
 * net3: both engines side by side in one run, alternating within each round (who goes first alternates too),
 * medians of `runs` rounds — the machine's load then weighs on both alike. The web containers of both run
 * at the same time while their ports are measured.
 */
async function benchPair(
  sides: Side[],
  ref: string,
  o: { runs: number; requests: number; mib: number; downloads: number },
): Promise<NetResult[]> {
  const samples = sides.map(() => ({
    runRm: [] as number[],
    runRmBridge: [] as number[],
    req: [] as number[],
    dl: [] as number[],
    helperNs: 0,
  }));
  const order = (i: number) => i % 2 ? [...sides.keys()].reverse() : [...sides.keys()];
  for (const s of sides) {
    await run(s.e, ["pull", "-q", ...(s.e.name === "podman" ? ["--tls-verify=false"] : []), ref]);
    await run(s.e, ["run", "--rm", ...flagsOf(s.e), ref, "true"]); // warm-up
    await run(s.e, ["run", "--rm", "--network", "bridge", ...flagsOf(s.e), ref, "true"]); // warm-up
  }
  for (let i = 0; i < o.runs; i++) {
    for (const k of order(i)) {
      const e = sides[k].e;
      samples[k].runRm.push((await run(e, ["run", "--rm", ...flagsOf(e), ref, "true"], pod(e))).ms);
    }
  }
  for (let i = 0; i < o.runs; i++) {
    for (const k of order(i)) {
      const e = sides[k].e;
      samples[k].runRmBridge.push(
        (await run(e, ["run", "--rm", "--network", "bridge", ...flagsOf(e), ref, "true"], pod(e))).ms,
      );
    }
  }
  const bases: string[] = [];
  try {
    for (const s of sides) bases.push(await startWeb(s, ref, o.mib));
    const helpers = sides.map((s) => s.rootless ? helperOf(s.e.marker) : undefined);
    for (const [k, b] of bases.entries()) await download(sides[k].e.name, b, o.mib); // warm-up: page cache, client
    for (let i = 0; i < o.runs; i++) {
      for (const k of order(i)) samples[k].req.push(await requests(bases[k], o.requests));
      // net7: `downloads` slots per round, the sides back to back in each, who goes first alternating by slot
      for (let d = 0; d < o.downloads; d++) {
        for (const k of order(i * o.downloads + d)) {
          const c0 = cpuNs(helpers[k]);
          samples[k].dl.push(await download(sides[k].e.name, bases[k], o.mib));
          samples[k].helperNs += cpuNs(helpers[k]) - c0;
        }
      }
    }
    for (const [k, h] of helpers.entries()) if (h === undefined) samples[k].helperNs = NaN;
  } finally {
    for (const s of sides) await run(s.e, ["rm", "-f", "-t", "0", "web"], false);
  }
  return samples.map((x) => ({
    runRm: median(x.runRm),
    runRmBridge: median(x.runRmBridge),
    requests: median(x.req),
    download: median(x.dl),
    dlSamples: x.dl,
    helperCpuPerMiB: x.helperNs / 1e6 / (x.dl.length * o.mib),
  }));
}

function table(
  label: string,
  pod: NetResult,
  pm: NetResult | undefined,
  o: { requests: number; mib: number },
  before?: NetResult,
) {
  const rows: [string, "runRm" | "runRmBridge" | "requests" | "download", number][] = [
    ["run --rm true, default network (median)", "runRm", 0.6],
    ["run --rm --network bridge true (median)", "runRmBridge", 1.0],
    [`${o.requests} sequential GETs through -p`, "requests", 1.0],
    [`${o.mib} MiB download through -p`, "download", 1.0],
  ];
  console.log(`\n== networking, ${label} ==`);
  console.log(
    "what".padEnd(44) + "pod ms".padStart(10) + "podman ms".padStart(12) + "ratio".padStart(8) + "  target" +
      (before ? "      before ms  before ratio" : ""),
  );
  for (const [what, key, target] of rows) {
    const a = pod[key], b = pm?.[key];
    const ratio = b ? a / b : NaN;
    console.log(
      what.padEnd(44) + a.toFixed(1).padStart(10) + (b ? b.toFixed(1) : "-").padStart(12) +
        (b ? ratio.toFixed(2) : "-").padStart(8) +
        `  ≤ ${target} ${b ? (ratio <= target ? "met" : "MISSED") : ""}`.padEnd(14) +
        (before
          ? before[key].toFixed(1).padStart(11) + (b ? (before[key] / b).toFixed(2) : "-").padStart(14)
          : ""),
    );
  }
  downloadSpread(pod, pm, before);
}

/** The `p`-quantile (0..1) of `xs`, by the nearest rank. */
function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
}

/**
 * net7: the download row's spread (quartiles, min), the median of the paired ratios (each slot's pod sample ÷
 * podman's, measured back to back: load drift cancels) and, rootless, each slirp4netns's CPU ms per MiB — a
 * number the machine's load barely moves.
 */
function downloadSpread(pod: NetResult, pm?: NetResult, before?: NetResult) {
  const q = (r: NetResult) =>
    `median ${r.download.toFixed(0)}, p25–p75 ${quantile(r.dlSamples, 0.25).toFixed(0)}–${
      quantile(r.dlSamples, 0.75).toFixed(0)
    }, min ${Math.min(...r.dlSamples).toFixed(0)} ms (n=${r.dlSamples.length})` +
    (Number.isNaN(r.helperCpuPerMiB) ? "" : `; slirp4netns CPU ${r.helperCpuPerMiB.toFixed(2)} ms/MiB`);
  const sides: [string, NetResult | undefined][] = [["pod", pod], ["podman", pm], ["pod-before", before]];
  for (const [name, r] of sides) if (r) console.log(`  download ${name.padEnd(10)} ${q(r)}`);
  for (const [name, r] of sides.slice(0, 3)) {
    if (!r || !pm || r === pm) continue;
    const ratios = r.dlSamples.map((x, i) => x / pm.dlSamples[i]);
    console.log(
      `  download ${name} ÷ podman, paired by slot: median ${median(ratios).toFixed(2)}, p25–p75 ${
        quantile(ratios, 0.25).toFixed(2)
      }–${quantile(ratios, 0.75).toFixed(2)}` +
        (Number.isNaN(r.helperCpuPerMiB)
          ? ""
          : `; slirp4netns CPU ÷ podman's ${(r.helperCpuPerMiB / pm.helperCpuPerMiB).toFixed(2)}`),
    );
  }
}

/**
 * Rootless podman keeps slirp4netns's API socket under its tmp dir (`$XDG_RUNTIME_DIR/libpod/tmp/<64 hex>.net`),
 * too long for a unix socket in the benchmark's temp dir: podman gets a short `--tmpdir` of the user's instead.
 */
async function shortTmpDir(e: Engine, user: string): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "pbn-" });
  const u = await lookupUser(user);
  if (u) await Deno.chown(dir, u.uid, u.gid);
  const build = e.build;
  e.build = async (args) => {
    const c = await build(args);
    const i = c.args.lastIndexOf("podman");
    if (i >= 0) c.args.splice(i + 1, 0, `--tmpdir=${dir}`);
    return c;
  };
  const cleanup = e.cleanup;
  e.cleanup = async () => {
    await cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
}

/** net4: pod from the checkout `dir` (its cli.ts with its deno.json: the same unstable flags as pod's). */
export async function beforeEngine(user: string | undefined, dir: string): Promise<Engine> {
  const e = await podEngine(user, `${dir}/cli.ts`);
  const build = e.build;
  e.build = async (args) => {
    const c = await build(args);
    c.args = c.args.map((a) => a === "--no-config" ? `--config=${dir}/deno.json` : a);
    return c;
  };
  return e;
}

/** Runs the benchmark (both modes unless `--modes`). */
export async function main(): Promise<void> {
  const o = {
    runs: argNum("runs", 10),
    requests: argNum("requests", 200),
    mib: argNum("mib", 100),
    downloads: argNum("downloads", 3),
  };
  for (const [k, v] of Object.entries(o)) {
    if (Number.isInteger(v) && v >= 1) continue;
    console.error(`bench_net: --${k} must be a whole number ≥ 1 (got ${v})`);
    Deno.exit(2);
  }
  const modes = argStr("modes", "root,rootless").split(",");
  const beforeDir = argStr("before", "");
  const havePodman =
    (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output())
      .success;
  const runtime = havePodman ? await podmanRuntime() : undefined;
  const reg = await startRegistry({ logLevel: "error" });
  try {
    const img = await busybox(reg);
    for (const mode of modes) {
      let user: string | undefined;
      if (mode === "rootless") {
        if (!await rootlessAvailable()) {
          console.log(`\n== networking, rootless: skipped (${TEST_USER}/newuidmap/subuid missing) ==`);
          continue;
        }
        user = TEST_USER;
      }
      const label = user ? `rootless (${user})` : "root";
      const pe = await podEngine(user);
      const me = havePodman ? await podmanEngine(user, runtime) : undefined;
      const be = beforeDir ? await beforeEngine(user, beforeDir) : undefined;
      if (me && user) await shortTmpDir(me, user);
      let pod: NetResult;
      let pm: NetResult | undefined;
      let before: NetResult | undefined;
      try {
        const sides = [{ e: pe, rootless: !!user }, ...(me ? [{ e: me, rootless: !!user }] : [])];
        if (be) sides.push({ e: be, rootless: !!user });
        const res = await benchPair(sides, img.ref, o);
        [pod, pm] = [res[0], me ? res[1] : undefined];
        if (be) before = res[res.length - 1];
      } finally {
        await pe.cleanup();
        await me?.cleanup();
        await be?.cleanup();
      }
      table(label, pod, pm, o, before);
    }
  } finally {
    await reg.stop();
  }
}

/** net7: `--help` prints the usage (it used to start the whole benchmark). */
const USAGE =
  `usage: deno run -A scripts/bench_net.ts [--runs 10] [--requests 200] [--mib 100] [--downloads 3]
    [--modes root,rootless] [--before DIR]
pod beside podman (and, with --before DIR, the checkout DIR as "pod-before"), alternating in each round:
run --rm (default network, --network bridge), N sequential GETs and a MiB download through -p 127.0.0.1:PORT:80;
--downloads: downloads per side and round. Under each table: the download's spread, its paired ratios and,
rootless, each slirp4netns's CPU ms per MiB. Traffic goes only to 127.0.0.1.`;

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) console.log(USAGE);
  else await main();
}
