/** Unit tests of lib/image/save_inflate.ts: the gzip trailer's size, and layers dealt into lanes. */
import assert from "node:assert/strict";
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import { dealLanes, gzipTrailerSize } from "../../lib/image/save_inflate.ts";

Deno.test("gzipTrailerSize: the plain size of a gzip file; undefined for one too short, or larger than deflate makes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pod-unit-inflate-" });
  try {
    for (const n of [0, 1, 70_000, 1_000_003]) {
      const gz = await promisify(gzip)(new Uint8Array(n).fill(7));
      await Deno.writeFile(`${dir}/l.gz`, gz);
      assert.equal(await gzipTrailerSize(`${dir}/l.gz`), n);
    }
    await Deno.writeFile(`${dir}/short`, new Uint8Array(17));
    assert.equal(await gzipTrailerSize(`${dir}/short`), undefined);
    // incompressible data stored: the blob is larger than its plain size, and still plausible
    const noise = new Uint8Array(200_000);
    for (let i = 0; i < noise.length; i += 65536) crypto.getRandomValues(noise.subarray(i, i + 65536));
    await Deno.writeFile(`${dir}/noise.gz`, await promisify(gzip)(noise, { level: 0 }));
    assert.equal(await gzipTrailerSize(`${dir}/noise.gz`), noise.length);
    // a big member then an empty one (eStargz's footer): the trailer's 0 cannot be the whole's size
    const big = await promisify(gzip)(noise);
    const empty = await promisify(gzip)(new Uint8Array(0));
    const two = new Uint8Array(big.length + empty.length);
    two.set(big);
    two.set(empty, big.length);
    await Deno.writeFile(`${dir}/two.gz`, two);
    assert.equal(await gzipTrailerSize(`${dir}/two.gz`), undefined);
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
