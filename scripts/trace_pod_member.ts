/**
 * Issue 15 (pods6): where a pod member's detached start and its stop spend their time, under conmon (the
 * default) and the perl supervisor (`POD_SUPERVISOR=perl`), alternating in the same rounds. In a pod made with
 * `--network none`: `run -d --pod P IMG sleep` then `stop -t T NAME` (`--stop-timeout`, default 0: SIGKILL at
 * once, as `pod rm -f -t 0`), each with `POD_TRACE_TIMES=1`; prints the median wall ms of each step and, per
 * trace stamp (lib/log.ts `traceTime`), the median ms since the command was spawned.
 *
 *     deno run -A scripts/trace_pod_member.ts [--rounds 10] [--mode root|rootless] [--stop-timeout 0]
 *
 * Never asserts.
 * @module
 */

import { busybox } from "../tests/helpers/fixtures.ts";
import { tempPodHome } from "../tests/helpers/pod.ts";
import { startRegistry } from "../tests/helpers/registry.ts";
import { TEST_USER } from "../tests/helpers/rootless.ts";
import { argNum, argStr, median } from "./bench_runtime.ts";

const rounds = argNum("rounds", 10);
const mode = argStr("mode", "root");
const stopTimeout = argStr("stop-timeout", "0");
const SIDES: Record<string, Record<string, string>> = { conmon: {}, perl: { POD_SUPERVISOR: "perl" } };

type Rows = Map<string, number[]>;
const add = (rows: Rows, label: string, ms: number) => rows.set(label, [...rows.get(label) ?? [], ms]);

/** Stamps of one traced run, relative to `t0` (ms since the epoch, when it was spawned). */
function stamps(stderr: string, t0: number, rows: Rows): void {
  const seen = new Set<string>();
  for (const l of stderr.split("\n")) {
    if (!l.startsWith("TIME ")) continue;
    const [, t, , ...label] = l.split(" ");
    let name = label.join(" ");
    while (seen.has(name)) name += "'";
    seen.add(name);
    add(rows, name, Number(t) - t0);
  }
}

function print(title: string, rows: Rows): void {
  const order = [...rows.entries()].sort((a, b) => median(a[1]) - median(b[1]));
  console.log(`  ${title}`);
  for (const [l, xs] of order) console.log(`    ${median(xs).toFixed(1).padStart(7)}  ${l}`);
}

const reg = await startRegistry();
try {
  const img = await busybox(reg);
  const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
  try {
    await h.pod(["pull", "-q", img.ref]);
    const c = await h.pod(["pod", "create", "--network", "none", "--name", "tp"]);
    if (c.code !== 0) throw new Error(c.stderr);
    const r = await h.pod(["run", "-d", "--pod", "tp", "--name", "warm", img.ref, "sleep", "100000"]);
    if (r.code !== 0) throw new Error(r.stderr);
    const t: Record<string, { start: Rows; stop: Rows }> = {};
    for (const name of Object.keys(SIDES)) t[name] = { start: new Map(), stop: new Map() };
    for (let i = 0; i < rounds; i++) {
      for (const [name, env] of i % 2 ? Object.entries(SIDES).reverse() : Object.entries(SIDES)) {
        const e = { ...env, POD_TRACE_TIMES: "1" };
        const ctr = `m-${name}-${i}`;
        let t0 = performance.timeOrigin + performance.now();
        const s = await h.pod(["run", "-d", "--pod", "tp", "--name", ctr, img.ref, "sleep", "100000"], {
          env: e,
        });
        if (s.code !== 0) throw new Error(s.stderr);
        add(t[name].start, "(wall)", performance.timeOrigin + performance.now() - t0);
        stamps(s.stderr, t0, t[name].start);
        t0 = performance.timeOrigin + performance.now();
        const p = await h.pod(["stop", "-t", stopTimeout, ctr], { env: e });
        if (p.code !== 0) throw new Error(p.stderr);
        add(t[name].stop, "(wall)", performance.timeOrigin + performance.now() - t0);
        stamps(p.stderr, t0, t[name].stop);
        await h.pod(["rm", ctr]);
      }
    }
    for (const [name, x] of Object.entries(t)) {
      console.log(`== ${name}, ${mode}, ${rounds} rounds (median ms since spawn) ==`);
      print("run -d --pod", x.start);
      print(`stop -t ${stopTimeout}`, x.stop);
    }
    await h.pod(["pod", "rm", "-f", "-t", "0", "-a"]);
  } finally {
    await h.cleanup();
  }
} finally {
  await reg.stop();
}
