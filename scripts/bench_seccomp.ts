/**
 * What the default seccomp filter adds to `run --rm IMAGE true`: root and rootless, the default profile
 * (filter cached in the store after the first run) against `--security-opt seccomp=unconfined`,
 * interleaved, medians and the difference. Prints numbers; never asserts.
 *
 *     deno run -A scripts/bench_seccomp.ts [--runs N]
 * @module
 */

import { startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";
import { tempPodHome } from "../tests/helpers/pod.ts";
import { rootlessAvailable, TEST_USER } from "../tests/helpers/rootless.ts";

const i = Deno.args.indexOf("--runs");
const runs = i >= 0 ? Number(Deno.args[i + 1]) : 15;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const reg = await startRegistry({ logLevel: "error" });
try {
  const img = await busybox(reg);
  const modes = [{ name: "root", user: undefined as string | undefined }];
  if (await rootlessAvailable()) modes.push({ name: "rootless", user: TEST_USER });
  for (const m of modes) {
    const h = await tempPodHome({ user: m.user });
    try {
      await h.pod(["pull", "-q", img.ref]);
      const variants: Record<string, string[]> = {
        "default seccomp": [],
        "seccomp=unconfined": ["--security-opt", "seccomp=unconfined"],
      };
      const times: Record<string, number[]> = {};
      for (const [k, flags] of Object.entries(variants)) {
        times[k] = [];
        await h.pod(["run", "--rm", ...flags, img.ref, "true"]); // warm: tree built, filter cached
      }
      for (let r = 0; r < runs; r++) {
        for (const [k, flags] of Object.entries(variants)) {
          const t0 = performance.now();
          const res = await h.pod(["run", "--rm", ...flags, img.ref, "true"]);
          times[k].push(performance.now() - t0);
          if (res.code !== 0) throw new Error(`${k}: ${res.stderr}`);
        }
      }
      const a = median(times["default seccomp"]), b = median(times["seccomp=unconfined"]);
      console.log(
        `${m.name.padEnd(9)} run --rm true, median of ${runs}: default seccomp ${a.toFixed(1)} ms, ` +
          `unconfined ${b.toFixed(1)} ms, difference ${(a - b).toFixed(1)} ms`,
      );
    } finally {
      await h.cleanup();
    }
  }
} finally {
  await reg.stop();
}
