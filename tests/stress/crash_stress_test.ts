/**
 * Stress: `pod pull` killed with SIGKILL after seeded random delays (~30 runs) while the fault proxy slows the
 * transfers, so kills land during the manifest, mid-layer, between layers and around the index update; `pod rmi`
 * killed the same way. After every kill: `pod images` works and lists the image only if it is whole, `pod system
 * check` passes; at the end a new pull works and no temp file of a dead process is left in the store.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busyboxTar, customImage, tarTree } from "../helpers/fixtures.ts";
import { runPod, snapshotStore, spawnPod, startFaultProxy, testEnv } from "../helpers/fault_proxy.ts";

const available = await registryAvailable();
const SEED = Number(Deno.env.get("POD_STRESS_SEED") ?? 97);
const RUNS = Number(Deno.env.get("POD_STRESS_RUNS") ?? 30);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function strayTemps(root: string): Promise<string[]> {
  return (await snapshotStore(root)).map((l) => l.split(" ")[0]).filter((p) => /(^|\/)\.[a-z]+-\d+-/.test(p));
}

Deno.test({
  name: "stress crash: ~30 pulls and rmis killed at random points keep the store consistent",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const reg = await startRegistry();
    const proxy = await startFaultProxy(reg.url);
    const { dir, env } = await testEnv("pod-crash-stress-");
    const root = env.POD_HOME;
    const r = rng(SEED);
    try {
      const shared = await busyboxTar();
      const img = await customImage(reg, {
        repo: "test/three",
        layers: [
          shared,
          await tarTree({ "mid.bin": noise(300_000, 5) }),
          { tar: await tarTree({ "big.bin": noise(800_000, 9) }), compression: "none" },
        ],
      });
      const ref = `${proxy.host}/test/three:latest`;
      const id = img.configDigest.slice(7);
      proxy.add({ when: "blob", fault: { throttle: { chunk: 32 * 1024, delayMs: 4 } } });

      // how long an undisturbed pull takes here: the kill delays are spread over that span (not asserted)
      const t0 = Date.now();
      const first = await runPod(["pull", "-q", ref], env);
      assert.equal(first.code, 0, first.stderr);
      const span = Math.max(300, Date.now() - t0);
      const rm = await runPod(["rmi", ref], env);
      assert.equal(rm.code, 0, rm.stderr);

      let completed = 0, killed = 0;
      for (let i = 0; i < RUNS; i++) {
        const isRmi = i % 6 === 5;
        // a pull starts without the image (leftover blobs of killed runs stay), an rmi with it
        const have = (await runPod(["images", "-q", "--no-trunc"], env)).stdout.includes(id);
        if (isRmi && !have) {
          const p = await runPod(["pull", "-q", ref], env);
          assert.equal(p.code, 0, p.stderr);
        } else if (!isRmi && have) {
          const x = await runPod(["rmi", ref], env);
          assert.equal(x.code, 0, x.stderr);
        }
        const delay = Math.floor(r() * (isRmi ? 300 : span * 0.8));
        const p = spawnPod(isRmi ? ["rmi", ref] : ["pull", "-q", ref], env);
        await new Promise((res) => setTimeout(res, delay));
        p.kill("SIGKILL");
        const res = await p.done;
        if (res.signal === "SIGKILL") killed++;
        else {
          assert.equal(res.code, 0, `run ${i}: ${res.stderr}`);
          completed++;
        }
        const imgs = await runPod(["images", "-q", "--no-trunc"], env);
        assert.equal(imgs.code, 0, `run ${i}: images: ${imgs.stderr}`);
        const chk = await runPod(["system", "check"], env);
        assert.equal(
          chk.code,
          0,
          `run ${i} (${isRmi ? "rmi" : "pull"} killed after ${delay} ms):\n${chk.stdout}`,
        );
        if (imgs.stdout.includes(id)) {
          // listed means whole: inspect reads manifest and config
          const ins = await runPod(["inspect", "--format", "{{.Id}}", ref], env);
          assert.equal(ins.code, 0, `run ${i}: listed image not usable: ${ins.stderr}`);
        }
      }
      assert.ok(killed >= RUNS / 3, `only ${killed} of ${RUNS} runs were killed mid-flight`);

      const last = await runPod(["pull", "-q", ref], env);
      assert.equal(last.code, 0, last.stderr);
      assert.equal(last.stdout.trim(), id);
      const chk = await runPod(["system", "check"], env);
      assert.equal(chk.code, 0, chk.stdout);
      assert.deepEqual(
        await strayTemps(root),
        [],
        "temp files of killed processes were cleaned by the next run",
      );
      console.log(`${RUNS} runs: ${killed} killed, ${completed} completed`);
    } finally {
      await proxy.stop();
      await reg.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
