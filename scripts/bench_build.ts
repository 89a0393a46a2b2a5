/**
 * `pod build` side by side with `podman build` (as root, temp stores; the host's podman storage is not
 * touched). Issue 17's 6-step Containerfile: FROM the busybox fixture (pulled into both stores from a loopback
 * registry), RUN creating `--files` files, COPY of a `--mb` MiB context, ENV, WORKDIR, CMD. Alternating pod /
 * podman, each after a `sync`, per run:
 *
 * - cold build (`--no-cache`: every step runs);
 * - cached rebuild (every step from the layer cache);
 * - rebuild after one context file changed (RUN cached, COPY and what follows rebuilt).
 *
 * Before each timed command the work pod left running after it exited (a RUN's upper dir deleted in the
 * background) is waited for, so it never overlaps a measured command of either tool.
 *
 * Wall time and peak RSS (`/usr/bin/time`) of the whole pod / podman process; ratios against the targets
 * (cold ≤ 0.6×, cached ≤ 0.3×, one file changed ≤ 0.5× podman; RSS ≤ 100 MiB); never asserts.
 *
 *     deno run -A scripts/bench_build.ts [--mb 20] [--files 2000] [--runs 3]
 * @module
 */

import { podmanStoreArgs, removePodmanStore } from "./podman_args.ts";
import { podmanRuntime } from "./bench_runtime.ts";
import { type Registry, startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const dec = new TextDecoder();
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function argNum(name: string, def: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}

interface Timed {
  s: number;
  rssKiB: number;
}

async function timed(cmd: string[], env: Record<string, string>): Promise<Timed> {
  const argv = ["/usr/bin/time", "-f", "__RSS__ %M", ...cmd];
  const t0 = performance.now();
  const o = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  const s = (performance.now() - t0) / 1000;
  const err = dec.decode(o.stderr);
  if (!o.success) throw new Error(`${cmd.join(" ")} failed: ${err.slice(-2000)}`);
  const m = /__RSS__ (\d+)/.exec(err);
  return { s, rssKiB: m ? Number(m[1]) : NaN };
}

async function run(cmd: string[], env: Record<string, string>): Promise<string> {
  const o = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!o.success) throw new Error(`${cmd.join(" ")} failed: ${dec.decode(o.stderr).slice(-2000)}`);
  return dec.decode(o.stdout);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Tool {
  name: "pod" | "podman";
  cmd: (args: string[]) => string[];
  env: Record<string, string>;
  cleanup: () => Promise<void>;
  /** Waits until work the tool left running after it exited is done (pod: a RUN's detached tree deletion). */
  settle: () => Promise<void>;
}

function podTool(work: string): Tool {
  const store = `${work}/pod-store`;
  return {
    name: "pod",
    cmd: (args) => [Deno.execPath(), "run", "-A", CLI, "--root", store, ...args],
    env: { PATH, HOME: work, DENO_NO_UPDATE_CHECK: "1" },
    cleanup: async () => {},
    // a RUN's upper dir goes to <store>/tmp/.trash-* and is deleted there after pod exits: not overlapping
    // the next timed command, so neither tool is charged for it
    settle: async () => {
      for (let i = 0; i < 600; i++) {
        let busy = false;
        try {
          for await (const e of Deno.readDir(`${store}/tmp`)) if (e.name.startsWith(".trash-")) busy = true;
        } catch { /* no tmp yet */ }
        if (!busy) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

async function podmanTool(runtime: string | undefined): Promise<Tool> {
  const root = await Deno.makeTempDir({ prefix: "pm-" }); // podman wants a short runroot
  return {
    name: "podman",
    cmd: (
      args,
    ) => ["podman", ...podmanStoreArgs(root), ...(runtime ? [`--runtime=${runtime}`] : []), ...args],
    env: { PATH, HOME: root, XDG_RUNTIME_DIR: `${root}/xdg` },
    cleanup: async () => {
      await run(["podman", ...podmanStoreArgs(root), "rmi", "-a", "-f"], { PATH, HOME: root }).catch(() =>
        ""
      );
      await removePodmanStore(root);
    },
    settle: async () => {},
  };
}

type Case = "cold" | "cached" | "changed";
const CASES: [Case, string, number][] = [
  ["cold", "cold build (--no-cache)", 0.6],
  ["cached", "cached rebuild", 0.3],
  ["changed", "rebuild, one context file changed", 0.5],
];

/** Runs the benchmark against `shared` or a registry of its own. */
export async function main(shared?: Registry): Promise<void> {
  const mb = argNum("mb", 20);
  const files = argNum("files", 2000);
  const runs = argNum("runs", 3);
  if (Deno.uid() !== 0) {
    console.log(
      "bench_build runs as root only (podman's rootless store needs its own user session): skipped",
    );
    return;
  }
  const havePodman =
    (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output())
      .success;
  if (!havePodman) console.log("podman was not found: printing pod's numbers alone");
  const runtime = havePodman ? await podmanRuntime() : undefined;
  const reg = shared ?? await startRegistry({ logLevel: "error" });
  const work = await Deno.makeTempDir({ prefix: "pod-bench-build-" });
  const tools: Tool[] = [podTool(work)];
  if (havePodman) tools.push(await podmanTool(runtime));
  const res: Record<string, Record<Case, Timed[]>> = {};
  for (const t of tools) res[t.name] = { cold: [], cached: [], changed: [] };
  try {
    const img = await busybox(reg);
    for (const t of tools) await run(t.cmd(["pull", "-q", "--tls-verify=false", img.ref]), t.env);
    const ctx = `${work}/ctx`;
    await Deno.mkdir(`${ctx}/data`, { recursive: true });
    // 1 MiB files of incompressible data
    for (let i = 0; i < mb; i++) {
      const b = new Uint8Array(1 << 20);
      for (let o = 0; o < b.length; o += 65536) crypto.getRandomValues(b.subarray(o, o + 65536));
      await Deno.writeFile(`${ctx}/data/blob${i}`, b);
    }
    await Deno.writeTextFile(
      `${ctx}/Containerfile`,
      `FROM ${img.ref}\n` +
        `RUN mkdir /many && cd /many && i=0; while [ $i -lt ${files} ]; do echo $i > f$i; i=$((i+1)); done\n` +
        `COPY data/ /data/\nENV APP=bench\nWORKDIR /data\nCMD ["sh"]\n`,
    );
    console.log(`context: ${mb} MiB in ${mb} files; RUN creates ${files} files; ${runs} runs`);
    const build = (t: Tool, extra: string[] = []) =>
      // both without a network for RUN: the comparison is of the build's own work, not of network set-up
      t.cmd(["build", ...extra, "--network=none", "-t", "bench", ctx]);
    const sync = async () => {
      for (const t of tools) await t.settle();
      await new Deno.Command("sync").output();
    };
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? [...tools].reverse() : tools;
      for (const t of order) {
        await sync();
        res[t.name].cold.push(await timed(build(t, ["--no-cache"]), t.env));
      }
      for (const t of order) {
        await sync();
        res[t.name].cached.push(await timed(build(t), t.env));
      }
      await Deno.writeTextFile(`${ctx}/data/changed`, `run ${i}\n`);
      for (const t of order) {
        // each tool sees the change for the first time (its cache has the previous content)
        await sync();
        res[t.name].changed.push(await timed(build(t), t.env));
      }
    }
  } finally {
    for (const t of tools) await t.cleanup();
    if (!shared) await reg.stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const f = (x: number | undefined, d = 2) => x === undefined || isNaN(x) ? "-" : x.toFixed(d);
  console.log(`\n== build, median of ${runs} (wall s; RSS = peak MiB of the pod/podman process) ==`);
  const rows: string[][] = [["case", "pod s", "podman s", "ratio (target)", "pod RSS (≤100)", "podman RSS"]];
  for (const [c, label, target] of CASES) {
    const p = res.pod[c];
    const m = res.podman?.[c];
    const ps = median(p.map((x) => x.s));
    const ms = m ? median(m.map((x) => x.s)) : undefined;
    const prss = Math.max(...p.map((x) => x.rssKiB)) / 1024;
    rows.push([
      label,
      f(ps),
      f(ms),
      ms ? `${f(ps / ms)} (≤${target}) ${ps / ms <= target ? "ok" : "MISS"}` : "-",
      `${f(prss, 0)} ${prss <= 100 ? "ok" : "MISS"}`,
      m ? f(Math.max(...m.map((x) => x.rssKiB)) / 1024, 0) : "-",
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((l) => l[i].length)));
  for (const l of rows) console.log(l.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join("  "));
}

if (import.meta.main) await main();
