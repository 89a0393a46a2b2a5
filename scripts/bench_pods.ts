/**
 * Pods side by side with podman (as root, temp stores; the host's podman storage is not touched), alternating
 * pod / podman, `--runs` times each:
 *
 * - `pod create` + two members started (`run -d --pod`) + `pod rm -f -t 0`;
 * - `kube play` + `kube down` of a two-container YAML (each step timed too).
 *
 * Both without a network of their own (`--network none`), so podman's netavark set-up is not counted against
 * it. Wall time of the whole sequence, the ratio against the target (≤ 0.5× podman), and the median of each
 * step of the pod sequence (where the time goes); never asserts.
 *
 * `--before DIR`: also runs the pod of another checkout (DIR/cli.ts, e.g. the commit before a change) in the
 * same rounds, as `pod-before`, and prints its numbers and ratios beside pod's (before/after side by side).
 * `--perl`: also runs this checkout with `POD_SUPERVISOR=perl` (the perl supervisor instead of conmon), as
 * `pod-perl`, in the same rounds (the tools' environment is built here, so the caller's is not passed on).
 *
 *     deno run -A scripts/bench_pods.ts [--runs 3] [--before DIR] [--perl]
 * @module
 */

import { podmanStoreArgs, removePodmanStore } from "./podman_args.ts";
import { podmanRuntime } from "./bench_runtime.ts";
import { newLibpodParent } from "../tests/helpers/podman_cgroups.ts";
import { type Registry, startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";

/** This checkout (its cli.ts and deno.json). */
const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const dec = new TextDecoder();
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function argStr(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : def;
}

async function run(cmd: string[], env: Record<string, string>): Promise<void> {
  const o = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!o.success) throw new Error(`${cmd.join(" ")} failed: ${dec.decode(o.stderr).slice(-2000)}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Tool {
  name: "pod" | "pod-before" | "pod-perl" | "podman";
  cmd: (args: string[]) => string[];
  env: Record<string, string>;
  root: string;
}

const MEMBER = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"];

function yamlFor(ref: string): string {
  const ctr = (name: string) =>
    `  - name: ${name}\n    image: ${ref}\n    imagePullPolicy: IfNotPresent\n    command: [sh, -c, "trap 'exit 0' TERM; sleep 1000 & wait"]\n`;
  return `apiVersion: v1\nkind: Pod\nmetadata: {name: benchkube}\nspec:\n  containers:\n${ctr("a")}${
    ctr("b")
  }`;
}

/** The steps of the pod scenario, timed one by one (where the time goes). */
const POD_STEPS = ["pod create", "run -d --pod (starts the infra)", "run -d --pod", "pod rm -f"] as const;

async function podScenario(t: Tool, ref: string, steps?: number[][]): Promise<number> {
  const t0 = performance.now();
  const cmds = [
    ["pod", "create", "--network", "none", "--name", "benchpod"],
    ["run", "-d", "--pod", "benchpod", ref, ...MEMBER],
    ["run", "-d", "--pod", "benchpod", ref, ...MEMBER],
    ["pod", "rm", "-f", "-t", "0", "benchpod"],
  ];
  for (const [i, c] of cmds.entries()) {
    const s = performance.now();
    await run(t.cmd(c), t.env);
    (steps?.[i] ?? []).push((performance.now() - s) / 1000);
  }
  return (performance.now() - t0) / 1000;
}

/** The steps of the kube scenario, timed one by one. */
const KUBE_STEPS = ["kube play", "kube down"] as const;

async function kubeScenario(t: Tool, file: string, steps?: number[][]): Promise<number> {
  const t0 = performance.now();
  const cmds = [["kube", "play", "--tls-verify=false", "--network", "none", file], ["kube", "down", file]];
  for (const [i, c] of cmds.entries()) {
    const s = performance.now();
    await run(t.cmd(c), t.env);
    (steps?.[i] ?? []).push((performance.now() - s) / 1000);
  }
  return (performance.now() - t0) / 1000;
}

async function removeRoot(root: string): Promise<void> {
  await removePodmanStore(root);
}

/** Runs the benchmark against `shared` or a registry of its own. */
export async function main(shared?: Registry): Promise<void> {
  if (Deno.args.includes("--help")) {
    console.log(
      "deno run -A scripts/bench_pods.ts [--runs 3] [--before DIR (another checkout, run beside)] [--perl]",
    );
    return;
  }
  const runs = Number(argStr("runs", "3"));
  if (Deno.uid() !== 0) {
    console.log("bench_pods runs as root only: skipped");
    return;
  }
  const havePodman =
    (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output()).success;
  if (!havePodman) console.log("podman was not found: printing pod's numbers alone");
  const runtime = havePodman ? await podmanRuntime() : undefined;
  const reg = shared ?? await startRegistry({ logLevel: "error" });
  const work = await Deno.makeTempDir({ prefix: "pod-bench-pods-" });
  const pm = await Deno.makeTempDir({ prefix: "pm-" }); // podman refuses a long runroot
  // podman's pods and `kube play` go under `libpod_parent` (kube play takes no --cgroup-parent): removed after
  const libpodParent = newLibpodParent();
  await Deno.mkdir(`${pm}/xdg`, { mode: 0o700 });
  await Deno.mkdir(`${work}/xdg`, { mode: 0o700 });
  const podTool = (
    name: "pod" | "pod-before" | "pod-perl",
    dir: string,
    store: string,
    extra: Record<string, string> = {},
  ): Tool => ({
    name,
    cmd: (
      a,
    ) => [
      Deno.execPath(),
      "run",
      "-A",
      "--no-lock",
      `--config=${dir}/deno.json`,
      `${dir}/cli.ts`,
      "--root",
      store,
      ...a,
    ],
    env: {
      PATH,
      HOME: work,
      DENO_NO_UPDATE_CHECK: "1",
      XDG_RUNTIME_DIR: `${work}/xdg`,
      // the npm packages `kube` loads come from this user's Deno cache (and its ~/.npmrc when downloaded)
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`,
      ...extra,
    },
    root: work,
  });
  const tools: Tool[] = [
    podTool("pod", REPO, `${work}/store`),
  ];
  const before = argStr("before", "");
  if (before) tools.push(podTool("pod-before", before.replace(/\/$/, ""), `${work}/store-before`));
  if (Deno.args.includes("--perl")) {
    tools.push(podTool("pod-perl", REPO, `${work}/store-perl`, { POD_SUPERVISOR: "perl" }));
  }
  if (havePodman) {
    // this VM's rlimits are above what podman's runc may set for a pod's infra: lower defaults for it
    await Deno.writeTextFile(
      `${pm}/containers.conf`,
      '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n',
    );
    tools.push({
      name: "podman",
      cmd: (a) => ["podman", ...podmanStoreArgs(pm), ...(runtime ? [`--runtime=${runtime}`] : []), ...a],
      env: { PATH, HOME: pm, XDG_RUNTIME_DIR: `${pm}/xdg`, CONTAINERS_CONF: `${pm}/containers.conf` },
      root: pm,
    });
  }
  const res: Record<string, { pod: number[]; kube: number[]; steps: number[][]; kubeSteps: number[][] }> = {};
  const podman = tools.find((t) => t.name === "podman");
  try {
    const img = await busybox(reg);
    const file = `${work}/bench.yaml`;
    await Deno.writeTextFile(file, yamlFor(img.ref));
    for (const t of tools) {
      res[t.name] = {
        pod: [],
        kube: [],
        steps: POD_STEPS.map(() => []),
        kubeSteps: KUBE_STEPS.map(() => []),
      };
      await run(t.cmd(["pull", "-q", "--tls-verify=false", img.ref]), t.env);
      // warm-up: the infra image is built, npm's yaml cached, podman's pause image built
      await podScenario(t, img.ref);
      await kubeScenario(t, file);
    }
    for (let i = 0; i < runs; i++) {
      for (const t of i % 2 ? [...tools].reverse() : tools) {
        res[t.name].pod.push(await podScenario(t, img.ref, res[t.name].steps));
        res[t.name].kube.push(await kubeScenario(t, file, res[t.name].kubeSteps));
      }
    }
    const pods = tools.filter((t) => t.name !== "podman").map((t) => t.name);
    const line = (what: string, key: "pod" | "kube") => {
      const q = res.podman ? median(res.podman[key]) : NaN;
      for (const name of pods) {
        const p = median(res[name][key]);
        const ratio = res.podman ? ` ratio ${(p / q).toFixed(2)}× (target ≤ 0.5×)` : "";
        console.log(
          `${what}: ${name} ${p.toFixed(2)} s${res.podman ? `, podman ${q.toFixed(2)} s` : ""}${ratio}`,
        );
      }
    };
    const stepLines = (names: readonly string[], key: "steps" | "kubeSteps") => {
      for (const [i, step] of names.entries()) {
        const q = res.podman ? median(res.podman[key][i]) : NaN;
        const cols = pods.map((name) => {
          const p = median(res[name][key][i]);
          return `${name} ${p.toFixed(2)} s${res.podman ? ` (${(p / q).toFixed(2)}×)` : ""}`;
        });
        console.log(`  ${step}: ${cols.join(", ")}${res.podman ? `, podman ${q.toFixed(2)} s` : ""}`);
      }
    };
    line("pod create + 2 members + pod rm -f", "pod");
    stepLines(POD_STEPS, "steps");
    line("kube play + kube down (2 containers)", "kube");
    stepLines(KUBE_STEPS, "kubeSteps");
  } finally {
    for (const t of tools) {
      await new Deno.Command(t.cmd(["pod", "rm", "-a", "-f", "-t", "0"])[0], {
        args: t.cmd(["pod", "rm", "-a", "-f", "-t", "0"]).slice(1),
        env: t.env,
        clearEnv: true,
        stdout: "null",
        stderr: "null",
      }).output().catch(() => {});
    }
    if (podman) await run(podman.cmd(["system", "reset", "-f"]), podman.env).catch(() => {});
    await removeRoot(pm);
    libpodParent.remove();
    await removeRoot(work);
    if (!shared) await reg.stop();
  }
}

if (import.meta.main) await main();
