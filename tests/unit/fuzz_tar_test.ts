/**
 * Fuzzing the tar reader and layer application (`lib/unpack/mod.ts` `applyLayer`, `lib/unpack/tar.ts`), seeded
 * and bounded in time. A real busybox layer (the fixture rootfs, with a small stand-in for the busybox binary and an
 * eighth of the applet links, so an iteration is cheap) is mutated — random bit flips, flips inside header blocks, truncation, hostile names and
 * link targets (`../victim/…`, absolute paths, symlinks out of the root followed by writes through them), random
 * type flags and sizes (with valid checksums, so the reader gets past the checksum), inserted blocks — and
 * applied into a fresh target. Every run either succeeds or fails with a `PodError` whose cause is a format or
 * rule error (never a TypeError/RangeError), and nothing is written outside the target: the victim directory
 * beside it and the parent directory stay exactly as they were.
 */
import assert from "node:assert/strict";
import { applyLayer } from "../../lib/unpack/mod.ts";
import { PodError } from "../../lib/errors.ts";
import { busyboxTree, compress, tarTree } from "../helpers/fixtures.ts";
import { setChecksum } from "../helpers/tarwriter.ts";
import { seededRandom as rng } from "../helpers/fixtures.ts";

const SEED = Number(Deno.env.get("POD_FUZZ_SEED") ?? 1337);
const BUDGET_MS = 2300; // a time budget, but the loop below never stops short of its minimum (a loaded CI machine)
const enc = new TextEncoder();

/** Offsets of the header blocks of a (valid) tar. */
function headerOffsets(tar: Uint8Array): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    out.push(off);
    const size = parseInt(
      new TextDecoder().decode(h.subarray(124, 136)).replace(/\0.*$/, "").trim() || "0",
      8,
    );
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function putField(h: Uint8Array, off: number, len: number, s: string): void {
  h.fill(0, off, off + len);
  h.set(enc.encode(s).subarray(0, len), off);
}

const HOSTILE_NAMES = [
  "../victim/pwned",
  "../../victim/pwned",
  "/../victim/pwned",
  "a/../../victim/pwned",
  "./../victim",
  "bin/../../victim/x",
  "",
  ".",
  "/",
  "..",
];
const HOSTILE_LINKS = [
  "../victim",
  "../../victim",
  "/",
  "/..",
  "../victim/secret",
  "../..",
  "bin/../../victim",
];
const TYPES = "0123456789LKxgSDVA\0";

function mutate(base: Uint8Array, heads: number[], r: () => number): { tar: Uint8Array; how: string } {
  const tar = base.slice();
  const hi = heads[Math.floor(r() * heads.length)];
  const h = tar.subarray(hi, hi + 512);
  const k = Math.floor(r() * 8);
  switch (k) {
    case 0: {
      const n = 1 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) tar[Math.floor(r() * tar.length)] ^= 1 << Math.floor(r() * 8);
      return { tar, how: `flip ${n} random bits` };
    }
    case 1: {
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) h[Math.floor(r() * 512)] = Math.floor(r() * 256);
      if (r() < 0.7) setChecksum(h);
      return { tar, how: `damage header at ${hi}` };
    }
    case 2: {
      const at = Math.floor(r() * tar.length);
      return { tar: tar.slice(0, at), how: `truncate at ${at}` };
    }
    case 3: {
      const name = HOSTILE_NAMES[Math.floor(r() * HOSTILE_NAMES.length)];
      putField(h, 0, 100, name);
      putField(h, 345, 155, "");
      setChecksum(h);
      return { tar, how: `name ${name} at ${hi}` };
    }
    case 4: {
      // a symlink out of the root, then a file written through it
      const link = HOSTILE_LINKS[Math.floor(r() * HOSTILE_LINKS.length)];
      putField(h, 0, 100, "esc");
      putField(h, 345, 155, "");
      putField(h, 156, 1, r() < 0.5 ? "2" : "1");
      putField(h, 157, 100, link);
      putField(h, 124, 12, "00000000000");
      setChecksum(h);
      const next = heads.find((x) => x > hi);
      if (next !== undefined) {
        const h2 = tar.subarray(next, next + 512);
        putField(h2, 0, 100, r() < 0.5 ? "esc/pwned" : "esc");
        putField(h2, 345, 155, "");
        setChecksum(h2);
      }
      return { tar, how: `link esc → ${link} at ${hi}` };
    }
    case 5: {
      const t = TYPES[Math.floor(r() * TYPES.length)];
      putField(h, 156, 1, t);
      setChecksum(h);
      return { tar, how: `type ${JSON.stringify(t)} at ${hi}` };
    }
    case 6: {
      const sizes = ["77777777777", "00000001000", "99999999999", "-1", "", "\x80\0\0\0\0\0\0\0\0\0\0\x01"];
      const s = sizes[Math.floor(r() * sizes.length)];
      putField(h, 124, 12, s);
      if (s.startsWith("\x80")) h.set([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 124);
      setChecksum(h);
      return { tar, how: `size ${JSON.stringify(s)} at ${hi}` };
    }
    default: {
      // duplicate a header block somewhere else
      const at = heads[Math.floor(r() * heads.length)];
      const out = new Uint8Array(tar.length + 512);
      out.set(tar.subarray(0, at));
      out.set(h, at);
      out.set(tar.subarray(at), at + 512);
      return { tar: out, how: `insert header copy at ${at}` };
    }
  }
}

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const st = await Deno.lstat(`${dir}/${e.name}`);
    out.push(`${e.name} ${st.mode} ${st.isFile ? st.size : ""} ${st.mtime?.getTime()}`);
    if (st.isDirectory) out.push(...(await snapshot(`${dir}/${e.name}`)).map((l) => `${e.name}/${l}`));
  }
  return out.sort();
}

function stream(b: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(c) {
      if (sent) return c.close();
      sent = true;
      // odd chunk sizes exercise the reader's block assembly
      for (let i = 0; i < b.length; i += 4099) c.enqueue(b.slice(i, i + 4099));
    },
  });
}

Deno.test({
  name: "fuzz tar: mutated busybox layers fail cleanly and never write outside the target",
  sanitizeResources: false,
  async fn() {
    const { tree, owners } = await busyboxTree({
      extra: { "etc/motd": "hello\n", "usr/share/doc/a": "a\n", "hl": { hardlink: "etc/motd" } },
    });
    tree["bin/busybox"] = { file: "#!/bin/sh\necho stand-in\n", mode: 0o755 };
    // every 8th applet link only: the same kinds of entries, an eighth of the syscalls per iteration
    let i = 0;
    for (const [k, v] of Object.entries(tree)) {
      if (
        typeof v === "object" && "symlink" in v && v.symlink === "/bin/busybox" && k !== "bin/sh" && i++ % 8
      ) {
        delete tree[k];
      }
    }
    const base = await tarTree(tree, owners);
    const heads = headerOffsets(base);
    assert.ok(heads.length > 50, `${heads.length} entries`);
    const parent = await Deno.makeTempDir({ prefix: "pod-fuzz-tar-" });
    const victim = `${parent}/victim`;
    await Deno.mkdir(victim);
    await Deno.writeTextFile(`${victim}/secret`, "do not touch\n");
    const victimBefore = await snapshot(victim);
    const r = rng(SEED);
    let n = 0, ok = 0, failed = 0;
    try {
      // the unmutated layer applies
      await Deno.mkdir(`${parent}/t`);
      await applyLayer(`${parent}/t`, stream(base), {
        digest: "sha256:base",
        mediaType: "application/vnd.oci.image.layer.v1.tar",
      });
      assert.equal(await Deno.readLink(`${parent}/t/bin/sh`), "/bin/busybox");
      await Deno.remove(`${parent}/t`, { recursive: true });

      const end = Date.now() + BUDGET_MS;
      while ((Date.now() < end || n < 20) && n < 2000) {
        const { tar, how } = mutate(base, heads, r);
        const gz = r() < 0.1;
        const blob = gz ? await compress(tar, "gzip") : tar;
        if (gz && blob.length > 100) blob[Math.floor(blob.length / 2)] ^= 0x10;
        const target = `${parent}/t`;
        await Deno.mkdir(target);
        try {
          await applyLayer(target, stream(blob), {
            digest: `sha256:fuzz${n}`,
            mediaType: gz
              ? "application/vnd.oci.image.layer.v1.tar+gzip"
              : "application/vnd.oci.image.layer.v1.tar",
          });
          ok++;
        } catch (e) {
          failed++;
          assert.ok(e instanceof PodError, `#${n} (${how}): ${(e as Error)?.name}: ${(e as Error)?.message}`);
          assert.ok(
            e.message.length > 0 && !e.message.includes("\n"),
            `#${n} (${how}): message ${e.message}`,
          );
          const cause = e.cause;
          assert.ok(
            !(cause instanceof TypeError || cause instanceof RangeError || cause instanceof ReferenceError),
            `#${n} (${how}): internal error ${(cause as Error)?.name}: ${(cause as Error)?.message}`,
          );
        }
        assert.deepEqual(await snapshot(victim), victimBefore, `#${n} (${how}): the victim dir changed`);
        const siblings = (await Array.fromAsync(Deno.readDir(parent))).map((e) => e.name).sort();
        assert.deepEqual(
          siblings,
          ["t", "victim"],
          `#${n} (${how}): something was written beside the target`,
        );
        await Deno.remove(target, { recursive: true });
        n++;
      }
    } finally {
      await Deno.remove(parent, { recursive: true }).catch(() => {});
    }
    if (Deno.env.get("POD_FUZZ_VERBOSE")) console.log(`${n} runs: ${ok} applied, ${failed} refused`);
    assert.ok(n >= 20, `only ${n} iterations`);
    assert.ok(failed > 0, `no mutation failed (${ok} ok)`);
  },
});
