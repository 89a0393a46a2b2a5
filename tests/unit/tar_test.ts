import assert from "node:assert/strict";
import { buildTar, concat, header, paxRecords } from "../helpers/tarwriter.ts";
import { readTar, type TarEntry, TarFormatError, TruncatedError } from "../../lib/unpack/tar.ts";

const dec = new TextDecoder();
const assertEquals = (a: unknown, b: unknown) => assert.deepEqual(a, b);

async function assertRejects(
  fn: () => Promise<unknown>,
  cls: abstract new (...a: never[]) => Error = Error,
  includes = "",
): Promise<void> {
  await assert.rejects(fn, (e: unknown) => e instanceof cls && e.message.includes(includes));
}

/** Splits bytes into chunks of `size` to exercise chunk boundaries. */
async function* chunks(b: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

interface Read {
  e: TarEntry;
  body: string;
}

async function readAll(b: Uint8Array, size?: number): Promise<Read[]> {
  const out: Read[] = [];
  for await (const e of readTar(chunks(b, size))) {
    const parts: Uint8Array[] = [];
    for await (const p of e.body()) parts.push(p.slice());
    out.push({ e: { ...e }, body: dec.decode(concat(parts)) });
  }
  return out;
}

Deno.test("tar: ustar entries of every type", async () => {
  const tar = buildTar([
    { name: "d/", type: "dir", mode: 0o2755, uid: 12, gid: 34, mtime: 1600000000 },
    { name: "d/f", content: "hello", mode: 0o4755 },
    { name: "d/l", type: "symlink", linkname: "/etc/x" },
    { name: "d/h", type: "hardlink", linkname: "d/f" },
    { name: "p", type: "fifo" },
    { name: "c", type: "char", devmajor: 1, devminor: 3 },
    { name: "b", type: "block", devmajor: 7, devminor: 300 },
  ]);
  for (const size of [7, 512, 100000]) {
    const r = await readAll(tar, size);
    assertEquals(r.map((x) => [x.e.name, x.e.type]), [
      ["d", "dir"],
      ["d/f", "file"],
      ["d/l", "symlink"],
      ["d/h", "hardlink"],
      ["p", "fifo"],
      ["c", "char"],
      ["b", "block"],
    ]);
    assertEquals(r[0].e.mode, 0o2755);
    assertEquals([r[0].e.uid, r[0].e.gid, r[0].e.mtime.sec], [12, 34, 1600000000]);
    assertEquals(r[1].body, "hello");
    assertEquals(r[1].e.mode, 0o4755);
    assertEquals(r[2].e.linkname, "/etc/x");
    assertEquals(r[3].e.linkname, "d/f");
    assertEquals([r[5].e.devmajor, r[5].e.devminor], [1, 3]);
    assertEquals([r[6].e.devmajor, r[6].e.devminor], [7, 300]);
  }
});

Deno.test("tar: unread bodies are skipped", async () => {
  const tar = buildTar([{ name: "a", content: "x".repeat(3000) }, { name: "b", content: "yy" }]);
  const names: string[] = [];
  let last = "";
  for await (const e of readTar(chunks(tar, 100))) {
    names.push(e.name);
    if (e.name === "b") last = dec.decode((await e.read())!);
  }
  assertEquals(names, ["a", "b"]);
  assertEquals(last, "yy");
});

Deno.test("tar: ustar prefix, pax long names, GNU long names and links", async () => {
  const long = "a/".repeat(80) + "file-with-a-long-name";
  const longLink = "/target/".repeat(30) + "end";
  const split = "p".repeat(120) + "/" + "n".repeat(90);
  const r = await readAll(buildTar([
    { name: long, content: "pax" },
    { name: long + "2", content: "gnu", longNames: "gnu" },
    { name: "sl", type: "symlink", linkname: longLink },
    { name: "sl2", type: "symlink", linkname: longLink, longNames: "gnu" },
    { name: split, content: "ustar" },
  ]));
  assertEquals(r.map((x) => x.e.name), [long, long + "2", "sl", "sl2", split]);
  assertEquals(r.map((x) => x.body), ["pax", "gnu", "", "", "ustar"]);
  assertEquals(r[2].e.linkname, longLink);
  assertEquals(r[3].e.linkname, longLink);
});

Deno.test("tar: pax size, uid, mtime with fractions, xattrs and global headers", async () => {
  const globalBody = paxRecords({ uname: "everyone", mtime: "5" });
  const tar = concat([
    header({ name: "pax_global", typeflag: "g", size: globalBody.length, mode: 0 }),
    globalBody,
    new Uint8Array(512 - globalBody.length),
    buildTar([
      {
        name: "f",
        content: "0123456789",
        size: 3, // header lies; pax size wins
        pax: {
          size: "10",
          uid: "3000000",
          gid: "4000000",
          mtime: "1700000000.123456789",
          atime: "-1.5",
          "SCHILY.xattr.user.bin": new Uint8Array([0, 1, 255]),
          "SCHILY.xattr.security.capability": "cap",
        },
      },
      { name: "g", content: "" },
    ]),
  ]);
  const r = await readAll(tar);
  assertEquals(r[0].body, "0123456789");
  assertEquals([r[0].e.uid, r[0].e.gid], [3000000, 4000000]);
  assertEquals(r[0].e.mtime, { sec: 1700000000, nsec: 123456789 });
  assertEquals(r[0].e.atime, { sec: -2, nsec: 500000000 });
  assertEquals([...r[0].e.xattrs.get("user.bin")!], [0, 1, 255]);
  assertEquals(dec.decode(r[0].e.xattrs.get("security.capability")), "cap");
  assertEquals(r[0].e.uname, "everyone");
  assertEquals(r[1].e.uname, "everyone"); // global applies to later entries
  assertEquals(r[1].e.mtime, { sec: 5, nsec: 0 });
});

Deno.test("tar: base-256 size, uid, gid and negative mtime", async () => {
  const content = "z".repeat(1000);
  const r = await readAll(buildTar([
    { name: "big", content, base256: true, uid: 0x7fffffff + 10, gid: 70000000, mtime: -100 },
  ]));
  assertEquals(r[0].body, content);
  assertEquals(r[0].e.size, 1000);
  assertEquals([r[0].e.uid, r[0].e.gid], [0x7fffffff + 10, 70000000]);
  assertEquals(r[0].e.mtime.sec, -100);
});

Deno.test("tar: truncated archives are errors", async () => {
  const tar = buildTar([{ name: "a", content: "x".repeat(2000) }, { name: "b", content: "y" }]);
  for (const cut of [100, 512, 1500, 512 * 6, tar.length - 1024]) {
    await assertRejects(() => readAll(tar.subarray(0, cut)), TruncatedError);
  }
  // a header that promises more body than there is
  await assertRejects(() => readAll(buildTar([{ name: "a", content: "abc", size: 5000 }])));
  // no end-of-archive marker at all
  await assertRejects(() => readAll(buildTar([{ name: "a" }], { end: false })), TruncatedError);
  // a single trailing zero block is accepted
  assertEquals((await readAll(tar.subarray(0, tar.length - 512))).length, 2);
});

Deno.test("tar: checksum and number errors", async () => {
  const tar = buildTar([{ name: "a", content: "x" }]);
  const bad = tar.slice();
  bad[0] = 0x62;
  await assertRejects(() => readAll(bad), TarFormatError, "checksum");
  const h = header({ name: "a", typeflag: "0", size: 0, mode: 0o644 });
  h[124] = 0x39; // '9' is not octal
  const { setChecksum } = await import("../helpers/tarwriter.ts");
  setChecksum(h);
  await assertRejects(() => readAll(concat([h, new Uint8Array(1024)])), TarFormatError, "octal");
});

Deno.test("tar: old GNU magic ignores the prefix field, '\\0' dirs by trailing slash", async () => {
  const h = header({ name: "olddir/", typeflag: "\0", size: 0, mode: 0o755, magic: "gnu" });
  const r = await readAll(concat([h, new Uint8Array(1024)]));
  assertEquals(r[0].e.type, "dir");
  assertEquals(r[0].e.name, "olddir");
  assert.equal(r[0].e.pax.size, 0);
});
