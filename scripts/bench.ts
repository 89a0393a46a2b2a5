/**
 * `deno task bench`: starts one local `docker-registry` (tests/helpers/registry.ts), then runs the pull
 * benchmark (`bench_pull.ts`, pushes its own big fixtures) and the runtime benchmark (`bench_runtime.ts`, pushes
 * the busybox fixture) against it. Benchmarks print numbers and ratios; they never assert.
 *
 *     deno run -A scripts/bench.ts [--pull] [--runtime] [other flags of the two scripts]
 *
 * Without `--pull`/`--runtime` both run.
 * @module
 */

import { startRegistry } from "../tests/helpers/registry.ts";
import { main as benchPull } from "./bench_pull.ts";
import { main as benchRuntime } from "./bench_runtime.ts";

const pull = Deno.args.includes("--pull");
const runtime = Deno.args.includes("--runtime");
const both = !pull && !runtime;
const reg = await startRegistry({ logLevel: "error" });
try {
  console.log(`registry ${reg.host} (docker-registry pid ${reg.pid})`);
  if (both || pull) {
    console.log("\n######## pull ########");
    await benchPull(reg);
  }
  if (both || runtime) {
    console.log("\n######## runtime ########");
    await benchRuntime(reg);
  }
} finally {
  await reg.stop();
}
