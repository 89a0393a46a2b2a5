/**
 * conmon2 (issue 13): the cost of a detached start under each supervisor — `pod start` of a created idle
 * container (`--network=none`, `sleep`), then `pod stop -t 0`, alternating conmon (the default) and the perl
 * supervisor (`POD_SUPERVISOR=perl`) in the same rounds; medians of the wall time of `start` and `stop`.
 *
 *     deno run -A scripts/bench_start_supervisor.ts [--rounds 10] [--modes root,rootless]
 *
 * Prints numbers and the ratio conmon ÷ perl; never asserts.
 * @module
 */

import { busybox } from "../tests/helpers/fixtures.ts";
import { tempPodHome } from "../tests/helpers/pod.ts";
import { startRegistry } from "../tests/helpers/registry.ts";
import { TEST_USER } from "../tests/helpers/rootless.ts";
import { argNum, argStr, median } from "./bench_runtime.ts";

const rounds = argNum("rounds", 10);
const modes = argStr("modes", "root,rootless").split(",");
const reg = await startRegistry();
try {
  const img = await busybox(reg);
  for (const mode of modes) {
    const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
    try {
      await h.pod(["pull", "-q", img.ref]);
      const sides = { conmon: {}, perl: { POD_SUPERVISOR: "perl" } } as Record<
        string,
        Record<string, string>
      >;
      const t: Record<string, { start: number[]; stop: number[] }> = {};
      for (const name of Object.keys(sides)) {
        t[name] = { start: [], stop: [] };
        const c = await h.pod(["create", "--network=none", "--name", name, img.ref, "sleep", "100000"]);
        if (c.code !== 0) throw new Error(c.stderr);
      }
      for (let r = 0; r < rounds; r++) {
        for (const [name, env] of Object.entries(sides)) {
          let t0 = performance.now();
          const s = await h.pod(["start", name], { env });
          t[name].start.push(performance.now() - t0);
          if (s.code !== 0) throw new Error(s.stderr);
          t0 = performance.now();
          await h.pod(["stop", "-t", "0", name], { env });
          t[name].stop.push(performance.now() - t0);
        }
      }
      console.log(`== detached start/stop, ${mode}, ${rounds} rounds (ms, median) ==`);
      console.log("            conmon    perl   ratio");
      for (const k of ["start", "stop"] as const) {
        const a = median(t.conmon[k]), b = median(t.perl[k]);
        console.log(
          `${k.padEnd(10)} ${a.toFixed(0).padStart(7)} ${b.toFixed(0).padStart(7)}   ${(a / b).toFixed(2)}`,
        );
      }
      await h.pod(["rm", "-f", "-t", "0", "-a"]);
    } finally {
      await h.cleanup();
    }
  }
} finally {
  await reg.stop();
}
