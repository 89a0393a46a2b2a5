/**
 * Hot-path benchmark: start-up costs side by side, each row's runs interleaved round by round with the others
 * (the machine is shared: medians of many alternating runs, not one block after another).
 *
 *     deno run -A scripts/bench_hot.ts [--rounds 30] [--before DIR] [--pull-mb 20] [--only REGEX]
 *
 * Rows: an empty Deno script with pod's own `deno run` flags (the floor), `pod exec c true` from the checkout
 * and from the one-file build (`deno task bundle`, `dist/pod.js`) beside `podman exec c true` (root, same
 * image), and `run --rm img true` rootless (the test
 * user) with `--network host` for pod and podman, and (as a check that nothing else got slower) `pod pull` of a
 * `--pull-mb` MiB image into a fresh store. `--before DIR` adds the same pod rows for another checkout
 * (e.g. `git archive <rev> | tar -x -C DIR`), interleaved with these, so one run prints before and after
 * (its execs go to a container of their own, `c-before`: a plain exec runs what its container's plan names).
 * `--only` keeps the rows whose label matches (and the empty script). Each checkout's bundle is built first with its own `deno task bundle`. Prints medians, the exec deltas over
 * the empty script and the run --rm ratio against their targets; never asserts.
 * @module
 */

import {
  argNum,
  argStr,
  type Cmd,
  type Engine,
  exec,
  median,
  podEngine,
  podmanEngine,
  podmanRuntime,
  run,
} from "./bench_runtime.ts";
import { type Registry, startRegistry } from "../tests/helpers/registry.ts";
import { bigImage, busybox } from "../tests/helpers/fixtures.ts";
import { CLI_PATH, removeTree, REPO_ROOT } from "../tests/helpers/pod.ts";
import { rootlessAvailable, TEST_USER } from "../tests/helpers/rootless.ts";

/** One timed row: a label and the command it runs each round; wall and CPU ms of each run. */
interface Row {
  label: string;
  cmd: () => Promise<Cmd>;
  ms: number[];
  cpu: number[];
  /** Run after each timed run, untimed (e.g. removing a fresh store). */
  after?: () => Promise<void>;
}

let rusage: Deno.DynamicLibrary<{ getrusage: { parameters: ["i32", "buffer"]; result: "i32" } }> | undefined;

/**
 * User + system CPU ms of this process's waited-for children so far (`getrusage(RUSAGE_CHILDREN)`): the
 * difference around one run is what its whole process tree used, a steadier measure than wall time on a
 * busy machine (it does not count time spent waiting for a core).
 */
function childrenCpuMs(): number {
  rusage ??= Deno.dlopen("libc.so.6", { getrusage: { parameters: ["i32", "buffer"], result: "i32" } });
  const buf = new BigInt64Array(18); // struct rusage: ru_utime, ru_stime (timeval: sec, usec), …
  rusage.symbols.getrusage(-1, new Uint8Array(buf.buffer));
  return Number(buf[0] + buf[2]) * 1000 + Number(buf[1] + buf[3]) / 1000;
}

/**
 * `e`'s pod command for `args`, pointed at checkout `dir`: its `cli.ts` with its `deno.json`, or its bundle
 * (`dist/pod.js`, run as a user would: `deno run -A` without a config).
 */
async function podAt(e: Engine, args: string[], dir: string, bundle: boolean): Promise<Cmd> {
  const c = await e.build(args);
  const mapped = c.args.flatMap((a) => {
    if (a === `--config=${REPO_ROOT}/deno.json`) {
      return bundle ? ["--no-config"] : [`--config=${dir}/deno.json`];
    }
    if (a === CLI_PATH) return [bundle ? `${dir}/dist/pod.js` : `${dir}/cli.ts`];
    return [a];
  });
  return { ...c, args: mapped };
}

async function bundle(dir: string): Promise<void> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "bundle"],
    cwd: dir,
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!o.success) throw new Error(`deno task bundle in ${dir}: ${new TextDecoder().decode(o.stderr)}`);
}

const f0 = (x: number) => Number.isNaN(x) ? "-" : x.toFixed(0);
const f1 = (x: number) => Number.isNaN(x) ? "-" : x.toFixed(1);

/** Runs the hot-path rows against `shared` (a running registry) or a registry of its own. */
export async function main(shared?: Registry): Promise<void> {
  const rounds = argNum("rounds", 30);
  const pullMb = argNum("pull-mb", 20);
  const before = Deno.args.includes("--before") ? argStr("before", "") : undefined;
  const dirs: [string, string][] = [
    ["", REPO_ROOT],
    ...(before ? [["before ", before] as [string, string]] : []),
  ];
  const rootless = await rootlessAvailable();
  const havePodman =
    (await new Deno.Command("sh", { args: ["-c", "command -v podman"], stdout: "null" }).output()).success;
  for (const [, dir] of dirs) await bundle(dir);

  const reg = shared ?? await startRegistry({ logLevel: "error" });
  const cleanups: (() => Promise<void>)[] = [];
  const empty = await Deno.makeTempFile({ prefix: "pod-bench-empty-", suffix: ".ts" });
  cleanups.push(() => Deno.remove(empty));
  try {
    const img = await busybox(reg);
    const root = await podEngine(undefined);
    cleanups.push(root.cleanup);
    await run(root, ["pull", "-q", img.ref]);
    await run(root, [
      "run",
      "-d",
      "--name",
      "c",
      img.ref,
      "sh",
      "-c",
      "trap 'exit 0' TERM; sleep 100000 & wait",
    ]);
    cleanups.push(() => run(root, ["rm", "-f", "-t", "0", "c"], false).then(() => {}));
    // exec5: the other checkout execs in a container of its own ("c-before"): a plain exec runs the helper
    // its container's plan names, and the plan is made by the checkout whose exec came first
    if (before) {
      await run(root, [
        "run",
        "-d",
        "--name",
        "c-before",
        img.ref,
        "sh",
        "-c",
        "trap 'exit 0' TERM; sleep 100000 & wait",
      ]);
      cleanups.push(() => run(root, ["rm", "-f", "-t", "0", "c-before"], false).then(() => {}));
    }

    const rows: Row[] = [];
    const row = (label: string, cmd: () => Promise<Cmd>, after?: () => Promise<void>) =>
      rows.push({ label, cmd, ms: [], cpu: [], after });
    row("empty Deno script", async () => {
      const c = await root.build(["x"]);
      return { ...c, args: c.args.map((a) => a === CLI_PATH ? empty : a).slice(0, -1) };
    });
    for (const [tag, dir] of dirs) {
      const c = tag ? "c-before" : "c";
      row(`${tag}pod exec c true (checkout)`, () => podAt(root, ["exec", c, "true"], dir, false));
      row(`${tag}pod exec c true (bundle)`, () => podAt(root, ["exec", c, "true"], dir, true));
    }
    if (havePodman) {
      const pm = await podmanEngine(undefined, await podmanRuntime());
      cleanups.push(pm.cleanup);
      await run(pm, ["pull", "-q", "--tls-verify=false", img.ref]);
      await run(pm, ["run", "-d", ...pm.runFlags, "--name", "c", img.ref, "sleep", "100000"]);
      cleanups.push(() => run(pm, ["rm", "-f", "-t", "0", "c"], false).then(() => {}));
      row("podman exec c true", () => pm.build(["exec", "c", "true"]));
    }
    if (pullMb > 0) {
      // pull + unpack into a fresh store each time (removed after the run, untimed)
      const big = await bigImage(reg, pullMb, { repo: `test/hot${pullMb}` });
      for (const [tag, dir] of dirs) {
        let store = "";
        const pull = async () => {
          store = await Deno.makeTempDir({ prefix: "pod-bench-pull-" });
          const c = await podAt(root, ["pull", "-q", big.ref], dir, false);
          return { ...c, env: { ...c.env, POD_HOME: store } };
        };
        row(`${tag}pod pull ${pullMb} MiB (fresh store)`, pull, () => removeTree(store));
      }
    }
    if (rootless) {
      const pe = await podEngine(TEST_USER);
      cleanups.push(pe.cleanup);
      await run(pe, ["pull", "-q", img.ref]);
      const args = ["run", "--rm", "--network", "host", img.ref, "true"];
      for (const [tag, dir] of dirs) {
        row(`${tag}pod run --rm rootless, host net`, () => podAt(pe, args, dir, false));
      }
      if (havePodman) {
        const me = await podmanEngine(TEST_USER, await podmanRuntime());
        cleanups.push(me.cleanup);
        await run(me, ["pull", "-q", "--tls-verify=false", img.ref]);
        const flags = ["--network=host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];
        row("podman run --rm rootless, host net", () => me.build(["run", "--rm", ...flags, img.ref, "true"]));
      }
    } else console.log(`rootless rows skipped (not root, or ${TEST_USER}/newuidmap/subuid missing)`);

    const only = Deno.args.includes("--only") ? new RegExp(argStr("only", "")) : undefined;
    if (only) {
      rows.splice(
        0,
        rows.length,
        ...rows.filter((r) => r.label === "empty Deno script" || only.test(r.label)),
      );
    }
    console.log(`\nhot paths: ${rounds} rounds, rows interleaved …`);
    for (let i = -1; i < rounds; i++) {
      for (const r of rows) {
        const cmd = await r.cmd();
        const c0 = childrenCpuMs();
        const o = await exec(cmd);
        const cpu = childrenCpuMs() - c0;
        await r.after?.();
        if (o.code !== 0) throw new Error(`${r.label} → ${o.code}: ${o.stderr.trim().slice(-1500)}`);
        if (i >= 0) { // round -1 warms the caches
          r.ms.push(o.ms);
          r.cpu.push(cpu);
        }
      }
    }
    const stat = (label: string, k: "ms" | "cpu", p = 0.5) => {
      const s = [...rows.find((r) => r.label === label)?.[k] ?? []].sort((a, b) => a - b);
      return s.length ? (p === 0.5 ? median(s) : s[Math.min(s.length - 1, Math.floor(p * s.length))]) : NaN;
    };
    const w = Math.max(...rows.map((r) => r.label.length));
    console.log(
      `\n== hot paths, ${rounds} rounds: wall ms (median, p10) and CPU ms of the process tree (median) ==`,
    );
    for (const r of rows) {
      const cols = [f1(stat(r.label, "ms")), f0(stat(r.label, "ms", 0.1)), f1(stat(r.label, "cpu"))];
      console.log(
        `${r.label.padEnd(w)}  ${cols[0].padStart(7)}  ${cols[1].padStart(5)}  ${cols[2].padStart(7)}`,
      );
    }
    console.log("");
    const delta = (label: string, k: "ms" | "cpu", p = 0.5) =>
      stat(label, k, p) - stat("empty Deno script", k, p);
    for (const [tag] of dirs) {
      for (const [what, target] of [["checkout", 6], ["bundle", 10]] as const) {
        const l = `${tag}pod exec c true (${what})`;
        if (Number.isNaN(stat(l, "ms"))) continue;
        console.log(
          `${tag}exec (${what}) − empty script: wall +${f1(delta(l, "ms"))} ms (p10 +${
            f1(delta(l, "ms", 0.1))
          }), ` +
            `CPU +${f1(delta(l, "cpu"))} ms; target ≤ +${target} ms`,
        );
      }
    }
    for (const [tag] of dirs) {
      const l = `${tag}pod run --rm rootless, host net`, pm = "podman run --rm rootless, host net";
      const ratio = (k: "ms" | "cpu", p = 0.5) => f1(stat(l, k, p) / stat(pm, k, p) * 100);
      if (Number.isNaN(stat(pm, "ms"))) continue;
      console.log(
        `${tag}run --rm rootless host net, pod/podman: wall ${ratio("ms")}% (p10 ${ratio("ms", 0.1)}%), ` +
          `CPU ${ratio("cpu")}%; target ≤ 55%`,
      );
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e) => console.log(`cleanup: ${e}`));
    if (!shared) await reg.stop();
  }
}

if (import.meta.main) await main();
