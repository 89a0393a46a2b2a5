/**
 * `deno task bench`: starts one local `docker-registry` (tests/helpers/registry.ts), then runs the pull
 * benchmark (`bench_pull.ts`, pushes its own big fixtures), the runtime benchmark (`bench_runtime.ts`, pushes
 * the busybox fixture) and the hot-path benchmark (`bench_hot.ts`: empty script, exec from the checkout and the
 * bundle, rootless `run --rm` against podman, interleaved) and the images-in-and-out benchmark (`bench_io.ts`:
 * push, re-push, save, load, commit against podman) and the pods benchmark (`bench_pods.ts`: pod create + two
 * members + pod rm -f, kube play + kube down, against podman) against it, and the idle-supervisor benchmark
 * (`bench_idle.ts`: memory per idle detached container, pod's supervisor against podman's conmon). Benchmarks
 * print numbers and ratios; they never assert.
 *
 *     deno run -A scripts/bench.ts [--pull] [--runtime] [--io] [--hot] [--pods] [--build] [--idle] [other flags]
 *
 * Without `--pull`/`--runtime`/`--io`/`--hot`/`--pods`/`--build`/`--idle` all seven run (`--build`:
 * `bench_build.ts`, pod build beside podman build).
 * @module
 */

import { startRegistry } from "../tests/helpers/registry.ts";
import { main as benchPull } from "./bench_pull.ts";
import { main as benchRuntime } from "./bench_runtime.ts";
import { main as benchHot } from "./bench_hot.ts";
import { main as benchIo } from "./bench_io.ts";
import { main as benchPods } from "./bench_pods.ts";
import { main as benchBuild } from "./bench_build.ts";
import { main as benchIdle } from "./bench_idle.ts";

const pull = Deno.args.includes("--pull");
const runtime = Deno.args.includes("--runtime");
const hot = Deno.args.includes("--hot");
const io = Deno.args.includes("--io");
const pods = Deno.args.includes("--pods");
const buildOnly = Deno.args.includes("--build");
const idle = Deno.args.includes("--idle");
const all = !pull && !runtime && !hot && !io && !pods && !buildOnly && !idle;
const reg = await startRegistry({ logLevel: "error" });
try {
  console.log(`registry ${reg.host} (docker-registry pid ${reg.pid})`);
  if (all || pull) {
    console.log("\n######## pull ########");
    await benchPull(reg);
  }
  if (all || runtime) {
    console.log("\n######## runtime ########");
    await benchRuntime(reg);
  }
  if (all || io) {
    console.log("\n######## images in and out ########");
    await benchIo(reg);
  }
  if (all || pods) {
    console.log("\n######## pods and kube ########");
    await benchPods(reg);
  }
  if (all || hot) {
    console.log("\n######## hot paths ########");
    await benchHot(reg);
  }
  if (all || buildOnly) {
    console.log("\n######## build ########");
    await benchBuild(reg);
  }
  if (all || idle) {
    console.log("\n######## idle supervisor ########");
    await benchIdle(reg);
  }
} finally {
  await reg.stop();
}
