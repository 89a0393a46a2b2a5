/**
 * Timeline of `pod run --rm IMG true --network host`, root and rootless: runs it `--rounds` times with
 * `POD_TRACE_TIMES=1` (lib/log.ts `traceTime`: stamps from the CLI and from stage 2 on stderr) and prints,
 * per stamp, the median ms since the process was spawned and since the stamp before it.
 *
 *     deno run -A scripts/trace_run.ts [--rounds 15] [--mode root|rootless|both] [--args '--network host'] [--raw]
 *
 * The first stamp's time is measured from the moment this script spawned the command (wall), so "cli:
 * static imports loaded" includes Deno's own start-up. `--raw` also prints each run's stamps (ms, pid, label).
 * @module
 */

import { argNum, argStr, type Engine, exec, median, podEngine, run } from "./bench_runtime.ts";
import { startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";
import { rootlessAvailable, TEST_USER } from "../tests/helpers/rootless.ts";

async function trace(e: Engine, args: string[], rounds: number): Promise<void> {
  const rows = new Map<string, { at: number[]; step: number[] }>();
  const totals: number[] = [];
  for (let i = -1; i < rounds; i++) {
    const cmd = await e.build(args);
    const t0 = performance.timeOrigin + performance.now();
    // as another user the environment is given through `/usr/bin/env NAME=VALUE…` (tests/helpers/pod.ts)
    const traced = cmd.args.includes("/usr/bin/env")
      ? { ...cmd, args: cmd.args.flatMap((a) => a === "/usr/bin/env" ? [a, "POD_TRACE_TIMES=1"] : [a]) }
      : { ...cmd, env: { ...cmd.env, POD_TRACE_TIMES: "1" } };
    const o = await exec(traced);
    if (o.code !== 0) throw new Error(`${args.join(" ")} → ${o.code}: ${o.stderr.slice(-1000)}`);
    if (i < 0) continue; // warm-up
    totals.push(o.ms);
    const stamps = o.stderr.split("\n").filter((l) => l.startsWith("TIME ")).map((l) => {
      const [, t, pid, ...label] = l.split(" ");
      return { t: Number(t), pid, label: label.join(" ") };
    }).sort((a, b) => a.t - b.t);
    if (Deno.args.includes("--raw")) {
      console.log(
        stamps.map((s) => `${(s.t - t0).toFixed(1).padStart(7)} ${s.pid} ${s.label}`).join("\n") + "\n",
      );
    }
    let prev = t0;
    const seen = new Set<string>();
    for (const s of stamps) {
      let label = s.label;
      while (seen.has(label)) label += "'";
      seen.add(label);
      const r = rows.get(label) ?? { at: [], step: [] };
      r.at.push(s.t - t0);
      r.step.push(s.t - prev);
      rows.set(label, r);
      prev = s.t;
    }
  }
  const order = [...rows.entries()].sort((a, b) => median(a[1].at) - median(b[1].at));
  const w = Math.max(...order.map(([l]) => l.length));
  console.log(`${"stamp".padEnd(w)}  at ms   step ms  (medians of ${rounds})`);
  for (const [l, r] of order) {
    console.log(
      `${l.padEnd(w)}  ${median(r.at).toFixed(1).padStart(6)}  ${median(r.step).toFixed(1).padStart(7)}`,
    );
  }
  console.log(`${"total wall (process exit)".padEnd(w)}  ${median(totals).toFixed(1).padStart(6)}\n`);
}

async function main(): Promise<void> {
  const rounds = argNum("rounds", 15);
  const mode = argStr("mode", "both");
  const extra = argStr("args", "--network host").split(" ").filter(Boolean);
  const reg = await startRegistry({ logLevel: "error" });
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const img = await busybox(reg);
    const modes: [string, string | undefined][] = [];
    if (mode !== "rootless") modes.push(["root", undefined]);
    if (mode !== "root") {
      if (await rootlessAvailable()) modes.push(["rootless", TEST_USER]);
      else console.log(`rootless skipped (${TEST_USER}/newuidmap/subuid missing)`);
    }
    for (const [name, user] of modes) {
      const e = await podEngine(user);
      cleanups.push(e.cleanup);
      await run(e, ["pull", "-q", img.ref]);
      console.log(`== ${name}: pod run --rm ${extra.join(" ")} ${img.ref} true`);
      await trace(e, ["run", "--rm", ...extra, img.ref, "true"], rounds);
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e) => console.log(`cleanup: ${e}`));
    await reg.stop();
  }
}

if (import.meta.main) await main();
