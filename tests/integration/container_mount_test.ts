/**
 * `pod mount` / `pod umount`: root mounts a container's root on the host (counted, listed, shared with a
 * running container, unmounted by `rm`); rootless is refused with podman's `unshare` error.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { CLI_PATH } from "../helpers/pod.ts";

async function mounted(path: string): Promise<boolean> {
  const info = await Deno.readTextFile("/proc/self/mountinfo");
  return info.split("\n").some((l) => l.split(" ")[4] === path);
}

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const c = await h.pod(["create", "--name", "m1", img.ref, "sh", "-c", "cat /from-host; sleep 1000"]);
    assert.equal(c.code, 0, c.stderr);
    if (mode === "rootless") {
      await t.step("rootless: refused as podman refuses it", async () => {
        for (const args of [["mount", "m1"], ["mount"], ["container", "mount", "m1"]]) {
          const r = await h.pod(args);
          assert.equal(r.code, 125, r.stderr);
          assert.match(
            r.stderr,
            /cannot run command "pod mount" in rootless mode, must execute `pod unshare` first/,
          );
        }
      });
      await t.step("rootless in `pod unshare`: mounted there (the tree of a started container)", async () => {
        assert.equal((await h.pod(["start", "m1"])).code, 0);
        assert.equal((await h.pod(["stop", "-t", "0", "m1"])).code, 0);
        const self = `${Deno.execPath()} run -A ${CLI_PATH}`;
        const r = await h.pod([
          "unshare",
          "sh",
          "-c",
          `p=$(${self} mount m1) && cat $p/etc/hostname && ${self} mount | wc -l && ${self} umount m1 >/dev/null`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "busybox\n1\n");
      });
      return;
    }
    let path = "";
    await t.step("mount a never-started container, write through the mount", async () => {
      const r = await h.pod(["mount", "m1"]);
      assert.equal(r.code, 0, r.stderr);
      path = r.stdout.trim();
      assert.ok(path.startsWith(h.home), path);
      assert.ok(await mounted(path), `${path} is not a mount point`);
      assert.match(await Deno.readTextFile(`${path}/etc/passwd`), /^root:x:0:0/);
      await Deno.writeTextFile(`${path}/from-host`, "written on the host\n");
      const again = await h.pod(["container", "mount", "m1"]);
      assert.equal(again.stdout.trim(), path);
    });
    await t.step("mount with no argument lists it", async () => {
      const r = await h.pod(["mount"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^[0-9a-f]{12}  ${path}\n$`));
    });
    await t.step("start of a mounted container sees the host's write; writes show in the mount", async () => {
      const s = await h.pod(["start", "m1"]);
      assert.equal(s.code, 0, s.stderr);
      const e = await h.pod(["exec", "m1", "sh", "-c", "echo inside > /from-ctr; cat /from-host"]);
      assert.equal(e.code, 0, e.stderr);
      assert.equal(e.stdout, "written on the host\n");
      assert.equal(await Deno.readTextFile(`${path}/from-ctr`), "inside\n");
    });
    await t.step("umount counts down: mounted twice, the first umount keeps it", async () => {
      const u = await h.pod(["umount", "m1"]);
      assert.equal(u.code, 0, u.stderr);
      assert.match(u.stdout, /^[0-9a-f]{64}\n$/);
      assert.ok(await mounted(path));
      const u2 = await h.pod(["unmount", "m1"]);
      assert.equal(u2.code, 0, u2.stderr);
      assert.ok(!(await mounted(path)), "still mounted after the last umount");
      assert.equal((await h.pod(["mount"])).stdout, "");
    });
    await t.step("mount and unmount events", async () => {
      const ev = await h.pod([
        "events",
        "--stream=false",
        "--filter",
        "container=m1",
        "--format",
        "{{.Status}}",
      ]);
      assert.equal(ev.code, 0, ev.stderr);
      const statuses = ev.stdout.trim().split("\n");
      assert.equal(statuses.filter((s) => s === "mount").length, 2, ev.stdout);
      assert.equal(statuses.filter((s) => s === "unmount").length, 2, ev.stdout);
    });
    await t.step("rm -f of a mounted container unmounts it", async () => {
      const r = await h.pod(["mount", "m1"]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(await mounted(path));
      const rm = await h.pod(["rm", "-f", "-t", "0", "m1"]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.ok(!(await mounted(path)), "rm left the mount behind");
    });
    await t.step("errors: unknown container", async () => {
      const r = await h.pod(["mount", "nosuch"]);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /no container with name or ID "nosuch" found/);
    });
  });
}

await testRootAndRootless("container mount", suite);
