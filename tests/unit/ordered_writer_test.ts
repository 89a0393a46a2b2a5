/** Unit tests of lib/image/ordered_writer.ts: `save`'s write-behind keeps bytes and order, and fails loudly. */
import assert from "node:assert/strict";
import { ORDERED_BUFFER, ORDERED_POOL, OrderedWriter } from "../../lib/image/ordered_writer.ts";

Deno.test("OrderedWriter: chunks of every size land in order; the caller may reuse its buffer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pod-unit-ow-" });
  try {
    const path = `${dir}/out`;
    const f = await Deno.open(path, { write: true, create: true });
    const w = new OrderedWriter(f);
    const scratch = new Uint8Array(ORDERED_BUFFER * 2 + 7); // reused for every chunk, as a decompressor's
    // sizes around the buffer size and beyond the pool, so buffers are recycled many times
    const sizes = [0, 1, 511, ORDERED_BUFFER - 1, ORDERED_BUFFER, ORDERED_BUFFER + 1, 3, scratch.length];
    const rounds = 2 * ORDERED_POOL;
    const want = new Uint8Array(rounds * sizes.reduce((a, b) => a + b, 0));
    crypto.getRandomValues(want.subarray(0, 65536));
    for (let i = 65536; i < want.length; i += 65536) want.copyWithin(i, i - 65536 + 7, i + 7);
    let pos = 0;
    for (let round = 0; round < rounds; round++) {
      for (const n of sizes) {
        scratch.set(want.subarray(pos, pos + n));
        await w.write(scratch.subarray(0, n));
        scratch.fill(0xee); // the writer must have copied what it did not write yet
        pos += n;
      }
    }
    assert.equal(w.position, want.length);
    await w.flush();
    // after flush, a seek writes where told (save's header rewrite)
    await f.seek(0, Deno.SeekMode.Start);
    await f.write(new Uint8Array([want[0] ^ 0xff]));
    want[0] ^= 0xff;
    f.close();
    const got = await Deno.readFile(path);
    assert.equal(got.length, want.length);
    assert.ok(got.every((b, i) => b === want[i]), "bytes differ");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OrderedWriter: a failed write surfaces from a later write or flush, not as an unhandled rejection", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pod-unit-ow-" });
  try {
    await Deno.writeTextFile(`${dir}/ro`, "");
    const f = await Deno.open(`${dir}/ro`, { read: true }); // not open for writing: every write fails
    const w = new OrderedWriter(f);
    const chunk = new Uint8Array(ORDERED_BUFFER);
    await assert.rejects(async () => {
      for (let i = 0; i < 4 * ORDERED_POOL; i++) await w.write(chunk);
      await w.flush();
    });
    await assert.rejects(() => w.flush());
    f.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
