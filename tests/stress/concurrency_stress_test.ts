/**
 * Stress: rounds of concurrent pulls and removals of images that share layers, on one store, with seeded random
 * start delays. Image `wide` has many small layers so its `rmi` garbage collection takes a while and overlaps the
 * pulls; the others share its base layers. After every round `pod system check` passes (every listed image's
 * blobs exist and verify) and every image a finished pull reported is listed and usable.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busyboxTar, customImage, type PushedImage, seededRandom, tarTree } from "../helpers/fixtures.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { type PodResult, REGISTRY_TEST_ENV, tempPodHome } from "../helpers/pod.ts";

const available = await registryAvailable();
const SEED = Number(Deno.env.get("POD_STRESS_SEED") ?? 4711);
const ROUNDS = Number(Deno.env.get("POD_STRESS_ROUNDS") ?? 12);

Deno.test({
  name: "stress concurrency: racing pulls and rmis of images sharing layers keep the store consistent",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const reg = await startRegistry();
    const proxy = await startFaultProxy(reg.url);
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    const r = seededRandom(SEED);
    try {
      const base = await busyboxTar();
      const common = await tarTree({ "common.txt": "shared second layer\n" });
      const wideLayers: Uint8Array[] = [base, common];
      for (let i = 0; i < 30; i++) wideLayers.push(await tarTree({ [`w/${i}`]: `wide ${i}\n` }));
      const images: PushedImage[] = [await customImage(reg, { repo: "test/wide", layers: wideLayers })];
      for (let i = 0; i < 3; i++) {
        images.push(
          await customImage(reg, {
            repo: `test/narrow${i}`,
            layers: [base, common, await tarTree({ [`n${i}`]: `narrow ${i}\n` })],
          }),
        );
      }
      const refOf = (im: PushedImage) => `${proxy.host}/${im.repo}:latest`;
      proxy.add({ when: "blob", fault: { throttle: { chunk: 64 * 1024, delayMs: 2 } } });

      for (let round = 0; round < ROUNDS; round++) {
        // start: a random subset present
        for (const im of images) {
          if (r() < 0.5) {
            const p = await h.pod(["pull", "-q", refOf(im)]);
            assert.equal(p.code, 0, p.stderr);
          }
        }
        const ops: { kind: "pull" | "rmi"; im: PushedImage; run: Promise<PodResult> }[] = [];
        for (const im of images) {
          const kind = r() < 0.5 ? "pull" : "rmi";
          const delay = Math.floor(r() * 300);
          const run = new Promise<void>((res) => setTimeout(res, delay)).then(() =>
            h.pod(kind === "pull" ? ["pull", "-q", refOf(im)] : ["rmi", "-f", refOf(im)])
          );
          ops.push({ kind, im, run });
        }
        const results = await Promise.all(ops.map((o) => o.run));
        const listed = (await h.pod(["images", "-q", "--no-trunc"])).stdout;
        for (const [i, o] of ops.entries()) {
          const res = results[i];
          if (o.kind === "pull") {
            assert.equal(res.code, 0, `round ${round}: pull ${o.im.repo}: ${res.stderr}`);
            assert.ok(
              listed.includes(o.im.configDigest.slice(7)),
              `round ${round}: ${o.im.repo} pulled, not listed`,
            );
            const ins = await h.pod(["inspect", "--format", "{{.Id}}", refOf(o.im)]);
            assert.equal(ins.code, 0, `round ${round}: ${o.im.repo}: ${ins.stderr}`);
          } else {
            // rmi -f of an image that is not there is fine; anything else must succeed
            assert.ok(res.code === 0 || /image not known/.test(res.stderr), `round ${round}: ${res.stderr}`);
          }
        }
        const chk = await h.pod(["system", "check"]);
        assert.equal(
          chk.code,
          0,
          `round ${round}: ${ops.map((o) => `${o.kind} ${o.im.repo}`).join(", ")}\n${chk.stdout}`,
        );
      }
    } finally {
      await proxy.stop();
      await reg.stop();
      await h.cleanup();
    }
  },
});
