/** Unit tests of the tar writer (round trip through pod's reader) and cp's argument/target rules. */
import assert from "node:assert/strict";
import { encodeHeader, paxRecord, type TarWriteEntry, writeTar } from "../../lib/unpack/tar_write.ts";
import { readTar } from "../../lib/unpack/tar.ts";
import { cleanContainerPath, decideTarget, parseCpArg } from "../../lib/container/cp/paths.ts";

async function roundTrip(entries: TarWriteEntry[]) {
  const out: { name: string; type: string; uid: number; linkname: string; body: string; mtime: number }[] =
    [];
  for await (const e of readTar(writeTar(entries))) {
    let body = "";
    for await (const p of e.body()) body += new TextDecoder().decode(p);
    out.push({ name: e.name, type: e.type, uid: e.uid, linkname: e.linkname, body, mtime: e.mtime.sec });
  }
  return out;
}

const t0 = { sec: 1700000000, nsec: 0 };

Deno.test("tar writer: round trip of every kind, long and unicode names, big ids", async () => {
  const long = "d/" + "x".repeat(150) + "/" + "y".repeat(120);
  const got = await roundTrip([
    { name: "d", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: t0 },
    {
      name: "d/f",
      type: "file",
      mode: 0o644,
      uid: 1000,
      gid: 1000,
      mtime: t0,
      body: new TextEncoder().encode("hi"),
    },
    { name: "d/l", type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: t0, linkname: "/" + "t".repeat(200) },
    { name: "d/h", type: "hardlink", mode: 0o644, uid: 0, gid: 0, mtime: t0, linkname: "d/f" },
    {
      name: long,
      type: "file",
      mode: 0o600,
      uid: 5_000_000,
      gid: 0,
      mtime: { sec: 5, nsec: 5e8 },
      body: new Uint8Array(0),
    },
    { name: "d/é", type: "fifo", mode: 0o600, uid: 0, gid: 0, mtime: t0 },
  ]);
  assert.deepEqual(got.map((e) => [e.name, e.type]), [
    ["d", "dir"],
    ["d/f", "file"],
    ["d/l", "symlink"],
    ["d/h", "hardlink"],
    [long, "file"],
    ["d/é", "fifo"],
  ]);
  assert.equal(got[1].body, "hi");
  assert.equal(got[1].uid, 1000);
  assert.equal(got[2].linkname, "/" + "t".repeat(200));
  assert.equal(got[4].uid, 5_000_000);
});

Deno.test("tar writer: a body shorter or longer than its size keeps the archive well-formed", async () => {
  const chunks = (s: string) => () =>
    (async function* () {
      yield new TextEncoder().encode(s);
    })();
  const got = await roundTrip([
    { name: "short", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: t0, size: 10, body: chunks("abc") },
    { name: "long", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: t0, size: 2, body: chunks("abcdef") },
    { name: "after", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: t0 },
  ]);
  assert.equal(got[0].body, "abc" + "\0".repeat(7));
  assert.equal(got[1].body, "ab");
  assert.equal(got[2].name, "after");
});

Deno.test("tar writer: pax record length counts itself; header checksum", () => {
  assert.equal(paxRecord("path", "a"), "9 path=a\n");
  const r = paxRecord("path", "x".repeat(94)); // 100 bytes exactly with a 3-digit length
  assert.equal(new TextEncoder().encode(r).length, Number(r.split(" ")[0]));
  const h = encodeHeader({ name: "a", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: t0, size: 0 });
  assert.equal(h.length, 512);
});

Deno.test("cp: argument parsing like podman", () => {
  assert.deepEqual(parseCpArg("c1:/etc/os-release"), { container: "c1", path: "/etc/os-release" });
  assert.deepEqual(parseCpArg("c1:etc"), { container: "c1", path: "etc" });
  assert.deepEqual(parseCpArg("/abs:x"), { path: "/abs:x" });
  assert.deepEqual(parseCpArg("./c1:x"), { path: "./c1:x" });
  assert.deepEqual(parseCpArg("file"), { path: "file" });
  assert.deepEqual(parseCpArg("-"), { path: "-" });
  assert.equal(cleanContainerPath("../../etc/./x/.."), "/etc");
});

Deno.test("cp: destination rules", () => {
  const dir = { isDirectory: true }, file = { isDirectory: false };
  assert.deepEqual(decideTarget(false, false, "f", "/d", dir, true), { into: true, name: "f", merge: false });
  assert.deepEqual(decideTarget(false, false, "f", "/x", file, true), {
    into: false,
    name: "",
    merge: false,
  });
  assert.deepEqual(decideTarget(false, false, "f", "/new", null, true), {
    into: false,
    name: "",
    merge: false,
  });
  assert.deepEqual(decideTarget(true, true, "s", "/d", dir, true), { into: true, name: "", merge: true });
  assert.deepEqual(decideTarget(true, false, "s", "/d", dir, true), { into: true, name: "s", merge: false });
  assert.throws(
    () => decideTarget(true, false, "s", "/x", file, true),
    /cannot copy directory to non-directory/,
  );
  assert.throws(
    () => decideTarget(false, false, "f", "/new/", null, true),
    /destination directory must exist/,
  );
  assert.throws(
    () => decideTarget(false, false, "f", "/no/x", null, false),
    /parent directory does not exist/,
  );
});
