/**
 * Images in and out, side by side with podman (as root, temp stores; the host's podman storage is not touched):
 * the same multi-layer image (busybox plus `--mb` MiB of compressible files in `--layers` layers, pulled from the
 * loopback registry into both stores), then, alternating pod / podman, each after a `sync`:
 *
 * - `push` to a fresh loopback `docker-registry` (an empty repository: every blob uploaded), then the same push
 *   again (every blob exists: HEADs only);
 * - `save -o FILE` (docker-archive, the format both default to);
 * - `load -i FILE` of podman's archive into a fresh store;
 * - `commit` of a container that created 5,000 files (the same container for every run of one tool).
 *
 * Wall time and peak RSS (`/usr/bin/time`) of the whole pod / podman process; ratios against the targets
 * (≤ 0.5× podman, ≤ 80 MiB); never asserts. A fresh registry per push run, so no tool can mount a blob from an
 * earlier run's repository.
 *
 *     deno run -A scripts/bench_io.ts [--mb 150] [--layers 4] [--runs 3] [--files 5000] [--before DIR]
 *
 * `--before DIR`: another checkout of pod (its `cli.ts` and `deno.json`, e.g. `git archive` of an earlier
 * commit) measured in the same run as "pod-before", for before/after numbers side by side.
 * @module
 */

import { podmanStoreArgs, removePodmanStore } from "./podman_args.ts";
import { podmanCgroupParent } from "../tests/helpers/podman_cgroups.ts";
import { podmanRuntime } from "./bench_runtime.ts";
import { type Registry, startRegistry } from "../tests/helpers/registry.ts";
import { bigImage } from "../tests/helpers/fixtures.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const dec = new TextDecoder();
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function argStr(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : def;
}

interface Timed {
  s: number;
  rssKiB: number;
  /** User + system CPU seconds (the process and the children it waited for): robust on a loaded machine. */
  cpu: number;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS (KiB). Throws on failure. */
async function timed(cmd: string[], env: Record<string, string>): Promise<Timed> {
  const argv = ["/usr/bin/time", "-f", "__RSS__ %M %U %S", ...cmd];
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
  const m = /__RSS__ (\d+) ([\d.]+) ([\d.]+)/.exec(err);
  return { s, rssKiB: m ? Number(m[1]) : NaN, cpu: m ? Number(m[2]) + Number(m[3]) : NaN };
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

async function settle(): Promise<void> {
  await new Deno.Command("sync").output();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One tool: how to build its command line in a given store. */
interface Tool {
  name: "pod" | "pod-before" | "podman";
  cmd: (store: string, args: string[]) => string[];
  env: (store: string) => Record<string, string>;
  /** The store every step but `load` uses. */
  store: string;
}

function podTool(work: string, before?: string): Tool {
  const cli = before ? `${before}/cli.ts` : CLI;
  const config = before ? [`--config=${before}/deno.json`] : [];
  return {
    name: before ? "pod-before" : "pod",
    cmd: (store, args) => [Deno.execPath(), "run", "-A", ...config, cli, "--root", store, ...args],
    env: () => ({ PATH, HOME: work, DENO_NO_UPDATE_CHECK: "1", REGISTRY_AUTH_FILE: `${work}/auth.json` }),
    store: `${work}/${before ? "pod-before" : "pod"}-main`,
  };
}

async function podmanTool(runtime: string | undefined): Promise<Tool> {
  // podman refuses a runroot longer than 50 characters: a short temp dir of its own
  const root = await Deno.makeTempDir({ prefix: "pm-" });
  podmanRoots.push(root);
  return {
    name: "podman",
    cmd: (store, args) => [
      "podman",
      ...podmanStoreArgs(store),
      ...(runtime ? [`--runtime=${runtime}`] : []),
      ...args,
    ],
    env: (store) => ({
      PATH,
      HOME: store,
      XDG_RUNTIME_DIR: `${store}/xdg`,
    }),
    store: root,
  };
}

/** Temp podman roots, removed at the end. */
const podmanRoots: string[] = [];

/** Root podman's container cgroups go under a parent of the bench's own (else `libpod_parent`, left behind). */
const podmanCgroups = podmanCgroupParent();

async function removePodmanRoot(root: string): Promise<void> {
  await removePodmanStore(root);
  podmanCgroups.remove();
}

type Step = "push" | "repush" | "save" | "load" | "commit";
const STEPS: [Step, string][] = [
  ["push", "push (empty repository)"],
  ["repush", "push again (all blobs exist)"],
  ["save", "save (docker-archive)"],
  ["load", "load (podman's archive)"],
  ["commit", "commit (N files changed)"],
];

/** Runs the benchmark against `shared` (a registry holding nothing of it) or a registry of its own. */
export async function main(shared?: Registry): Promise<void> {
  const mb = Number(argStr("mb", "150"));
  const nLayers = Number(argStr("layers", "4"));
  const runs = Number(argStr("runs", "3"));
  const files = Number(argStr("files", "5000"));
  if (Deno.uid() !== 0) {
    console.log("bench_io runs as root only (podman's rootless store needs its own user session): skipped");
    return;
  }
  const havePodman =
    (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output())
      .success;
  if (!havePodman) console.log("podman was not found: printing pod's numbers alone");
  const haveIgzip =
    (await new Deno.Command("sh", { args: ["-c", "command -v igzip"], stdout: "null" }).output()).success;
  // save -o inflates gzip layers with igzip when it is there (lib/image/save_inflate.ts)
  if (!haveIgzip) console.log("igzip was not found (apt-get install isal): pod's save inflates in-process");
  const runtime = havePodman ? await podmanRuntime() : undefined;
  const reg = shared ?? await startRegistry({ logLevel: "error" });
  const work = await Deno.makeTempDir({ prefix: "pod-bench-io-" });
  const res: Record<string, Record<Step, Timed[]>> = {};
  const before = argStr("before", "");
  const tools: Tool[] = [podTool(work)];
  if (before) tools.push(podTool(work, before));
  if (havePodman) tools.push(await podmanTool(runtime));
  for (const t of tools) res[t.name] = { push: [], repush: [], save: [], load: [], commit: [] };
  try {
    const img = await bigImage(reg, mb, { layers: nLayers, repo: `test/io${mb}` });
    const blob = img.layers.reduce((n, l) => n + l.size, 0);
    console.log(
      `image ${img.ref}: ${img.layers.length} layers, ${
        (blob / 1048576).toFixed(1)
      } MiB compressed, ${mb} MiB of data`,
    );
    for (const t of tools) {
      await run(t.cmd(t.store, ["pull", "-q", "--tls-verify=false", img.ref]), t.env(t.store));
    }
    // a container per tool that creates `files` files (a script in the image's busybox sh)
    const script =
      `mkdir /chg && cd /chg && i=0; while [ $i -lt ${files} ]; do echo $i > f$i; i=$((i+1)); done`;
    for (const t of tools) {
      const extra = t.name === "podman"
        ? [
          "--network=none",
          "--ulimit",
          "nofile=4096:4096",
          "--ulimit",
          "nproc=4096:4096",
          ...(Deno.uid() === 0 ? podmanCgroups.args : []),
        ]
        : [];
      await run(
        t.cmd(t.store, ["run", ...extra, "--name", "chg", img.ref, "sh", "-c", script]),
        t.env(t.store),
      );
    }

    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? [...tools].reverse() : tools;
      const pushReg = await startRegistry({ logLevel: "error" });
      try {
        for (const step of ["push", "repush"] as const) {
          for (const t of order) {
            await settle();
            res[t.name][step].push(
              await timed(
                t.cmd(t.store, [
                  "push",
                  "-q",
                  "--tls-verify=false",
                  img.ref,
                  `${pushReg.host}/bench/${t.name}:v${i}`,
                ]),
                t.env(t.store),
              ),
            );
          }
        }
      } finally {
        await pushReg.stop();
      }
      for (const t of order) {
        const out = `${work}/${t.name}-${i}.tar`;
        await settle();
        res[t.name].save.push(
          await timed(t.cmd(t.store, ["save", "-q", "-o", out, img.ref]), t.env(t.store)),
        );
      }
      const archive = `${work}/${havePodman ? "podman" : "pod"}-${i}.tar`;
      for (const t of order) {
        const store = t.name !== "podman"
          ? `${work}/${t.name}-load-${i}`
          : await Deno.makeTempDir({ prefix: "pm-" });
        if (t.name === "podman") podmanRoots.push(store);
        await settle();
        res[t.name].load.push(await timed(t.cmd(store, ["load", "-q", "-i", archive]), t.env(store)));
      }
      for (const t of order) {
        await settle();
        res[t.name].commit.push(
          await timed(t.cmd(t.store, ["commit", "-q", "chg", `localhost/committed:v${i}`]), t.env(t.store)),
        );
      }
    }
  } finally {
    for (const t of tools) {
      await run(t.cmd(t.store, ["rm", "-f", "chg"]), t.env(t.store)).catch(() => "");
    }
    if (!shared) await reg.stop();
    for (const root of podmanRoots.splice(0)) await removePodmanRoot(root);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }

  const f = (x: number | undefined, d = 2) => x === undefined || isNaN(x) ? "-" : x.toFixed(d);
  const med = (t: string, step: Step, k: "s" | "cpu") => {
    const xs = res[t]?.[step];
    return xs?.length ? median(xs.map((x) => x[k])) : undefined;
  };
  const names = tools.map((t) => t.name);
  console.log(
    `\n== images in and out, ${mb} MiB image (median of ${runs}; wall s; CPU = user+sys s; RSS = peak MiB) ==`,
  );
  const head = ["step"];
  for (const n of names) head.push(`${n} s`);
  for (const n of names.filter((n) => n !== "podman")) head.push(`${n}/podman (≤0.5)`);
  for (const n of names) head.push(`${n} CPU`);
  for (const n of names.filter((n) => n !== "podman")) head.push(`${n} CPU/podman`);
  head.push("pod RSS (≤80)");
  if (before) head.push("pod-before RSS");
  head.push("podman RSS");
  const rows: string[][] = [head];
  for (const [step, label] of STEPS) {
    const row = [label.replace("N", String(files))];
    for (const n of names) row.push(f(med(n, step, "s")));
    const ms = med("podman", step, "s");
    const mc = med("podman", step, "cpu");
    for (const n of names.filter((n) => n !== "podman")) {
      const r = ms ? med(n, step, "s")! / ms : undefined;
      row.push(r === undefined ? "-" : `${f(r)} ${r <= 0.5 ? "ok" : "MISS"}`);
    }
    for (const n of names) row.push(f(med(n, step, "cpu")));
    for (const n of names.filter((n) => n !== "podman")) {
      row.push(mc ? f(med(n, step, "cpu")! / mc) : "-");
    }
    const prss = Math.max(...res.pod[step].map((x) => x.rssKiB)) / 1024;
    row.push(`${f(prss, 0)} ${prss <= 80 ? "ok" : "MISS"}`);
    const pb = res["pod-before"]?.[step];
    if (before) row.push(pb?.length ? f(Math.max(...pb.map((x) => x.rssKiB)) / 1024, 0) : "-");
    const m = res.podman?.[step];
    row.push(m ? f(Math.max(...m.map((x) => x.rssKiB)) / 1024, 0) : "-");
    rows.push(row);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((l) => l[i].length)));
  for (const l of rows) console.log(l.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join("  "));
  const load = await Deno.readTextFile("/proc/loadavg").catch(() => "");
  console.log(
    `load average at the end: ${
      load.split(" ").slice(0, 3).join(" ")
    } (wall times on a loaded machine swing)`,
  );
}

if (import.meta.main) await main();
