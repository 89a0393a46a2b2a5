import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  blobPath,
  hasBlob,
  openBlobWriter,
  putBlobBytes,
  readBlob,
  verifyBlob,
  writeBlobFromStream,
} from "../../lib/store/blobs.ts";
import { concat } from "../helpers/tarwriter.ts";

const sha = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");

async function withRoot(fn: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "pod-blobs-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function streamOf(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
}

const tmpLeft = (root: string) => [...Deno.readDirSync(`${root}/tmp`)].map((e) => e.name);

Deno.test("blobs: put, has, read, verify", async () => {
  await withRoot(async (root) => {
    const data = new TextEncoder().encode("hello blob");
    const d = await putBlobBytes(root, data);
    assert.equal(d, sha(data));
    assert.ok(await hasBlob(root, d));
    assert.deepEqual(await readBlob(root, d), data);
    assert.ok(await verifyBlob(root, d));
    await assert.rejects(readBlob(root, d, 3), /too large/);
    assert.equal(await putBlobBytes(root, data), d); // idempotent
    await Deno.writeTextFile(blobPath(root, d), "tampered");
    assert.equal(await verifyBlob(root, d), false);
    assert.equal(await verifyBlob(root, "sha256:" + "0".repeat(64)), false);
    assert.deepEqual(tmpLeft(root), []);
  });
});

Deno.test("blobs: stream write verifies size and digest, leaves nothing on failure", async () => {
  await withRoot(async (root) => {
    const a = new Uint8Array(100_000).fill(7);
    const b = new Uint8Array(5).fill(9);
    const all = new Uint8Array([...a, ...b]);
    const d = sha(all);
    await writeBlobFromStream(root, d, all.length, streamOf(a, b));
    assert.ok(await verifyBlob(root, d));
    // exists: not written again
    await writeBlobFromStream(root, d, all.length, streamOf(new Uint8Array(1)));
    assert.ok(await verifyBlob(root, d));

    const other = sha(a);
    await assert.rejects(writeBlobFromStream(root, other, a.length - 1, streamOf(a)), /more data/);
    await assert.rejects(writeBlobFromStream(root, other, a.length + 1, streamOf(a)), /got 100000 bytes/);
    await assert.rejects(writeBlobFromStream(root, other, 5, streamOf(b)), /digest mismatch/);
    assert.equal(await hasBlob(root, other), false);
    assert.deepEqual(tmpLeft(root), []);
    await assert.rejects(writeBlobFromStream(root, "sha256:nope", 1, streamOf(b)), /invalid digest/);
  });
});

Deno.test("blobs: writer reset starts again from 0", async () => {
  await withRoot(async (root) => {
    const data = new TextEncoder().encode("abcdef");
    const w = await openBlobWriter(root, sha(data), data.length);
    await w.write(new TextEncoder().encode("xyz"));
    assert.equal(w.written, 3);
    await w.reset();
    assert.equal(w.written, 0);
    await w.write(data);
    await w.commit();
    assert.deepEqual(await readBlob(root, sha(data)), data);
    await w.abort(); // no-op after commit
  });
});

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(new Uint8Array(c)); // copied: the chunks may share one buffer
  return concat(parts);
}

const tick = () => new Promise((r) => setTimeout(r, 2));

Deno.test("blobs: follow reads a blob while it is written, across a reset, and after the commit", async () => {
  await withRoot(async (root) => {
    const data = new Uint8Array(700_000).map((_, i) => (i * 7) & 0xff);
    const w = await openBlobWriter(root, sha(data), data.length);
    const first = collect(w.follow()); // from before the first byte
    await w.write(data.subarray(0, 300_000));
    await tick();
    await w.reset(); // the registry ignored a Range: the bytes come again from 0
    const second = collect(w.follow(true)); // from after the reset, one reused buffer
    for (let off = 0; off < data.length; off += 99_999) {
      await w.write(data.subarray(off, Math.min(off + 99_999, data.length)));
      await tick();
    }
    await w.commit();
    assert.deepEqual(await first, data);
    assert.deepEqual(await second, data);
    assert.deepEqual(await collect(w.follow()), data); // after the commit: from the final path
  });
});

Deno.test("blobs: follow fails when the write is aborted or does not verify", async () => {
  await withRoot(async (root) => {
    const data = new Uint8Array(1000).fill(3);
    const w = await openBlobWriter(root, sha(data), data.length);
    const seen = collect(w.follow());
    seen.catch(() => {}); // checked below
    await w.write(data.subarray(0, 500));
    await tick();
    await w.abort();
    await assert.rejects(seen, /download failed/);
    await assert.rejects(collect(w.follow()), /download failed/);

    const bad = await openBlobWriter(root, sha(data), data.length);
    const seen2 = collect(bad.follow());
    seen2.catch(() => {}); // checked below
    await bad.write(new Uint8Array(1000).fill(4));
    await assert.rejects(bad.commit(), /digest mismatch/);
    await assert.rejects(seen2, /download failed/);
    assert.deepEqual(tmpLeft(root), []);
  });
});
