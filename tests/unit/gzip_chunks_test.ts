/**
 * The synchronous gzip driver (`gzipChunks`) and the reused-buffer stream reader (`reusedChunks`) that keep
 * `commit`'s memory flat: what they produce is exactly what went in, although both reuse their buffers.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { gzipChunks } from "../../lib/unpack/compress.ts";
import { reusedChunks } from "../../lib/unpack/chunks.ts";
import { storeGzipLayer } from "../../lib/image/layer_blob.ts";

/** 3 MiB of half-compressible data. */
function sample(): Uint8Array {
  const b = new Uint8Array(3 * 1024 * 1024 + 123);
  let x = 7;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 3 === 0 ? x >>> 24 : 65 + (i % 26);
  }
  return b;
}

/** `data` in chunks of varying sizes, every chunk a view of ONE reused buffer (overwritten afterwards). */
async function* reusedSource(data: Uint8Array): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(300 * 1024);
  const sizes = [1, 511, 4096, 300 * 1024, 77, 70000];
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - off);
    buf.set(data.subarray(off, off + n));
    yield buf.subarray(0, n);
    buf.fill(0xee); // a consumer that kept the view would see garbage
    off += n;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("gzipChunks: a reused source buffer and reused output chunks still give the input back", async () => {
  const data = sample();
  for (const level of [0, 1, 6]) {
    const parts: Uint8Array[] = [];
    for await (const c of gzipChunks(reusedSource(data), level)) parts.push(c.slice());
    const back = new Uint8Array(gunzipSync(concat(parts)));
    assert.equal(back.length, data.length, `level ${level}`);
    assert.ok(back.every((v, i) => v === data[i]), `level ${level}: content`);
  }
  // an empty stream is a valid empty gzip member
  const parts: Uint8Array[] = [];
  for await (const c of gzipChunks((async function* () {})(), 1)) parts.push(c.slice());
  assert.equal(gunzipSync(concat(parts)).length, 0);
});

Deno.test("storeGzipLayer: the blob is the gzip of the stream and the diff_id its sha256", async () => {
  const root = await Deno.makeTempDir({ prefix: "pod-gzip-" });
  try {
    const data = sample();
    const layer = await storeGzipLayer(root, reusedSource(data), "test layer");
    const want = "sha256:" + createHash("sha256").update(data).digest("hex");
    assert.equal(layer.diffId, want);
    const blob = await Deno.readFile(`${root}/blobs/sha256/${layer.digest.slice(7)}`);
    assert.equal(blob.length, layer.size);
    assert.equal("sha256:" + createHash("sha256").update(gunzipSync(blob)).digest("hex"), want);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("reusedChunks: a resource's byte stream read into one buffer yields every byte in order", async () => {
  const data = sample();
  const dir = await Deno.makeTempDir({ prefix: "pod-reused-" });
  try {
    await Deno.writeFile(`${dir}/f`, data);
    const f = await Deno.open(`${dir}/f`, { read: true });
    const h = createHash("sha256");
    let n = 0;
    for await (const c of reusedChunks(f.readable, 64 * 1024)) {
      assert.ok(c.byteLength <= 64 * 1024, "views of the one buffer");
      h.update(c);
      n += c.length;
    }
    assert.equal(n, data.length);
    assert.equal(h.digest("hex"), createHash("sha256").update(data).digest("hex"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeTarBlocks: the same bytes as writeTar, in full blocks of one reused buffer", async () => {
  const { writeTar, writeTarBlocks } = await import("../../lib/unpack/tar_write.ts");
  type E = import("../../lib/unpack/tar_write.ts").TarWriteEntry;
  const mtime = { sec: 1700000000, nsec: 0 };
  const base = { mode: 0o644, uid: 0, gid: 0, mtime };
  const data = sample();
  const entries = (): E[] => [
    { ...base, name: "d", type: "dir", mode: 0o755 },
    { ...base, name: "d/small", type: "file", size: 3, body: new Uint8Array([1, 2, 3]) },
    { ...base, name: "d/empty", type: "file", size: 0, body: new Uint8Array(0) },
    // a streamed body in odd chunks through a reused buffer
    { ...base, name: "d/big", type: "file", size: data.length, body: () => reusedSource(data) },
    // shrank while read: zero-filled to its size
    { ...base, name: "d/shrunk", type: "file", size: 5000, body: () => reusedSource(data.subarray(0, 1234)) },
    // grew while read: cut at its size
    { ...base, name: "d/grown", type: "file", size: 700, body: () => reusedSource(data.subarray(0, 9000)) },
    { ...base, name: "l", type: "symlink", linkname: "d/small" },
    {
      ...base,
      name: "x".repeat(150) + "/long-name-needs-pax",
      type: "file",
      size: 1,
      body: new Uint8Array([9]),
    },
    { ...base, name: "h", type: "hardlink", linkname: "d/small" },
  ];
  const want = concat(await Array.fromAsync(writeTar(entries()), (c) => c.slice()));
  for (const block of [512, 1000, 4096 + 7, 256 * 1024]) {
    const parts: Uint8Array[] = [];
    const all = await Array.fromAsync(writeTarBlocks(entries(), block), (c) => {
      parts.push(c);
      return c.slice();
    });
    const got = concat(all);
    assert.equal(got.length, want.length, `block ${block}: length`);
    assert.ok(got.every((v, i) => v === want[i]), `block ${block}: bytes`);
    assert.ok(all.slice(0, -1).every((c) => c.length === block), `block ${block}: full blocks`);
    assert.ok(parts.every((p) => p.buffer === parts[0].buffer), `block ${block}: one buffer`);
  }
});
