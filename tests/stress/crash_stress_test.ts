/**
 * Stress: `pod pull` killed with SIGKILL after seeded random delays (~30 runs) while the fault proxy slows the
 * transfers, so kills land during the manifest, mid-layer, between layers and around the index update; `pod rmi`
 * killed the same way. After every kill: `pod images` works and lists the image only if it is whole, `pod system
 * check` passes; at the end a new pull works and no temp file of a dead process is left in the store.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busyboxTar, customImage, noise, seededRandom, tarTree } from "../helpers/fixtures.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { REGISTRY_TEST_ENV, tempPodHome } from "../helpers/pod.ts";
import { strayTemps } from "../helpers/store_listing.ts";

const available = await registryAvailable();
const SEED = Number(Deno.env.get("POD_STRESS_SEED") ?? 97);
const RUNS = Number(Deno.env.get("POD_STRESS_RUNS") ?? 30);

Deno.test({
  name: "stress crash: ~30 pulls and rmis killed at random points keep the store consistent",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const reg = await startRegistry();
    const proxy = await startFaultProxy(reg.url);
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    const root = h.home;
    const r = seededRandom(SEED);
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
      const first = await h.pod(["pull", "-q", ref]);
      assert.equal(first.code, 0, first.stderr);
      const span = Math.max(300, Date.now() - t0);
      const rm = await h.pod(["rmi", ref]);
      assert.equal(rm.code, 0, rm.stderr);

      let completed = 0, killed = 0;
      for (let i = 0; i < RUNS; i++) {
        const isRmi = i % 6 === 5;
        // a pull starts without the image (leftover blobs of killed runs stay), an rmi with it
        const have = (await h.pod(["images", "-q", "--no-trunc"])).stdout.includes(id);
        if (isRmi && !have) {
          const p = await h.pod(["pull", "-q", ref]);
          assert.equal(p.code, 0, p.stderr);
        } else if (!isRmi && have) {
          const x = await h.pod(["rmi", ref]);
          assert.equal(x.code, 0, x.stderr);
        }
        const delay = Math.floor(r() * (isRmi ? 300 : span * 0.8));
        const p = await h.startPod(isRmi ? ["rmi", ref] : ["pull", "-q", ref]);
        await new Promise((res) => setTimeout(res, delay));
        p.kill("SIGKILL");
        const res = await p.done;
        if (res.signal === "SIGKILL") killed++;
        else {
          assert.equal(res.code, 0, `run ${i}: ${res.stderr}`);
          completed++;
        }
        const imgs = await h.pod(["images", "-q", "--no-trunc"]);
        assert.equal(imgs.code, 0, `run ${i}: images: ${imgs.stderr}`);
        const chk = await h.pod(["system", "check"]);
        assert.equal(
          chk.code,
          0,
          `run ${i} (${isRmi ? "rmi" : "pull"} killed after ${delay} ms):\n${chk.stdout}`,
        );
        if (imgs.stdout.includes(id)) {
          // listed means whole: inspect reads manifest and config
          const ins = await h.pod(["inspect", "--format", "{{.Id}}", ref]);
          assert.equal(ins.code, 0, `run ${i}: listed image not usable: ${ins.stderr}`);
        }
      }
      assert.ok(killed >= RUNS / 3, `only ${killed} of ${RUNS} runs were killed mid-flight`);

      const last = await h.pod(["pull", "-q", ref]);
      assert.equal(last.code, 0, last.stderr);
      assert.equal(last.stdout.trim(), id);
      const chk = await h.pod(["system", "check"]);
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
      await h.cleanup();
    }
  },
});
