/**
 * Layer application in real temp dirs. Every test has a "victim" directory beside the root whose listing and
 * contents (and those of the parent dir) must be unchanged afterwards.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { applyLayer, unpackInto, unpackLayers, type UnpackOptions } from "../../lib/unpack/mod.ts";
import { PodError } from "../../lib/errors.ts";
import { buildTar, concat, type TarEntryInput } from "../helpers/tarwriter.ts";

/** Why the root-only checks (device nodes, tmpfs mounts) cannot run here, or undefined as root. */
const NOT_ROOT = Deno.uid() === 0 ? undefined : "not root: no mknod of devices, no tmpfs mount";

const TAR = "application/vnd.oci.image.layer.v1.tar";
const GZ = "application/vnd.oci.image.layer.v1.tar+gzip";
const dec = new TextDecoder();

function stream(b: Uint8Array, size = 4096): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= b.length) return c.close();
      c.enqueue(b.slice(off, off + size));
      off += size;
    },
  });
}

const sha = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");

interface Ctx {
  base: string;
  root: string;
  victim: string;
  /** Applies a layer built from entries (or raw bytes) to the root. */
  apply(
    layer: TarEntryInput[] | Uint8Array,
    opts?: UnpackOptions & { mediaType?: string; diffId?: string },
  ): Promise<
    { diffId: string; bytes: number }
  >;
  read(rel: string): string;
  lstat(rel: string): Deno.FileInfo;
  exists(rel: string): boolean;
}

/** Snapshot of everything under `dir` except the entry `skip`. */
function snapshot(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of [...Deno.readDirSync(d)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      if (rel === "" && e.name === skip) continue;
      const p = `${d}/${e.name}`;
      const st = Deno.lstatSync(p);
      let extra = "";
      if (st.isSymlink) extra = "-> " + Deno.readLinkSync(p);
      else if (st.isFile) extra = sha(Deno.readFileSync(p));
      out.push(
        `${rel}${e.name} ${
          st.mode?.toString(8)
        } ${st.uid}:${st.gid} ${st.size} ${st.mtime?.getTime()} ${extra}`,
      );
      if (st.isDirectory) walk(p, `${rel}${e.name}/`);
    }
  };
  walk(dir, "");
  return out;
}

async function withRoot(fn: (c: Ctx) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "pod-unpack-" });
  const root = `${base}/root`;
  const victim = `${base}/victim`;
  Deno.mkdirSync(root);
  Deno.mkdirSync(`${victim}/sub`, { recursive: true });
  Deno.writeTextFileSync(`${victim}/secret`, "secret");
  Deno.writeTextFileSync(`${victim}/sub/file`, "file");
  Deno.writeTextFileSync(`${base}/x`, "beside");
  const before = snapshot(base, "root");
  const ctx: Ctx = {
    base,
    root,
    victim,
    apply(layer, opts = {}) {
      const bytes = layer instanceof Uint8Array ? layer : buildTar(layer);
      return applyLayer(root, stream(bytes), {
        digest: "sha256:test",
        mediaType: opts.mediaType ?? TAR,
        diffId: opts.diffId,
      }, opts);
    },
    read: (rel) => Deno.readTextFileSync(`${root}/${rel}`),
    lstat: (rel) => Deno.lstatSync(`${root}/${rel}`),
    exists(rel) {
      try {
        Deno.lstatSync(`${root}/${rel}`);
        return true;
      } catch {
        return false;
      }
    },
  };
  try {
    await fn(ctx);
    assert.deepEqual(snapshot(base, "root"), before, "something outside the root changed");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function refused(p: Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PodError, `not a PodError: ${e}`);
    for (const s of parts) assert.ok(e.message.includes(s), `"${e.message}" lacks "${s}"`);
    return true;
  });
}

Deno.test("unpack: ../ names are refused, naming layer, entry and rule", async () => {
  await withRoot(async (c) => {
    await refused(
      c.apply([{ name: "../victim/secret", content: "pwned" }]),
      'layer sha256:test: entry "../victim/secret": path escapes the root',
    );
    await refused(c.apply([{ name: "a/../../victim/secret", content: "pwned" }]), "escapes the root");
    await refused(c.apply([{ name: "../victim/.wh.secret" }]), "escapes the root");
    await refused(c.apply([{ name: "../.wh.victim" }]), "escapes the root");
    await refused(c.apply([{ name: "../victim", type: "dir" }]), "escapes the root");
  });
});

Deno.test("unpack: absolute names are taken relative to the root", async () => {
  await withRoot(async (c) => {
    await c.apply([
      { name: `${c.victim}/secret`, content: "inside" },
      { name: "/etc/hostname", content: "h" },
    ]);
    assert.equal(c.read(`${c.victim.slice(1)}/secret`), "inside");
    assert.equal(c.read("etc/hostname"), "h");
  });
});

Deno.test("unpack: symlinks to /, .. and host paths are followed inside the root (same layer)", async () => {
  await withRoot(async (c) => {
    await c.apply([
      { name: "slash", type: "symlink", linkname: "/" },
      { name: "up", type: "symlink", linkname: ".." },
      { name: "deep", type: "symlink", linkname: "../../../../.." },
      { name: "host", type: "symlink", linkname: c.victim },
      { name: "rel", type: "symlink", linkname: "up/up/victim" },
      { name: "slash/etc/a", content: "1" },
      { name: "up/victim/secret", content: "2" },
      { name: "deep/victim/sub/file", content: "3" },
      { name: "host/secret", content: "4" },
      { name: "rel/sub/file", content: "5" },
      { name: "host/newdir", type: "dir" },
      { name: "up/x", type: "symlink", linkname: "/etc/passwd" },
      { name: "deep/victim/hl", type: "hardlink", linkname: "up/victim/secret" },
    ]);
    assert.equal(c.read("etc/a"), "1");
    assert.equal(c.read("victim/secret"), "2");
    assert.equal(c.read("victim/sub/file"), "5");
    assert.equal(c.read(`${c.victim.slice(1)}/secret`), "4");
    assert.ok(c.lstat(`${c.victim.slice(1)}/newdir`).isDirectory);
    assert.equal(Deno.readLinkSync(`${c.root}/x`), "/etc/passwd"); // link text kept as is
    assert.equal(c.read("victim/hl"), "2");
    assert.equal(c.lstat("victim/hl").nlink, 2);
  });
});

Deno.test("unpack: symlinks from an earlier layer are followed inside the root", async () => {
  await withRoot(async (c) => {
    await c.apply([
      { name: "slash", type: "symlink", linkname: "/" },
      { name: "host", type: "symlink", linkname: c.victim },
      { name: "up", type: "symlink", linkname: "../.." },
      { name: "dir/", type: "dir" },
      { name: "dir/f", content: "f" },
    ]);
    await c.apply([
      { name: "slash/etc/b", content: "b" },
      { name: "host/secret", content: "x" },
      { name: "up/x", content: "x" },
      { name: "host/.wh.secret" },
      { name: "up/.wh.x" },
      { name: "up/victim/.wh.sub" },
    ]);
    assert.equal(c.read("etc/b"), "b");
    assert.equal(c.read(`${c.victim.slice(1)}/secret`), "x"); // the whiteout only hides lower layers
    assert.equal(c.read("x"), "x");
    // a whiteout through a symlink hides inside the root
    await c.apply([{ name: "host/.wh.secret" }, { name: "slash/dir/.wh.f" }]);
    assert.ok(!c.exists(`${c.victim.slice(1)}/secret`));
    assert.ok(!c.exists("dir/f"));
  });
});

Deno.test("unpack: unpackLayers reads blobs and applies them in order", async () => {
  await withRoot(async (c) => {
    const l1 = gzipSync(
      buildTar([{ name: "host", type: "symlink", linkname: c.victim }, { name: "a", content: "1" }]),
    );
    const l2 = buildTar([{ name: "host/secret", content: "2" }, { name: ".wh.a" }]);
    Deno.writeFileSync(`${c.base}/l1`, l1);
    Deno.writeFileSync(`${c.base}/l2`, l2);
    const seen: number[] = [];
    await unpackLayers(c.root, [
      { digest: "sha256:l1", mediaType: GZ, path: `${c.base}/l1` },
      { digest: "sha256:l2", mediaType: TAR, path: `${c.base}/l2`, diffId: sha(l2) },
    ], { onProgress: (i) => seen.push(i) });
    Deno.removeSync(`${c.base}/l1`);
    Deno.removeSync(`${c.base}/l2`);
    assert.equal(c.read(`${c.victim.slice(1)}/secret`), "2");
    assert.ok(!c.exists("a"));
    assert.ok(seen.includes(0) && seen.includes(1));
  });
});

Deno.test("unpack: hardlinks out of the root or to missing targets are errors", async () => {
  await withRoot(async (c) => {
    await refused(
      c.apply([{ name: "h", type: "hardlink", linkname: "../victim/secret" }]),
      'entry "h": hardlink target escapes the root',
    );
    await refused(
      c.apply([{ name: "h", type: "hardlink", linkname: `${c.victim}/secret` }]),
      "does not exist",
    );
    await refused(
      c.apply([{ name: "s", type: "symlink", linkname: c.victim }, {
        name: "h",
        type: "hardlink",
        linkname: "s/secret",
      }]),
      "does not exist",
    );
    await refused(
      c.apply([{ name: "h", type: "hardlink", linkname: "missing" }]),
      'entry "h"',
      "does not exist",
    );
    await refused(
      c.apply([{ name: "d", type: "dir" }, { name: "h", type: "hardlink", linkname: "d" }]),
      "directory",
    );
    // a hardlink to a symlink links the symlink itself
    await c.apply([{ name: "sl", type: "symlink", linkname: "/etc/shadow" }, {
      name: "h2",
      type: "hardlink",
      linkname: "sl",
    }]);
    assert.equal(Deno.readLinkSync(`${c.root}/h2`), "/etc/shadow");
  });
});

Deno.test("unpack: other refused entries", async () => {
  await withRoot(async (c) => {
    await refused(
      c.apply([{ name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "a" }, {
        name: "a/x",
        content: "x",
      }]),
      'entry "a/x"',
      "too many levels of symbolic links",
    );
    await refused(c.apply([{ name: "f", content: "" }, { name: "f/x", content: "" }]), "not a directory");
    await refused(c.apply([{ name: "./", content: "x" }]), "root directory");
    await refused(c.apply([{ name: "sp", typeflag: "S" }]), "unsupported entry type");
    await refused(c.apply([{ name: "sp", pax: { "GNU.sparse.major": "1" } }]), "sparse");
    await refused(c.apply([{ name: "d/.wh.." }]), "invalid whiteout");
  });
});

Deno.test("unpack: whiteouts and opaque directories across layers", async () => {
  await withRoot(async (c) => {
    await c.apply([
      { name: "d/a", content: "a" },
      { name: "d/sub/b", content: "b" },
      { name: "d/sub2/c", content: "c" },
      { name: "e/keep", content: "k" },
      { name: "o/old", content: "o" },
      { name: "w/gone", content: "g" },
      { name: "w/stay", content: "s" },
    ]);
    await c.apply([
      // entries before the marker survive; lower content does not, even in a re-declared subdir
      { name: "d/", type: "dir" },
      { name: "d/new", content: "n" },
      { name: "d/sub/", type: "dir" },
      { name: "d/sub/c2", content: "c2" },
      { name: "d/.wh..wh..opq" },
      { name: "d/late", content: "l" },
      // marker first
      { name: "o/.wh..wh..opq" },
      { name: "o/new", content: "n" },
      { name: "w/.wh.gone" },
      { name: "w/.wh.never-existed" },
      { name: "nodir/.wh.x" },
      { name: "e/same", content: "s" },
      { name: "e/.wh.same" }, // a whiteout does not hide entries of its own layer
    ]);
    const ls = (d: string) => [...Deno.readDirSync(`${c.root}/${d}`)].map((e) => e.name).sort();
    assert.deepEqual(ls("d"), ["late", "new", "sub"]);
    assert.deepEqual(ls("d/sub"), ["c2"]);
    assert.deepEqual(ls("o"), ["new"]);
    assert.deepEqual(ls("w"), ["stay"]);
    assert.deepEqual(ls("e"), ["keep", "same"]);
    assert.ok(!c.exists("nodir"));
    await c.apply([{ name: ".wh.e" }, { name: "d/.wh.sub" }]);
    assert.ok(!c.exists("e"));
    assert.deepEqual(ls("d"), ["late", "new"]);
  });
});

Deno.test("unpack: file replaces directory and back, duplicates (last wins)", async () => {
  await withRoot(async (c) => {
    await c.apply([{ name: "p/child", content: "c" }, { name: "q", content: "q" }, {
      name: "s",
      content: "s",
    }]);
    await c.apply([
      { name: "p", content: "now a file" },
      { name: "q/", type: "dir" },
      { name: "q/inner", content: "i" },
      { name: "s", type: "symlink", linkname: "/nowhere" },
      { name: "dup", content: "one" },
      { name: "dup", content: "two" },
      { name: "dd/", type: "dir" },
      { name: "dd/x", content: "x" },
      { name: "dd", content: "file after dir in the same layer" },
      { name: "ff", content: "file" },
      { name: "ff/", type: "dir", mode: 0o700 },
    ]);
    assert.equal(c.read("p"), "now a file");
    assert.equal(c.read("q/inner"), "i");
    assert.equal(Deno.readLinkSync(`${c.root}/s`), "/nowhere");
    assert.equal(c.read("dup"), "two");
    assert.equal(c.read("dd"), "file after dir in the same layer");
    assert.ok(c.lstat("ff").isDirectory);
    assert.equal(c.lstat("ff").mode! & 0o7777, 0o700);
    // a file replacing a symlink to outside must not write through it
    await c.apply([{ name: "esc", type: "symlink", linkname: `${c.victim}/secret` }, {
      name: "esc",
      content: "x",
    }]);
    assert.equal(c.read("esc"), "x");
  });
});

Deno.test("unpack: truncated streams are errors", async () => {
  await withRoot(async (c) => {
    const tar = buildTar([{ name: "a", content: "x".repeat(5000) }, { name: "b", content: "y" }]);
    await refused(c.apply(tar.subarray(0, 3000)), "layer sha256:test", "truncated");
    await refused(c.apply(tar.subarray(0, tar.length - 1024)), "truncated");
    const gz = gzipSync(tar);
    await refused(c.apply(gz.subarray(0, gz.length - 8), { mediaType: GZ }), "layer sha256:test", "gzip");
    await refused(c.apply(gz.subarray(0, gz.length / 2), { mediaType: GZ }), "layer sha256:test");
  });
});

Deno.test("unpack: a gzip bomb beyond the cap is an error naming the layer", async () => {
  await withRoot(async (c) => {
    const tar = buildTar([{ name: "zeros", content: new Uint8Array(20 << 20) }]);
    const gz = gzipSync(tar);
    assert.ok(gz.length < 100_000);
    await refused(
      c.apply(gz, { mediaType: GZ, maxBytes: 1 << 20 }),
      "layer sha256:test",
      "exceeds the limit",
    );
    const ok = await c.apply(gz, { mediaType: GZ, maxBytes: 64 << 20 });
    assert.equal(ok.bytes, tar.length);
  });
});

Deno.test("unpack: multi-member gzip, zstd, magic-byte detection, diff_id", async () => {
  await withRoot(async (c) => {
    const tar = buildTar([{ name: "m/a", content: "a".repeat(10000) }, { name: "m/b", content: "b" }]);
    const multi = concat([
      gzipSync(tar.subarray(0, 3333)),
      gzipSync(tar.subarray(3333, 7000)),
      gzipSync(tar.subarray(7000)),
    ]);
    const r = await c.apply(multi, { mediaType: GZ, diffId: sha(tar) });
    assert.deepEqual(r, { diffId: sha(tar), bytes: tar.length });
    assert.equal(c.read("m/a"), "a".repeat(10000));

    const tar2 = buildTar([{ name: "z/c", content: "zstd!" }]);
    const p = new Deno.Command("zstd", { args: ["-q", "-c"], stdin: "piped", stdout: "piped" }).spawn();
    const w = p.stdin.getWriter();
    await w.write(tar2);
    await w.close();
    const zst = (await p.output()).stdout;
    await c.apply(zst, { mediaType: "application/vnd.oci.image.layer.v1.tar+zstd", diffId: sha(tar2) });
    assert.equal(c.read("z/c"), "zstd!");

    // unknown media type: magic bytes decide; a gzip blob labelled plain tar is still read
    const tar3 = buildTar([{ name: "g/d", content: "magic" }]);
    await c.apply(gzipSync(tar3), { mediaType: "application/octet-stream" });
    await c.apply(gzipSync(buildTar([{ name: "g/e", content: "e" }])), { mediaType: TAR });
    assert.equal(c.read("g/d"), "magic");
    assert.equal(c.read("g/e"), "e");

    await refused(
      c.apply(tar3, { diffId: "sha256:" + "0".repeat(64) }),
      "layer sha256:test: diff_id mismatch",
      sha(tar3),
    );
  });
});

Deno.test("unpack: modes, ownership, times, xattrs, fifos and devices", async (t) => {
  await withRoot(async (c) => {
    await c.apply([
      { name: "./", type: "dir", mode: 0o755, mtime: 1000 },
      { name: "bin/", type: "dir", mode: 0o1777, uid: 7, gid: 8, mtime: 1200000000 },
      { name: "bin/su", content: "#!", mode: 0o4755, uid: 1234, gid: 5678, mtime: 1500000000 },
      { name: "bin/sg", content: "", mode: 0o2711, uid: 0, gid: 42, pax: { mtime: "1500000000.25" } },
      { name: "bin/ln", type: "symlink", linkname: "su", uid: 99, gid: 98, mtime: 1400000000 },
      {
        name: "bin/x",
        content: "x",
        pax: { "SCHILY.xattr.user.pod": "hello", "SCHILY.xattr.trusted.t": "v" },
      },
      { name: "dev/fifo", type: "fifo", mode: 0o640 },
      { name: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "dev/loop9", type: "block", devmajor: 7, devminor: 9, mode: 0o660 },
    ]);
    const su = c.lstat("bin/su");
    assert.equal(su.mode! & 0o7777, 0o4755);
    assert.deepEqual([su.uid, su.gid], [1234, 5678]);
    assert.equal(su.mtime!.getTime(), 1500000000_000);
    const sg = c.lstat("bin/sg");
    assert.equal(sg.mode! & 0o7777, 0o2711);
    assert.equal(sg.gid, 42);
    assert.equal(sg.mtime!.getTime(), 1500000000_250);
    const ln = c.lstat("bin/ln");
    assert.ok(ln.isSymlink);
    assert.deepEqual([ln.uid, ln.gid], [99, 98]);
    assert.equal(ln.mtime!.getTime(), 1400000000_000);
    const bin = c.lstat("bin");
    assert.equal(bin.mode! & 0o7777, 0o1777);
    assert.deepEqual([bin.uid, bin.gid], [7, 8]);
    assert.equal(bin.mtime!.getTime(), 1200000000_000); // set after its children were written
    assert.equal(Deno.lstatSync(c.root).mtime!.getTime(), 1000_000);
    assert.ok(c.lstat("dev/fifo").isFifo);
    assert.equal(c.lstat("dev/fifo").mode! & 0o777, 0o640);
    const getfattr = new Deno.Command("python3", {
      args: ["-c", "import os,sys; print(os.getxattr(sys.argv[1], 'user.pod').decode())", `${c.root}/bin/x`],
    }).outputSync();
    assert.equal(dec.decode(getfattr.stdout).trim(), "hello");
    await t.step({
      name: `device nodes${NOT_ROOT ? ` (skipped: ${NOT_ROOT})` : ""}`,
      ignore: NOT_ROOT !== undefined,
      fn: () => {
        const nul = c.lstat("dev/null");
        assert.ok(nul.isCharDevice);
        assert.equal(nul.rdev, (1 << 8) | 3);
        assert.ok(c.lstat("dev/loop9").isBlockDevice);
      },
    });
  });
});

Deno.test("unpack: the same tree as GNU tar", async () => {
  await withRoot(async (c) => {
    const src = `${c.base}/src`;
    const mk = (args: string[]) => {
      const o = new Deno.Command(args[0], { args: args.slice(1) }).outputSync();
      assert.ok(o.success, `${args.join(" ")}: ${dec.decode(o.stderr)}`);
    };
    Deno.mkdirSync(`${src}/usr/bin`, { recursive: true });
    Deno.mkdirSync(`${src}/${"long-directory-name/".repeat(8)}`, { recursive: true });
    Deno.writeTextFileSync(`${src}/${"long-directory-name/".repeat(8)}${"f".repeat(120)}`, "long");
    Deno.writeFileSync(`${src}/usr/bin/big`, crypto.getRandomValues(new Uint8Array(60000)));
    Deno.writeTextFileSync(`${src}/usr/bin/tool`, "#!/bin/sh\n");
    Deno.chmodSync(`${src}/usr/bin/tool`, 0o4755);
    Deno.linkSync(`${src}/usr/bin/tool`, `${src}/usr/bin/tool2`);
    Deno.symlinkSync("tool", `${src}/usr/bin/sym`);
    Deno.symlinkSync("/etc/passwd", `${src}/abs`);
    Deno.writeTextFileSync(`${src}/empty`, "");
    mk(["mkfifo", `${src}/fifo`]);
    mk(["chown", "-h", "1000:1001", `${src}/usr/bin/sym`]);
    mk(["chown", "2000:2001", `${src}/empty`]);
    mk([
      "touch",
      "-h",
      "-d",
      "2001-02-03 04:05:06",
      `${src}/usr/bin/sym`,
      `${src}/usr/bin/tool`,
      `${src}/usr`,
    ]);
    const layer = `${c.base}/layer.tgz`;
    mk(["tar", "-C", src, "--format=pax", "-czf", layer, "."]);
    const gnuRoot = `${c.base}/gnu`;
    Deno.mkdirSync(gnuRoot);
    mk(["tar", "-C", gnuRoot, "-xzpf", layer]);
    await c.apply(Deno.readFileSync(layer), { mediaType: GZ });
    const list = (d: string) =>
      dec.decode(
        new Deno.Command("sh", {
          args: [
            "-c",
            `cd '${d}' && find . -printf '%p %y %m %U %G %s %n %T@ %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`,
          ],
        }).outputSync().stdout,
      );
    const ours = list(c.root);
    assert.equal(ours, list(gnuRoot));
    assert.ok(ours.includes("./usr/bin/tool f 4755"));
    await Deno.remove(src, { recursive: true });
    await Deno.remove(gnuRoot, { recursive: true });
    await Deno.remove(layer);
  });
});

Deno.test("unpack: decompression from a source that reuses its buffer, in tiny and big chunks", async () => {
  const { decompress } = await import("../../lib/unpack/compress.ts");
  /** Yields `data` in `size`-byte chunks, all views of one buffer that is overwritten for the next chunk. */
  async function* reusing(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    const buf = new Uint8Array(size);
    for (let off = 0; off < data.length; off += size) {
      const part = data.subarray(off, off + size);
      buf.set(part);
      yield buf.subarray(0, part.length);
      buf.fill(0xee);
    }
  }
  const collect = async (src: AsyncIterable<Uint8Array>) => {
    const parts: Uint8Array[] = [];
    for await (const c of src) parts.push(c.slice()); // chunks are valid until the next one
    return concat(parts);
  };
  const plain = new Uint8Array(3 << 20).map((_, i) => (i * 7919) % 251 === 0 ? i & 0xff : 97 + (i % 13));
  const multi = concat([gzipSync(plain.subarray(0, 1 << 20)), gzipSync(plain.subarray(1 << 20))]);
  for (const size of [1, 3, 4096, 1 << 20]) {
    const data = size === 1 ? multi.subarray(0, 20000) : multi;
    const want = size === 1 ? undefined : plain;
    const got = await collect(decompress(reusing(data, size), "gzip")).catch((e) => e);
    if (want) assert.deepEqual(got, want, `chunk size ${size}`);
    else assert.ok(got instanceof Error && /unexpected end/.test(got.message), String(got));
  }
  // trailing zeros after the last member are ignored (as Node's gunzip does); other garbage is an error
  assert.deepEqual(
    await collect(decompress(reusing(concat([multi, new Uint8Array(100)]), 4096), "gzip")),
    plain,
  );
  await assert.rejects(
    collect(decompress(reusing(concat([multi, new TextEncoder().encode("junk!")]), 4096), "gzip")),
  );
  const bad = multi.slice();
  bad[5000] ^= 0xff;
  await assert.rejects(collect(decompress(reusing(bad, 4096), "gzip")));
});

Deno.test("unpack: a target that resolves to the host's / is refused before any entry is written", async () => {
  const base = await Deno.makeTempDir({ prefix: "pod-unpack-" });
  try {
    Deno.symlinkSync("/", `${base}/to-root`);
    const layer = buildTar([{ name: "pod-unpack-must-not-exist", content: "x" }]);
    for (const target of ["/", `${base}/to-root`, "/proc/self/root", `/proc/${Deno.pid}/root`]) {
      await assert.rejects(
        applyLayer(target, stream(layer), { digest: "sha256:test", mediaType: TAR }),
        (e: unknown) => e instanceof PodError && /resolves to the host's \//.test(e.message),
        target,
      );
    }
    await assert.rejects(Deno.lstat("/pod-unpack-must-not-exist"));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("unpack: unpackInto renames a whole tree into place, keeps one another builder finished, cleans up on failure", async () => {
  const base = await Deno.makeTempDir({ prefix: "pod-unpack-" });
  try {
    Deno.writeFileSync(`${base}/good`, buildTar([{ name: "f", content: "new" }]));
    Deno.writeFileSync(`${base}/bad`, buildTar([{ name: "../escape", content: "x" }]));
    const good = [{ digest: "sha256:good", mediaType: TAR, path: `${base}/good` }];
    const bad = [{ digest: "sha256:bad", mediaType: TAR, path: `${base}/bad` }];
    await unpackInto(`${base}/t`, `${base}/t.tmp-1`, good);
    assert.equal(Deno.readTextFileSync(`${base}/t/f`), "new");
    // a tree that is already there (another builder won): kept, this copy dropped
    Deno.writeTextFileSync(`${base}/t/f`, "first");
    await unpackInto(`${base}/t`, `${base}/t.tmp-2`, good);
    assert.equal(Deno.readTextFileSync(`${base}/t/f`), "first");
    // replace: a container's own rootfs is made anew
    await unpackInto(`${base}/t`, `${base}/t.tmp-3`, good, { replace: true });
    assert.equal(Deno.readTextFileSync(`${base}/t/f`), "new");
    await assert.rejects(unpackInto(`${base}/u`, `${base}/u.tmp-4`, bad), PodError);
    assert.deepEqual([...Deno.readDirSync(base)].map((e) => e.name).sort(), ["bad", "good", "t"]);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

/** Bytes of `n` with a pattern that differs at every offset of a 256 KiB buffer. */
function patterned(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  return b;
}

Deno.test("unpack: larger files written behind keep contents, mode, owner, times and xattrs", async () => {
  await withRoot(async (c) => {
    const sizes = [32 * 1024, 32 * 1024 + 1, 256 * 1024, 256 * 1024 + 7, 3 * 1024 * 1024 + 11];
    const entries: TarEntryInput[] = sizes.map((n, i) => ({
      name: `big/f${i}`,
      content: patterned(n, i),
      mode: i === 4 ? 0o4755 : 0o640,
      uid: 1000 + i,
      gid: 2000 + i,
      mtime: 1600000000 + i,
      pax: { "SCHILY.xattr.user.pod": `v${i}` },
    }));
    // many larger files at once: more than the pool's buffers are in flight
    for (let i = 0; i < 40; i++) entries.push({ name: `many/m${i}`, content: patterned(40000 + i, i) });
    const tar = buildTar(entries);
    await c.apply(gzipSync(tar), { mediaType: GZ, diffId: sha(tar) });
    for (const [i, n] of sizes.entries()) {
      const st = c.lstat(`big/f${i}`);
      assert.equal(st.size, n);
      assert.deepEqual(Deno.readFileSync(`${c.root}/big/f${i}`), patterned(n, i));
      assert.equal(st.mode! & 0o7777, i === 4 ? 0o4755 : 0o640);
      assert.equal(st.mtime!.getTime(), (1600000000 + i) * 1000);
      if (Deno.uid() === 0) assert.deepEqual([st.uid, st.gid], [1000 + i, 2000 + i]);
      const x = new Deno.Command("python3", {
        args: [
          "-c",
          "import os,sys; print(os.getxattr(sys.argv[1], 'user.pod').decode())",
          `${c.root}/big/f${i}`,
        ],
      }).outputSync();
      assert.equal(dec.decode(x.stdout).trim(), `v${i}`);
    }
    for (let i = 0; i < 40; i++) {
      assert.deepEqual(Deno.readFileSync(`${c.root}/many/m${i}`), patterned(40000 + i, i));
    }
  });
});

Deno.test("unpack: a larger file replaced while its writes are in flight never changes what replaced it", async () => {
  await withRoot(async (c) => {
    await c.apply([
      { name: "a", content: patterned(2 * 1024 * 1024, 1), mode: 0o4777, mtime: 1 },
      // the same path becomes a symlink out of the root, then a hardlink keeps the big file's inode
      { name: "b", content: patterned(1024 * 1024, 2), mode: 0o600, mtime: 2 },
      { name: "b2", type: "hardlink", linkname: "b" },
      { name: "a", type: "symlink", linkname: "../victim/secret" },
      { name: "b", type: "symlink", linkname: "../victim/sub/file" },
      { name: "c", content: patterned(600 * 1024, 3), mode: 0o644 },
      { name: "c", content: "small now", mode: 0o600 },
    ]);
    assert.ok(c.lstat("a").isSymlink);
    assert.ok(c.lstat("b").isSymlink);
    assert.equal(c.read("c"), "small now");
    assert.equal(c.lstat("c").mode! & 0o777, 0o600);
    const b2 = c.lstat("b2");
    assert.equal(b2.size, 1024 * 1024);
    assert.equal(b2.mode! & 0o7777, 0o600);
    assert.equal(b2.mtime!.getTime(), 2000);
    assert.deepEqual(Deno.readFileSync(`${c.root}/b2`), patterned(1024 * 1024, 2));
    // withRoot checks the victim beside the root is unchanged (mode, owner, times, contents)
  });
});

if (NOT_ROOT) console.warn(`unpack_test: root-only checks skipped: ${NOT_ROOT}`);

Deno.test({
  name: "unpack: a write error of a file written behind fails the layer and closes every descriptor",
  ignore: NOT_ROOT !== undefined, // mounts a small tmpfs
}, async () => {
  await withRoot(async (c) => {
    const small = `${c.root}/small`;
    Deno.mkdirSync(small);
    const mnt = new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small] })
      .outputSync();
    assert.ok(mnt.success, dec.decode(mnt.stderr));
    try {
      const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
      const before = fds();
      await refused(
        c.apply([{ name: "small/huge", content: patterned(3 * 1024 * 1024, 9) }]),
        "sha256:test",
        "ENOSPC (No space left on device)",
      );
      assert.equal(fds(), before, "a descriptor was left open");
    } finally {
      new Deno.Command("umount", { args: [small] }).outputSync();
    }
  });
});
