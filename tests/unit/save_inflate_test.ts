/** Unit tests of lib/image/save_inflate.ts: the gzip trailer's size, and layers dealt into lanes. */
import assert from "node:assert/strict";
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import { dealLanes, gzipTrailerSize } from "../../lib/image/save_inflate.ts";

Deno.test("gzipTrailerSize: the plain size of a gzip file; undefined for one too short", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pod-unit-inflate-" });
  try {
    for (const n of [0, 1, 70_000, 1_000_003]) {
      const gz = await promisify(gzip)(new Uint8Array(n).fill(7));
      await Deno.writeFile(`${dir}/l.gz`, gz);
      assert.equal(await gzipTrailerSize(`${dir}/l.gz`), n);
    }
    await Deno.writeFile(`${dir}/short`, new Uint8Array(17));
    assert.equal(await gzipTrailerSize(`${dir}/short`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dealLanes: largest first, each to the least loaded lane; never an empty lane", () => {
  const jobs = [2, 38, 38, 38, 38].map((size, i) => ({ size, i }));
  const lanes = dealLanes(jobs, 2);
  assert.deepEqual(lanes.map((l) => l.map((j) => j.size)), [[38, 38, 2], [38, 38]]);
  assert.equal(lanes.flat().length, jobs.length);
  assert.deepEqual(dealLanes([{ size: 5 }], 4), [[{ size: 5 }]]);
  assert.deepEqual(dealLanes([], 2), []);
  assert.deepEqual(dealLanes([{ size: 9 }, { size: 1 }, { size: 1 }], 2).map((l) => l.length), [1, 2]);
});
