/**
 * Crash safety of `pod pull` and `pod rmi`: the CLI process is killed (SIGKILL) at chosen points — while the
 * manifest is being fetched, mid-layer, after one layer is stored but before the image is registered — and
 * interrupted with SIGINT. Afterwards `pod images` works and lists no half image, `pod system check` passes, a new
 * pull works, and temp files left behind are cleaned by the next run. Kill points are chosen by watching the
 * fault proxy (a stalled answer holds the pull at a known place), not by timing.
 * (`tests/stress/crash_stress_test.ts` adds ~30 kills after random delays.)
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox, customImage, noise, tarTree } from "../helpers/fixtures.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault_proxy.ts";
import { type PodResult, REGISTRY_TEST_ENV, type TempPodHome, tempPodHome } from "../helpers/pod.ts";
import { strayTemps } from "../helpers/store_listing.ts";

const available = await registryAvailable();

/** Polls `cond` every 20 ms for at most `ms`; throws when it never holds. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function tmpEntries(root: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(`${root}/tmp`))).map((e) => e.name);
  } catch {
    return [];
  }
}

/** The store invariants after a crash; `names` are image names that must not be listed. */
async function assertConsistent(h: TempPodHome, absent: string[], present: string[] = []) {
  const imgs = await h.pod(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
  assert.equal(imgs.code, 0, imgs.stderr);
  for (const n of absent) assert.ok(!imgs.stdout.includes(n), `half image ${n} listed:\n${imgs.stdout}`);
  for (const n of present) assert.ok(imgs.stdout.includes(n), `${n} missing:\n${imgs.stdout}`);
  const chk = await h.pod(["system", "check"]);
  assert.equal(chk.code, 0, `system check:\n${chk.stdout}${chk.stderr}`);
}

Deno.test({
  name: "crash: SIGKILL/SIGINT during pull and rmi leave a consistent store",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const reg = await startRegistry();
    const proxy: FaultProxy = await startFaultProxy(reg.url);
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    const root = h.home;
    try {
      const base = await busybox(reg);
      const small = await tarTree({ "small.txt": "small layer\n" });
      const img = await customImage(reg, {
        repo: "test/two",
        layers: [{ tar: small, compression: "gzip" }, {
          tar: await tarTree({ "big.bin": noise(1_200_000, 3) }),
          compression: "none",
        }],
      });
      const [smallLayer, bigLayer] = img.layers;
      const P = proxy.host;
      const ref = `${P}/test/two:latest`;
      const name = `${P}/test/two`;
      const ok = await h.pod(["pull", "-q", `${P}/test/busybox:latest`]);
      assert.equal(ok.code, 0, ok.stderr);

      const pullKilledAt = async (
        label: string,
        rule: Parameters<FaultProxy["add"]>[0],
        ready: () => boolean | Promise<boolean>,
        sig: Deno.Signal = "SIGKILL",
      ): Promise<PodResult> => {
        proxy.reset();
        proxy.add(rule);
        const p = await h.startPod(["pull", ref]);
        try {
          await until(ready, label);
        } catch (e) {
          p.kill("SIGKILL");
          await p.done;
          throw e;
        }
        p.kill(sig);
        const r = await p.done;
        proxy.reset();
        return r;
      };

      await t.step("killed while the manifest is in flight", async () => {
        const r = await pullKilledAt(
          "manifest request",
          { when: "manifest", fault: { stallMs: 60_000 } },
          () => proxy.seen.some((s) => s.fault === "stallMs"),
        );
        assert.equal(r.signal, "SIGKILL");
        await assertConsistent(h, [name], ["test/busybox"]);
      });

      await t.step("killed mid-layer: a temp blob is left, cleaned by the next run", async () => {
        const r = await pullKilledAt(
          "a partial layer in tmp/",
          {
            when: (_r, u) => u.pathname.endsWith(bigLayer.digest),
            fault: { stallMs: 60_000, afterBytes: 400_000 },
          },
          async () =>
            proxy.seen.some((s) => s.fault === "stallMs") &&
            (await tmpEntries(root)).some((n) => n.startsWith(".blob-")) &&
            (await Deno.stat(`${root}/tmp`).then(() => true)),
        );
        assert.equal(r.signal, "SIGKILL");
        assert.ok(
          (await strayTemps(root)).length > 0,
          "the kill left temp files (else the test proves nothing)",
        );
        await assertConsistent(h, [name], ["test/busybox"]);
      });

      await t.step("killed after one layer is stored, before the image is registered", async () => {
        const r = await pullKilledAt(
          "the small layer committed",
          {
            when: (_r, u) => u.pathname.endsWith(bigLayer.digest),
            fault: { stallMs: 60_000, afterBytes: 1000 },
          },
          async () => {
            try {
              await Deno.stat(`${root}/blobs/sha256/${smallLayer.digest.slice(7)}`);
              return proxy.seen.some((s) => s.fault === "stallMs");
            } catch {
              return false;
            }
          },
        );
        assert.equal(r.signal, "SIGKILL");
        await assertConsistent(h, [name], ["test/busybox"]);
      });

      await t.step("SIGINT mid-layer exits 130, removes its temp files, leaves no half image", async () => {
        const r = await pullKilledAt(
          "a partial layer",
          {
            when: (_r, u) => u.pathname.endsWith(bigLayer.digest),
            fault: { stallMs: 60_000, afterBytes: 400_000 },
          },
          () => proxy.seen.some((s) => s.fault === "stallMs"),
          "SIGINT",
        );
        assert.equal(r.signal, null, `pull should handle SIGINT itself; stderr:\n${r.stderr}`);
        assert.equal(r.code, 130, r.stderr);
        assert.deepEqual(await strayTemps(root), [], "SIGINT cleans this process's temp files at once");
        await assertConsistent(h, [name], ["test/busybox"]);
      });

      await t.step("a new pull works and cleans the leftovers", async () => {
        const r = await h.pod(["pull", "-q", ref]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), img.configDigest.slice(7));
        assert.deepEqual(await tmpEntries(root), [], "tmp/ cleaned");
        assert.deepEqual(await strayTemps(root), [], "no temp files left anywhere in the store");
        await assertConsistent(h, [], ["test/busybox", "test/two"]);
      });

      await t.step("rmi killed at random points never breaks the store", async () => {
        for (let i = 0; i < 6; i++) {
          // re-pull when a previous rmi finished
          const pr = await h.pod(["pull", "-q", ref]);
          assert.equal(pr.code, 0, pr.stderr);
          const p = await h.startPod(["rmi", ref]);
          await new Promise((r) => setTimeout(r, 150 + i * 60));
          p.kill("SIGKILL");
          await p.done;
          await assertConsistent(h, [], ["test/busybox"]);
        }
        const last = await h.pod(["rmi", ref]);
        assert.ok(last.code === 0 || /image not known/.test(last.stderr), last.stderr);
        await assertConsistent(h, [name], ["test/busybox"]);
        // the busybox layer still verifies and the image can be pulled again
        const again = await h.pod(["pull", "-q", ref]);
        assert.equal(again.code, 0, again.stderr);
        assert.ok(base.layers.length === 1);
      });
    } finally {
      await proxy.stop();
      await reg.stop();
      await h.cleanup();
    }
  },
});
