/**
 * `--rootfs DIR[:O]` (issue 13), root and rootless: a busybox tree staged by the test is the container's root
 * (a write lands in the directory); with `:O` an overlay takes the writes and the directory stays unchanged;
 * inspect shows `Rootfs`; `rm` leaves the directory; a missing directory is one clear line, exit 125.
 */
import assert from "node:assert/strict";
import { busyboxTree, stageTree } from "../helpers/fixtures.ts";
import { isOneLineError, tempPodHome } from "../helpers/pod.ts";
import { rootlessAvailable, TEST_USER } from "../helpers/rootless.ts";

const rootless = Deno.uid() === 0 && await rootlessAvailable();
if (!rootless) {
  console.log("rootfs_test: no rootless set-up (user podtest + /etc/subuid): rootless suite skipped");
}

/** Gives the tree to `uid:gid` (links themselves, not their targets). */
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  const out = await new Deno.Command("chown", { args: ["-hR", `${uid}:${gid}`, dir] }).output();
  if (!out.success) throw new Error(`chown ${dir} failed`);
}

for (const mode of ["root", "rootless"] as const) {
  Deno.test({
    name: `--rootfs (${mode})`,
    ignore: Deno.uid() !== 0 || (mode === "rootless" && !rootless),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      await using h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
      const dir = `${h.root}/tree`;
      await stageTree(dir, (await busyboxTree()).tree);
      if (h.user) await chownTree(dir, h.user.uid, h.user.gid);
      try {
        await t.step("DIR: the directory is the root, writes land in it, rm keeps it", async () => {
          const r = await h.pod([
            "run",
            "--name",
            "plain",
            "--rootfs",
            dir,
            "sh",
            "-c",
            "id -u; echo hi > /written",
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim(), "0");
          assert.equal(Deno.readTextFileSync(`${dir}/written`), "hi\n");
          // rootless: the user's files are root's in the container, as podman maps them
          const own = await h.pod(["run", "--rm", "--rootfs", dir, "stat", "-c", "%u", "/bin/busybox"]);
          assert.equal(own.code, 0, own.stderr);
          assert.equal(own.stdout.trim(), "0");
          const i = await h.pod(["inspect", "--format", "{{.Rootfs}}|{{.ImageName}}", "plain"]);
          assert.equal(i.code, 0, i.stderr);
          assert.equal(i.stdout.trim().split("|")[0], Deno.realPathSync(dir));
          const ex = await h.pod(["start", "plain"]);
          assert.equal(ex.code, 0, ex.stderr);
          const rm = await h.pod(["rm", "-f", "plain"]);
          assert.equal(rm.code, 0, rm.stderr);
          assert.ok(Deno.statSync(`${dir}/bin/busybox`).isFile, "rm must not remove the directory");
          Deno.removeSync(`${dir}/written`);
        });
        await t.step("DIR:O: an overlay takes the writes, the directory is unchanged", async () => {
          const r = await h.pod([
            "run",
            "--name",
            "over",
            "--rootfs",
            `${dir}:O`,
            "sh",
            "-c",
            "echo new > /written; rm /etc/group; cat /written; test -e /etc/group || echo gone",
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "new\ngone\n");
          assert.throws(() => Deno.statSync(`${dir}/written`), "the write must not reach the directory");
          assert.ok(Deno.statSync(`${dir}/etc/group`).isFile, "the delete must not reach the directory");
          const i = await h.pod(["inspect", "--format", "{{.Rootfs}}", "over"]);
          assert.equal(i.stdout.trim(), `${Deno.realPathSync(dir)}:O`);
          // a second start sees its own earlier write (the container's upper dir)
          const again = await h.pod(["start", "-a", "over"]);
          assert.equal(again.code, 0, again.stderr);
          assert.match(again.stdout, /new/);
        });
        await t.step("a missing directory: one line, exit 125", async () => {
          const r = await h.pod(["run", "--rm", "--rootfs", `${dir}/nope`, "true"]);
          assert.equal(r.code, 125);
          assert.ok(isOneLineError(r.stderr), r.stderr);
          assert.match(r.stderr, /--rootfs .*nope: no such file or directory/);
        });
      } finally {
        await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
      }
    },
  });
}
