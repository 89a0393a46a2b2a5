/**
 * `pod cp` as root and rootless: both directions, directories, `-` tar streams, symlink escapes, errors; with
 * overlay roots (the default): never started (the image tree is built), stopped (the overlay is mounted in a
 * private mount namespace, never on the host) and running (through /proc/<pid>/root).
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";
import { subIdRanges, TEST_USER } from "../helpers/rootless.ts";

async function sh(cmd: string, cwd?: string): Promise<string> {
  const o = await new Deno.Command("sh", { args: ["-c", cmd], cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!o.success) throw new Error(`${cmd}: ${new TextDecoder().decode(o.stderr)}`);
  return new TextDecoder().decode(o.stdout);
}

/** The cp scenarios, as root or as the rootless user (`h` made for that user). */
async function scenarios(t: Deno.TestContext, h: TempPodHome, img: string, user: boolean, vfs = false) {
  const run = (args: string[], stdin?: Uint8Array) => h.pod(args, { stdin });
  const host = `${h.root}/host`;
  await Deno.mkdir(`${host}/dir/sub`, { recursive: true });
  await Deno.writeTextFile(`${host}/file.txt`, "hello\n");
  await Deno.writeTextFile(`${host}/dir/a`, "A\n");
  await Deno.writeTextFile(`${host}/dir/sub/b`, "B\n");
  await Deno.symlink("a", `${host}/dir/link`);
  if (user) await sh(`chown -R ${TEST_USER} ${host}`);

  const c = await run([
    "create",
    "--name",
    "c1",
    img,
    "sh",
    "-c",
    "ln -s / /etc/rootlink; ln -s /etc/os-release /etc/osrel; sleep 1000",
  ]);
  assert.equal(c.code, 0, c.stderr);

  await t.step("container → host on a never-started container (distrobox's os-release read)", async () => {
    const r = await run(["cp", "c1:/etc/passwd", `${host}/passwd`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await Deno.readTextFile(`${host}/passwd`), /^root:x:0:0/);
    const st = await Deno.stat(`${host}/passwd`);
    if (user) assert.notEqual(st.uid, 0);
    else assert.equal(st.uid, 0);
    if (!vfs) {
      const trees = [...Deno.readDirSync(`${h.home}/trees`)].map((e) => e.name);
      assert.equal(trees.length, 1, `the image tree was not built: ${trees}`);
    }
  });

  await t.step("host → container file, dir, dir/. ; ownership root inside", async () => {
    assert.equal((await run(["cp", `${host}/file.txt`, "c1:/tmp/"])).code, 0);
    assert.equal((await run(["cp", `${host}/file.txt`, "c1:/tmp/renamed"])).code, 0);
    const d = await run(["cp", `${host}/dir`, "c1:/tmp"]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal((await run(["cp", `${host}/dir/.`, "c1:/home/u1000"])).code, 0);
    assert.equal((await run(["cp", `${host}/dir`, "c1:/newdir"])).code, 0);
    const s = await run(["start", "c1"]);
    assert.equal(s.code, 0, s.stderr);
    const e = await run([
      "exec",
      "c1",
      "sh",
      "-c",
      "cat /tmp/file.txt /tmp/renamed /tmp/dir/a /tmp/dir/sub/b /home/u1000/a /newdir/sub/b; " +
      "readlink /tmp/dir/link; stat -c '%u:%g' /tmp/file.txt /tmp/dir/sub/b",
    ]);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.stdout, "hello\nhello\nA\nB\nA\nB\na\n0:0\n0:0\n");
  });

  await t.step("running container: symlink escapes stay inside", async () => {
    // /etc/rootlink -> / (made by the running container): the write lands in the container's /
    const r = await run(["cp", `${host}/file.txt`, "c1:/etc/rootlink/escaped"]);
    assert.equal(r.code, 0, r.stderr);
    const e = await run(["exec", "c1", "cat", "/escaped"]);
    assert.equal(e.stdout, "hello\n");
    await assert.rejects(Deno.stat("/escaped"));
    // a container→host read through an absolute symlink reads the container's file (as the container sees
    // it: the generated /etc/hostname)
    const o = await run(["cp", "c1:/etc/rootlink/etc/hostname", `${host}/hn`]);
    assert.equal(o.code, 0, o.stderr);
    const hn = await run(["exec", "c1", "cat", "/etc/hostname"]);
    // (vfs: the container's own copy, where the generated file is bound over the image's)
    assert.equal(await Deno.readTextFile(`${host}/hn`), vfs ? "busybox\n" : hn.stdout);
    assert.notEqual(await Deno.readTextFile(`${host}/hn`), await Deno.readTextFile("/etc/hostname"));
    // a dangling absolute symlink at the destination leaf is replaced, never followed to the host
    await run(["exec", "c1", "ln", "-s", "/etc/pod-cp-escape-target", "/tmp/leaf"]);
    const l = await run(["cp", `${host}/file.txt`, "c1:/tmp/leaf"]);
    assert.equal(l.code, 0, l.stderr);
    await assert.rejects(Deno.stat("/etc/pod-cp-escape-target"));
  });

  await t.step("- both ways", async () => {
    const out = await run(["cp", "c1:/tmp/dir", "-"]);
    assert.equal(out.code, 0, out.stderr);
    await Deno.mkdir(`${h.root}/untar`);
    await Deno.writeFile(`${h.root}/untar.tar`, out.stdoutBytes);
    const list = await sh(`tar -tvf ${h.root}/untar.tar`);
    assert.match(list, /dir\/sub\/b/);
    assert.match(list, /dir\/link -> a/);
    const tarball = await new Deno.Command("tar", { args: ["-C", host, "-cf", "-", "dir"], stdout: "piped" })
      .output();
    const r = await run(["cp", "-", "c1:/root"], tarball.stdout);
    assert.equal(r.code, 0, r.stderr);
    const e = await run(["exec", "c1", "sh", "-c", "cat /root/dir/sub/b; stat -c '%u' /root/dir/a"]);
    assert.equal(e.stdout, "B\n0\n");
  });

  await t.step("missing paths: one-line errors", async () => {
    const a = await run(["cp", "c1:/nope", `${host}/x`]);
    assert.equal(a.code, 125);
    assert.match(
      a.stderr,
      /^Error: "\/nope" could not be found on container c1: no such file or directory\n$/,
    );
    const b = await run(["cp", `${host}/file.txt`, "c1:/nodir/x"]);
    assert.equal(b.code, 125);
    assert.match(b.stderr, /^Error: .*parent directory does not exist\n$/);
    const c = await run(["cp", `${host}/nope`, "c1:/tmp"]);
    assert.equal(c.code, 125);
    assert.equal(c.stderr.split("\n").length, 2, c.stderr);
    const d = await run(["cp", `${host}/file.txt`, "nosuch:/tmp"]);
    assert.equal(d.code, 125);
    assert.match(d.stderr, /no container with name or ID "nosuch" found/);
    const e = await run(["cp", `${host}/dir`, "c1:/tmp/file.txt"]);
    assert.equal(e.code, 125);
    const f = await run(["cp", `${host}/file.txt`, "c1:/tmp/dir"]); // into the dir: fine
    assert.equal(f.code, 0, f.stderr);
  });

  await t.step("--archive=false keeps ownership", async () => {
    await sh(`chown 1000:1000 ${host}/file.txt`);
    const r = await run(["cp", "--archive=false", `${host}/file.txt`, "c1:/tmp/owned"]);
    assert.equal(r.code, 0, r.stderr);
    const e = await run(["exec", "c1", "stat", "-c", "%u:%g", "/tmp/owned"]);
    // rootless: host uid 1000 is not mapped in the container's user namespace; it is seen (and kept) as nobody
    assert.equal(e.stdout, user ? "65534:65534\n" : "1000:1000\n");
    const o = await run(["cp", "c1:/home/u1000/own", `${host}/own`]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(await Deno.readTextFile(`${host}/own`), "owned by 1000\n");
  });

  await t.step(
    "written and deleted files, running and stopped; nothing mounted on the host",
    async () => {
      const e = await run(["exec", "c1", "sh", "-c", "echo written > /tmp/w && rm /home/u1000/own"]);
      assert.equal(e.code, 0, e.stderr);
      for (const state of ["running", "stopped"]) {
        if (state === "stopped") assert.equal((await run(["stop", "-t", "0", "c1"])).code, 0);
        const o = await run(["cp", "c1:/tmp/w", `${host}/w-${state}`]);
        assert.equal(o.code, 0, o.stderr);
        assert.equal(await Deno.readTextFile(`${host}/w-${state}`), "written\n");
        const g = await run(["cp", "c1:/home/u1000/own", `${host}/own-${state}`]);
        assert.equal(g.code, 125, state);
        assert.match(
          g.stderr,
          /^Error: "\/home\/u1000\/own" could not be found on container c1: no such file/,
        );
      }
      // into the stopped container, over the whiteout of the deleted file
      const i = await run(["cp", `${host}/dir/a`, "c1:/home/u1000/own"]);
      assert.equal(i.code, 0, i.stderr);
      const mountinfo = await Deno.readTextFile("/proc/self/mountinfo");
      assert.ok(!mountinfo.includes(h.home), `a container root is mounted on the host:\n${mountinfo}`);
      if (!vfs) {
        const tree = [...Deno.readDirSync(`${h.home}/trees`)][0].name;
        assert.equal(await Deno.readTextFile(`${h.home}/trees/${tree}/home/u1000/own`), "owned by 1000\n");
      }
      const s = await run(["start", "c1"]);
      assert.equal(s.code, 0, s.stderr);
      const c = await run([
        "exec",
        "c1",
        "sh",
        "-c",
        "cat /home/u1000/own /tmp/w; stat -c %u /home/u1000/own",
      ]);
      assert.equal(c.stdout, "A\nwritten\n0\n", c.stderr);
    },
  );

  if (user) {
    await t.step("--userns keep-id: stopped and running, in and out", async () => {
      const k = await run(["create", "--userns", "keep-id", "--name", "k1", img, "sleep", "1000"]);
      assert.equal(k.code, 0, k.stderr);
      const i = await run(["cp", `${host}/dir/a`, "k1:/etc/"]);
      assert.equal(i.code, 0, i.stderr);
      assert.equal((await run(["start", "k1"])).code, 0);
      const r = await run(["cp", `${host}/dir/sub/b`, "k1:/root/"]);
      assert.equal(r.code, 0, r.stderr);
      const o = await run(["cp", "k1:/etc/a", `${host}/k1-a`]);
      assert.equal(o.code, 0, o.stderr);
      assert.equal(await Deno.readTextFile(`${host}/k1-a`), "A\n");
      assert.notEqual((await Deno.stat(`${host}/k1-a`)).uid, 0); // the user's, not a subordinate id
      const owner = (await Deno.stat(`${host}/k1-a`)).uid!;
      assert.ok(
        !(await subIdRanges()).some((s) => owner >= s.start && owner < s.start + s.count),
        `uid ${owner}`,
      );
      // podman's --archive (the default): owned by the container's main user, the user's own id with keep-id
      const uid = (await run(["exec", "k1", "id", "-u"])).stdout;
      assert.match(uid, /^[1-9][0-9]*\n$/);
      const e = await run(["exec", "--user", "0", "k1", "stat", "-c", "%u", "/etc/a", "/root/b"]);
      assert.equal(e.stdout, uid + uid, e.stderr);
      await run(["rm", "-f", "-t", "0", "k1"]);
    });
  }

  await run(["rm", "-f", "-t", "0", "c1"]);
}

await testRootAndRootless(
  "cp",
  (mode) => busyboxSuite(mode, ({ h, img }, t) => scenarios(t, h, img.ref, mode === "rootless")),
);

await testRootAndRootless(
  "cp, vfs: a copy of the image per container",
  (mode) =>
    busyboxSuite(mode, ({ h, img }, t) => scenarios(t, h, img.ref, mode === "rootless", true), {
      env: { POD_STORAGE_DRIVER: "vfs" },
    }),
);
