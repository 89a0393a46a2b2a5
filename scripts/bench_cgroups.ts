/**
 * What resource limits cost `run --rm IMAGE true` (cgroups, issue 13), as root, side by side with podman
 * (runc; its own temp store): pod with `--cgroups disabled` (no cgroup: how pod ran before), pod's default
 * (a cgroup of its own with podman's pids limit 2048), pod with `--memory 64m --cpus 1 --pids-limit 100`,
 * podman's default and podman with the same limits; interleaved, medians, and `stats --no-stream` of one
 * running container. Prints numbers; never asserts.
 *
 *     deno run -A scripts/bench_cgroups.ts [--runs N]
 * @module
 */

import { startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";
import {
  cgroupDirs,
  cgroupLayout,
  type CgroupLimits,
  createCgroup,
  openCgroupProcs,
  removeCgroup,
} from "../lib/ns/cgroup.ts";
import { close as closeFd } from "../lib/ns/libc.ts";
import { argNum, type Engine, median, podEngine, podmanEngine, run } from "./bench_runtime.ts";

const runs = argNum("runs", 15);

/** The cgroup work itself, without the noise of whole runs: make (limits written), open, remove; µs each. */
async function cgroupOpsMicros(limits: CgroupLimits, n = 200): Promise<number> {
  const layout = cgroupLayout();
  if (!layout) return NaN;
  const parent = `/pod-bench-${crypto.randomUUID().slice(0, 8)}`;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const spec = { version: layout.version, dirs: cgroupDirs(layout, `${parent}/libpod-${i}`), limits };
    createCgroup(spec);
    for (const fd of openCgroupProcs(spec)) closeFd(fd);
    await removeCgroup(spec);
  }
  const us = ((performance.now() - t0) / n) * 1000;
  await removeCgroup({ version: layout.version, dirs: cgroupDirs(layout, parent), limits: {} });
  return us;
}
if (Deno.uid() !== 0) {
  console.log("bench_cgroups: needs root (rootless containers have no cgroups on this kind of host)");
  Deno.exit(0);
}
const LIMITS = ["--memory", "64m", "--cpus", "1", "--pids-limit", "100"];
const havePodman =
  (await new Deno.Command("sh", { args: ["-c", "command -v podman && command -v runc"], stdout: "null" })
    .output()).success;
const reg = await startRegistry({ logLevel: "error" });
const engines: Engine[] = [];
try {
  const img = await busybox(reg);
  const pe = await podEngine(undefined);
  engines.push(pe);
  await run(pe, ["pull", "-q", img.ref]);
  const variants: [string, Engine, string[]][] = [
    ["pod --cgroups disabled", pe, ["--cgroups", "disabled"]],
    ["pod default (cgroup, pids 2048)", pe, []],
    ["pod --memory --cpus --pids-limit", pe, LIMITS],
  ];
  if (havePodman) {
    const me = await podmanEngine(undefined, "runc");
    engines.push(me);
    await run(me, ["pull", "-q", "--tls-verify=false", img.ref]);
    variants.push(["podman (runc) default", me, me.runFlags], ["podman (runc) with the limits", me, [
      ...me.runFlags,
      ...LIMITS,
    ]]);
  } else console.log("podman or runc missing: pod only");
  console.log(
    `cgroup work per container (make + limits + open cgroup.procs + remove), mean of 200: default ${
      (await cgroupOpsMicros({ pidsLimit: 2048 })).toFixed(0)
    } µs, with --memory/--cpus/--pids-limit ${
      (await cgroupOpsMicros({
        memory: 64 << 20,
        memorySwap: 128 << 20,
        cpuQuota: 100000,
        cpuPeriod: 100000,
        pidsLimit: 100,
      }))
        .toFixed(0)
    } µs`,
  );
  const times = new Map<string, number[]>(variants.map(([k]) => [k, []]));
  for (const [, e, flags] of variants) await run(e, ["run", "--rm", ...flags, img.ref, "true"]); // warm
  for (let i = 0; i < runs; i++) {
    for (const [k, e, flags] of variants) {
      times.get(k)!.push((await run(e, ["run", "--rm", ...flags, img.ref, "true"])).ms);
    }
  }
  console.log(`run --rm IMAGE true as root, median of ${runs} (interleaved):`);
  const base = median(times.get(variants[0][0])!);
  for (const [k] of variants) {
    const m = median(times.get(k)!);
    console.log(
      `  ${k.padEnd(34)} ${m.toFixed(1).padStart(7)} ms  (${(m - base >= 0 ? "+" : "")}${
        (m - base).toFixed(1)
      } ms)`,
    );
  }
  for (const e of engines) {
    const id = (await run(e, [
      "run",
      "-d",
      ...(e.name === "podman" ? e.runFlags : []),
      ...LIMITS,
      img.ref,
      "sleep",
      "60",
    ])).stdout.trim();
    const st: number[] = [];
    for (let i = 0; i < 5; i++) st.push((await run(e, ["stats", "--no-stream", id])).ms);
    console.log(
      `  ${`${e.name} stats --no-stream (1 container)`.padEnd(34)} ${median(st).toFixed(1).padStart(7)} ms`,
    );
    await run(e, ["rm", "-f", "-t", "0", id]);
  }
} finally {
  for (const e of engines) await e.cleanup().catch(() => {});
  await reg.stop();
}
