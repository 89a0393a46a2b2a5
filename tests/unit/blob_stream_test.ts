/**
 * `storeBlobStream` with `later`: the flush to disk and the rename are the caller's to await, and a blob is
 * never visible under its digest before it was fsynced (the store's invariant), nor left behind as a temp
 * file when the stream fails.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hasBlob, storeBlobStream } from "../../lib/store/blobs.ts";

async function* chunks(data: Uint8Array, fail = false): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += 65536) yield data.subarray(off, off + 65536);
  if (fail) throw new Error("source broke");
}

function tmpFiles(root: string): string[] {
  try {
    return [...Deno.readDirSync(`${root}/tmp`)].map((e) => e.name);
  } catch {
    return [];
  }
}

Deno.test("storeBlobStream later: the blob lands when the handed promise resolves; a failed stream leaves nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "pod-blobs-" });
  try {
    const data = new Uint8Array(1 << 20).map((_, i) => i * 7);
    const digest = "sha256:" + createHash("sha256").update(data).digest("hex");
    const pending: Promise<void>[] = [];
    const b = await storeBlobStream(root, chunks(data), { later: (p) => void pending.push(p) });
    assert.equal(b.digest, digest);
    assert.equal(b.created, true);
    assert.equal(pending.length, 1, "the flush is handed over");
    await Promise.all(pending);
    assert.ok(await hasBlob(root, digest));
    assert.deepEqual(await Deno.readFile(`${root}/blobs/sha256/${digest.slice(7)}`), data);
    assert.deepEqual(tmpFiles(root), []);
    // the same bytes again: not created, nothing handed over
    const again = await storeBlobStream(root, chunks(data), { later: (p) => void pending.push(p) });
    assert.equal(again.created, false);
    assert.equal(pending.length, 1);
    // a stream that fails: an error, no blob, no temp file
    const other = data.map((v) => v ^ 0xff);
    await assert.rejects(
      storeBlobStream(root, chunks(other, true), { later: (p) => void pending.push(p) }),
      /source broke/,
    );
    assert.equal(pending.length, 1);
    assert.deepEqual(tmpFiles(root), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
