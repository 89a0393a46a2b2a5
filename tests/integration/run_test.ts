/**
 * `pod run` as root against busybox from a local registry: exit codes, env, users, mounts, isolation.
 * Real namespaces; needs util-linux, perl and docker-registry on the host.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testIn } from "../helpers/modes.ts";

await testIn(
  "root",
  "run (root)",
  busyboxSuite("root", async ({ h, img }, t) => {
    const IMG = img.ref;

    await t.step("run --rm echo", async () => {
      const r = await h.pod(["run", "--rm", IMG, "echo", "hi"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hi\n");
      const ps = await h.pod(["ps", "-aq"]);
      assert.equal(ps.stdout, "");
    });

    await t.step("exit codes 0/3/126/127", async () => {
      assert.equal((await h.pod(["run", "--rm", IMG, "true"])).code, 0);
      assert.equal((await h.pod(["run", "--rm", IMG, "sh", "-c", "exit 3"])).code, 3);
      const r126 = await h.pod(["run", "--rm", IMG, "/etc/passwd"]);
      assert.equal(r126.code, 126, r126.stderr);
      assert.match(r126.stderr, /^Error: .*permission denied/);
      const r127 = await h.pod(["run", "--rm", IMG, "nosuchcmd"]);
      assert.equal(r127.code, 127, r127.stderr);
      assert.match(r127.stderr, /^Error: nosuchcmd: executable file not found in \$PATH/);
    });

    await t.step("environment: image, -e, host value, --env-file, HOSTNAME", async () => {
      const f = `${h.root}/env.list`;
      await Deno.writeTextFile(f, "# c\nFROMFILE=yes\n");
      const r = await h.pod([
        "run",
        "--rm",
        "-e",
        "A=1",
        "-e",
        "POD_TEST_HOSTVAR",
        "--env-file",
        f,
        "--hostname",
        "box",
        IMG,
        "env",
      ], { env: { POD_TEST_HOSTVAR: "from-host" } });
      assert.equal(r.code, 0, r.stderr);
      const env = r.stdout.split("\n");
      for (const want of ["A=1", "FROMFILE=yes", "HOSTNAME=box", "container=podman", "HOME=/root"]) {
        assert.ok(env.includes(want), `${want} in ${r.stdout}`);
      }
      assert.ok(env.some((e) => e.startsWith("PATH=")));
    });

    await t.step("--entrypoint, -w (created), -u", async () => {
      const r = await h.pod(["run", "--rm", "--entrypoint", "/bin/sh", IMG, "-c", "echo $0"]);
      assert.equal(r.stdout, "/bin/sh\n");
      const w = await h.pod(["run", "--rm", "-w", "/new/dir", IMG, "pwd"]);
      assert.equal(w.stdout, "/new/dir\n", w.stderr);
      const u = await h.pod(["run", "--rm", "-u", "1234:5678", IMG, "id"]);
      assert.match(u.stdout, /uid=1234 gid=5678/);
      const n = await h.pod(["run", "--rm", "-u", "nobody", IMG, "id", "-u"]);
      assert.equal(n.stdout.trim(), "65534");
      const bad = await h.pod(["run", "--rm", "-u", "ghost", IMG, "true"]);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /unable to find user ghost/);
    });

    await t.step("-v ro is read-only, rw is writable, named volume persists", async () => {
      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(`${dir}/f`, "host");
      const ro = await h.pod([
        "run",
        "--rm",
        "-v",
        `${dir}:/m:ro`,
        IMG,
        "sh",
        "-c",
        "cat /m/f; echo x > /m/g",
      ]);
      assert.notEqual(ro.code, 0);
      assert.match(ro.stdout, /host/);
      await assert.rejects(Deno.stat(`${dir}/g`));
      const rw = await h.pod(["run", "--rm", "-v", `${dir}:/m`, IMG, "sh", "-c", "echo x > /m/g"]);
      assert.equal(rw.code, 0, rw.stderr);
      assert.equal(await Deno.readTextFile(`${dir}/g`), "x\n");
      await h.pod(["run", "--rm", "-v", "vol1:/data", IMG, "sh", "-c", "echo kept > /data/k"]);
      const v = await h.pod(["run", "--rm", "-v", "vol1:/data", IMG, "cat", "/data/k"]);
      assert.equal(v.stdout, "kept\n");
      const mnt = await h.pod([
        "run",
        "--rm",
        "--mount",
        `type=bind,src=${dir},dst=/b,ro`,
        "--tmpfs",
        "/t",
        IMG,
        "sh",
        "-c",
        "touch /t/ok && ! touch /b/no",
      ]);
      assert.equal(mnt.code, 0, mnt.stderr);
      await Deno.remove(dir, { recursive: true });
    });

    await t.step("isolation: own pid namespace, no host /proc, --read-only", async () => {
      const ps = await h.pod(["run", "--rm", IMG, "sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"]);
      const [pid1, count] = ps.stdout.trim().split("\n").map(Number);
      assert.equal(pid1, 1);
      assert.ok(count < 5, ps.stdout);
      // like podman: the root is read-only (EROFS), /run, /tmp and /var/tmp are writable tmpfs, the generated
      // /run/.containerenv is still there, and the command's own exit code comes back
      const ro = await h.pod(["run", "--rm", "--read-only", IMG, "touch", "/x"]);
      assert.equal(ro.code, 1, ro.stderr);
      assert.match(ro.stderr, /^touch: \/x: Read-only file system$/m);
      const etc = await h.pod(["run", "--rm", "--read-only", IMG, "sh", "-c", "echo x > /etc/x"]);
      assert.equal(etc.code, 1, etc.stderr);
      assert.match(etc.stderr, /Read-only file system/);
      const tmp = await h.pod([
        "run",
        "--rm",
        "--read-only",
        IMG,
        "sh",
        "-c",
        "touch /tmp/a /var/tmp/b /run/c && test -f /run/.containerenv && grep -c ' /tmp tmpfs ' /proc/mounts",
      ]);
      assert.equal(tmp.code, 0, tmp.stderr);
      assert.equal(tmp.stdout, "1\n");
      const host = await h.pod([
        "run",
        "--rm",
        "--pid",
        "host",
        IMG,
        "sh",
        "-c",
        "ls /proc | grep -c '^[0-9]'",
      ]);
      assert.ok(Number(host.stdout.trim()) > 5, host.stdout);
    });

    await t.step("stdin with -i", async () => {
      const r = await h.pod(["run", "--rm", "-i", IMG, "cat"], { stdin: "piped in\n" });
      assert.equal(r.stdout, "piped in\n", r.stderr);
    });

    await t.step("two creates with the same name: exactly one wins", async () => {
      const [a, b] = await Promise.all([
        h.pod(["create", "--name", "same", IMG, "true"]),
        h.pod(["create", "--name", "same", IMG, "true"]),
      ]);
      assert.deepEqual([a.code, b.code].sort(), [0, 125]);
      const loser = a.code ? a : b;
      assert.match(loser.stderr, /the container name "same" is already in use by [0-9a-f]{64}/);
      assert.equal((await h.pod(["rm", "same"])).code, 0);
      const bad = await h.pod(["create", "--name", "-bad", IMG, "true"]);
      assert.equal(bad.code, 125);
    });
  }),
);
