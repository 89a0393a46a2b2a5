/**
 * `pod cp --overwrite`, `--archive=false`, and copying into a running container's volume (the file lands in
 * the volume the container sees, not in the root file system under its mount point), root and rootless.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { TEST_USER } from "../helpers/rootless.ts";

async function chownToUser(path: string): Promise<void> {
  const o = await new Deno.Command("chown", { args: ["-R", TEST_USER, path] }).output();
  if (!o.success) throw new Error(`chown ${path}`);
}

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const host = `${h.root}/host`;
    await Deno.mkdir(`${host}/adir`, { recursive: true });
    await Deno.writeTextFile(`${host}/afile`, "file\n");
    await Deno.writeTextFile(`${host}/adir/x`, "x\n");
    if (mode === "rootless") await chownToUser(host);
    const vol = await h.pod(["volume", "create", "cpvol"]);
    assert.equal(vol.code, 0, vol.stderr);
    const c = await h.pod(["run", "-d", "--name", "c", "-v", "cpvol:/data", img.ref, "sleep", "1000"]);
    assert.equal(c.code, 0, c.stderr);
    const ex = (cmd: string) => h.pod(["exec", "c", "sh", "-c", cmd]);

    await t.step("into a running container's volume: visible inside at the mount", async () => {
      const r = await h.pod(["cp", `${host}/afile`, "c:/data/"]);
      assert.equal(r.code, 0, r.stderr);
      const e = await ex("cat /data/afile");
      assert.equal(e.stdout, "file\n", e.stderr);
      const back = await h.pod(["cp", "c:/data/afile", `${host}/back`]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(await Deno.readTextFile(`${host}/back`), "file\n");
    });

    await t.step("--overwrite: a directory replaced by a file only when asked", async () => {
      assert.equal((await ex("mkdir -p /tmp/target/afile")).code, 0);
      const no = await h.pod(["cp", `${host}/afile`, "c:/tmp/target/"]);
      assert.equal(no.code, 125);
      assert.match(no.stderr, /cannot overwrite directory/);
      const yes = await h.pod(["cp", "--overwrite", `${host}/afile`, "c:/tmp/target/"]);
      assert.equal(yes.code, 0, yes.stderr);
      assert.equal((await ex("cat /tmp/target/afile")).stdout, "file\n");
    });

    await t.step(
      "--archive (default) chowns to the container's main user; =false keeps ids; out: the caller's",
      async () => {
        const a = await h.pod(["cp", "-a", `${host}/adir`, "c:/tmp/"]);
        assert.equal(a.code, 0, a.stderr);
        const e = await ex("stat -c %u:%g /tmp/adir/x; cat /tmp/adir/x");
        assert.equal(e.stdout, "0:0\nx\n", e.stderr);
        await Deno.writeTextFile(`${host}/keep`, "k\n");
        await Deno.chown(`${host}/keep`, 1000, 1000);
        const k = await h.pod(["cp", "--archive=false", `${host}/keep`, "c:/tmp/keep"]);
        assert.equal(k.code, 0, k.stderr);
        // rootless: host uid 1000 is not mapped in the container's user namespace: seen (and kept) as nobody
        const ke = await ex("stat -c %u:%g /tmp/keep");
        assert.equal(ke.stdout, mode === "root" ? "1000:1000\n" : "65534:65534\n", ke.stderr);
        // the container's main user (-u) owns what is copied in
        const u = await h.pod(["create", "--name", "cu", "-u", "u1000", img.ref, "sleep", "1000"]);
        assert.equal(u.code, 0, u.stderr);
        const cu = await h.pod(["cp", `${host}/afile`, "cu:/tmp/mine"]);
        assert.equal(cu.code, 0, cu.stderr);
        assert.equal((await h.pod(["start", "cu"])).code, 0);
        const mine = await h.pod(["exec", "cu", "stat", "-c", "%u:%g", "/tmp/mine"]);
        assert.equal(mine.stdout, "1000:1000\n", mine.stderr);
        assert.equal((await ex("chown 1000:1000 /etc/passwd")).code, 0);
        for (const flag of ["--archive=false", "--archive=true"]) {
          const out = await h.pod(["cp", flag, "c:/etc/passwd", `${host}/passwd${flag.length}`]);
          assert.equal(out.code, 0, out.stderr);
          const st = await Deno.stat(`${host}/passwd${flag.length}`);
          if (mode === "root") assert.equal(st.uid, 0, flag);
          else assert.notEqual(st.uid, 0, flag);
          if (mode === "root") assert.notEqual(st.uid, 1000, flag);
        }
      },
    );
  });
}

await testRootAndRootless("cp flags", suite);
