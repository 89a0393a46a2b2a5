/**
 * `pod system check [--repair]`: a flipped byte in a stored layer and a missing blob are reported (exit 125),
 * `--repair` removes what is broken (and only that), and a later pull restores the image.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox, customImage, tarTree } from "../helpers/fixtures.ts";
import { REGISTRY_TEST_ENV, tempPodHome } from "../helpers/pod.ts";

const available = await registryAvailable();

Deno.test({
  name: "system check: corrupt and missing blobs are found, --repair fixes the store, pull restores it",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const reg = await startRegistry();
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    const root = h.home;
    try {
      const bb = await busybox(reg);
      const other = await customImage(reg, {
        repo: "test/other",
        layers: [await tarTree({ "other.txt": "other image\n" })],
      });
      for (const im of [bb, other]) {
        const r = await h.pod(["pull", "-q", im.ref]);
        assert.equal(r.code, 0, r.stderr);
      }
      const clean = await h.pod(["system", "check"]);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.match(clean.stdout, /no problems/);

      // 1. flip one byte in the busybox layer
      const layer = bb.layers[0].digest;
      const path = `${root}/blobs/sha256/${layer.slice(7)}`;
      const f = await Deno.open(path, { read: true, write: true });
      const one = new Uint8Array(1);
      await f.seek(1000, Deno.SeekMode.Start);
      await f.read(one);
      one[0] ^= 0x01;
      await f.seek(1000, Deno.SeekMode.Start);
      await f.write(one);
      f.close();

      const bad = await h.pod(["system", "check"]);
      assert.equal(bad.code, 125, bad.stdout + bad.stderr);
      assert.ok(bad.stdout.includes(layer), `the corrupt blob is named:\n${bad.stdout}`);
      assert.match(bad.stdout, new RegExp(`broken image: ${bb.ref.replace(/[.]/g, "\\.")}`));
      assert.ok(!bad.stdout.includes("test/other"), "the intact image is not reported");
      assert.match(bad.stderr, /^Error: .*--repair/m);
      assert.equal(bad.stderr.trim().split("\n").length, 1, "one-line error");

      const fix = await h.pod(["system", "check", "--repair"]);
      assert.equal(fix.code, 0, fix.stdout + fix.stderr);
      assert.match(fix.stdout, new RegExp(`removed blob ${layer}`));
      const after = await h.pod(["system", "check"]);
      assert.equal(after.code, 0, after.stdout + after.stderr);
      const imgs = await h.pod(["images", "--format", "{{.Repository}}"]);
      assert.equal(imgs.code, 0, imgs.stderr);
      assert.ok(!imgs.stdout.includes("test/busybox"), `broken image removed:\n${imgs.stdout}`);
      assert.ok(imgs.stdout.includes("test/other"), `intact image kept:\n${imgs.stdout}`);
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound);

      // 2. a later pull restores it, with a verified layer
      const again = await h.pod(["pull", "-q", bb.ref]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), bb.configDigest.slice(7));
      assert.deepEqual(await Deno.readFile(path), bb.layers[0].blob);
      const ok = await h.pod(["system", "check"]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);

      // 3. a missing config blob: the image is reported broken and repaired away
      await Deno.remove(`${root}/blobs/sha256/${other.configDigest.slice(7)}`);
      const miss = await h.pod(["system", "check"]);
      assert.equal(miss.code, 125, miss.stdout + miss.stderr);
      assert.match(miss.stdout, /test\/other.*missing|missing.*test\/other/s);
      const fix2 = await h.pod(["system", "check", "--repair"]);
      assert.equal(fix2.code, 0, fix2.stdout + fix2.stderr);
      const final = await h.pod(["system", "check"]);
      assert.equal(final.code, 0, final.stdout + final.stderr);
      const imgs2 = await h.pod(["images", "--format", "{{.Repository}}"]);
      assert.ok(imgs2.stdout.includes("test/busybox") && !imgs2.stdout.includes("test/other"), imgs2.stdout);
      // its now-unreferenced layer was collected
      await assert.rejects(
        Deno.stat(`${root}/blobs/sha256/${other.layers[0].digest.slice(7)}`),
        Deno.errors.NotFound,
      );
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});
