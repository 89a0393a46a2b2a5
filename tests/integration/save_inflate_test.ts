/**
 * `save -o FILE` to a docker-archive inflates the gzip layers with `igzip`, in parallel, each into its planned
 * region of the archive (lib/image/save_inflate.ts). The archive must be byte for byte the one the in-process
 * stream writes (`save` to stdout): for plain gzip layers (igzip's path, seen in the debug log), for a
 * multi-member gzip layer whose trailer names only its last member's size (the plan fails its check and the
 * archive is written again in-process), and for an image with a zstd layer (in-process from the start). A
 * corrupt layer fails the save with one line, exit 125, and leaves no file. Root and rootless.
 * @module
 */
import assert from "node:assert/strict";
import {
  busyboxTar,
  compress,
  customImage,
  type PushedImage,
  seededRandom,
  sha256,
  tarTree,
} from "../helpers/fixtures.ts";
import { type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { type TempPodHome, tempPodHome } from "../helpers/pod.ts";
import { startRegistry } from "../helpers/registry.ts";
import { TEST_USER } from "../helpers/rootless.ts";

const igzip = ["/usr/bin/igzip", "/usr/local/bin/igzip", "/bin/igzip"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** `n` bytes of deterministic compressible text. */
function text(n: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 80 === 79 ? 10 : 97 + Math.floor(r() * 16);
  return out;
}

/** Two gzip members back to back: the trailer's size (ISIZE) is the second member's only. */
async function multiMember(tar: Uint8Array): Promise<Uint8Array> {
  const cut = Math.floor(tar.length / 3);
  const a = await compress(tar.subarray(0, cut), "gzip");
  const b = await compress(tar.subarray(cut), "gzip");
  const blob = new Uint8Array(a.length + b.length);
  blob.set(a);
  blob.set(b, a.length);
  return blob;
}

/** The store's blob file of `digest`. */
function blobFile(h: TempPodHome, digest: string): string {
  return `${h.home}/blobs/sha256/${digest.slice(7)}`;
}

async function exists(p: string): Promise<boolean> {
  return await Deno.lstat(p).then(() => true, () => false);
}

/** `save -o` (with debug notes) and `save` to stdout of `ref`: the file's bytes equal the stream's. */
async function saveBoth(h: TempPodHome, ref: string, file: string): Promise<string> {
  const s = await h.pod(["--log-level=debug", "save", "-o", file, ref]);
  assert.equal(s.code, 0, s.stderr);
  const piped = await h.pod(["save", ref]);
  assert.equal(piped.code, 0, piped.stderr);
  const bytes = await Deno.readFile(file);
  assert.equal(bytes.length, piped.stdoutBytes.length, `${ref}: archive sizes differ`);
  assert.ok(
    (await sha256(bytes)) === (await sha256(piped.stdoutBytes)),
    `${ref}: the archive differs from the stream's`,
  );
  return s.stderr;
}

const NAME = "save -o: gzip layers inflated by igzip, byte-identical to the stream";
if (!igzip) {
  console.log("save_inflate_test: igzip missing (apt-get install isal): skipped");
  for (const mode of ["root", "rootless"]) Deno.test({ name: `${NAME} (${mode})`, ignore: true, fn() {} });
} else await testRootAndRootless(NAME, suite);

function suite(mode: Mode): () => Promise<void> {
  return async () => {
    const reg = await startRegistry();
    const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
    try {
      const base = await busyboxTar();
      const data = await tarTree({ "data/a.txt": text(5 << 20, 1), "data/b.txt": text(300_000, 2) });
      const data2 = await tarTree({ "more/c.txt": text(2 << 20, 3) });
      const twoMembers = await multiMember(data);
      const images: Record<string, PushedImage> = {
        plain: await customImage(reg, { repo: "test/plain", layers: [base, data, data2] }),
        multi: await customImage(reg, {
          repo: "test/multi",
          layers: [base, {
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
            blob: twoMembers,
            digest: await sha256(twoMembers),
            size: twoMembers.length,
            diffId: await sha256(data),
          }],
        }),
        zstd: await customImage(reg, {
          repo: "test/zstd",
          layers: [base, { tar: data, compression: "zstd" }],
        }),
      };
      for (const img of Object.values(images)) {
        const p = await h.pod(["pull", "-q", img.ref]);
        assert.equal(p.code, 0, p.stderr);
      }
      // the multi-member blob really is one (its trailer is not the layer's size)
      const m = images.multi.layers[1];
      assert.notEqual(new DataView(m.blob.buffer, m.blob.length - 4).getUint32(0, true), data.length);

      const plain = await saveBoth(h, images.plain.ref, `${h.root}/plain.tar`);
      assert.match(plain, /save: 3 gzip layers inflated by \S*igzip, [12] at once/);
      const multi = await saveBoth(h, images.multi.ref, `${h.root}/multi.tar`);
      assert.match(multi, /writing the archive again, inflating in-process/);
      assert.doesNotMatch(multi, /inflated by/);
      const zstd = await saveBoth(h, images.zstd.ref, `${h.root}/zstd.tar`);
      assert.doesNotMatch(zstd, /inflated by|writing the archive again/);

      // each layer of the archive is its diff_id (the archive loads, in a fresh store, and runs)
      const h2 = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
      try {
        const l = await h2.pod(["load", "-q", "-i", `${h.root}/plain.tar`]);
        assert.equal(l.code, 0, l.stderr);
        const r = await h2.pod(["run", "--rm", images.plain.ref, "sh", "-c", "wc -c < /data/a.txt"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), String(5 << 20));
      } finally {
        await h2.cleanup();
      }

      // a corrupt layer (its CRC): igzip refuses it, the in-process path says why; no file is left
      const victim = blobFile(h, images.plain.layers[1].digest);
      const f = await Deno.open(victim, { read: true, write: true });
      const size = (await f.stat()).size;
      await f.seek(size - 8, Deno.SeekMode.Start);
      await f.write(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
      f.close();
      const out = `${h.root}/bad.tar`;
      const dbg = await h.pod(["--log-level=debug", "save", "-o", out, images.plain.ref]);
      assert.equal(dbg.code, 125, dbg.stderr);
      assert.match(dbg.stderr, /writing the archive again/);
      const bad = await h.pod(["save", "-o", out, images.plain.ref]);
      assert.equal(bad.code, 125, bad.stderr);
      const lines = bad.stderr.trimEnd().split("\n");
      assert.match(lines[0], /^Error: layer sha256:[0-9a-f]{64} is corrupt: incorrect data check$/);
      assert.equal(lines.length, 2, bad.stderr); // and the hint
      assert.match(lines[1], /system check --repair/);
      assert.equal(await exists(out), false, "no archive left");
      const left = [...Deno.readDirSync(h.root)].map((e) => e.name).filter((n) => n.includes("save"));
      assert.deepEqual(left, [], "no temp file left");
    } finally {
      await h.cleanup();
      await reg.stop();
    }
  };
}
