/**
 * `--rootfs DIR[:O]` (issue 13), root and rootless: a busybox tree staged by the test is the container's root
 * (a write lands in the directory); with `:O` an overlay takes the writes and the directory stays unchanged;
 * inspect shows `Rootfs`; `rm` leaves the directory; a missing directory is one clear line, exit 125.
 * `run --preserve-fds N` (on such a root): the caller's fds 3..3+N-1 reach the process, no other fd does.
 */
import assert from "node:assert/strict";
import { busyboxTree, stageTree } from "../helpers/fixtures.ts";
import { isOneLineError, podCommand, type TempPodHome, tempPodHome } from "../helpers/pod.ts";
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

/** `pod args` started by a root sh that opened `files` on fds 3, 4, … (Deno.Command passes no extra fds). */
async function podWithFds(h: TempPodHome, files: string[], args: string[]) {
  const c = await podCommand(args, { home: h.home, user: h.user?.name });
  const redirs = files.map((_, i) => `${i + 3}<"$F${i + 3}"`).join(" ");
  const env: Record<string, string> = { ...c.env };
  files.forEach((f, i) => env[`F${i + 3}`] = f);
  const out = await new Deno.Command("sh", {
    args: ["-c", `"$@" ${redirs}`, "sh", c.cmd, ...c.args],
    env,
    clearEnv: true,
    cwd: c.cwd,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
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
          const i = await h.pod([
            "inspect",
            "--format",
            "{{.Rootfs}}|{{.GraphDriver.Data.LowerDir}}",
            "over",
          ]);
          assert.equal(i.stdout.trim(), `${Deno.realPathSync(dir)}:O|${Deno.realPathSync(dir)}`);
          // a second start sees its own earlier write (the container's upper dir)
          const again = await h.pod(["start", "-a", "over"]);
          assert.equal(again.code, 0, again.stderr);
          assert.match(again.stdout, /new/);
        });
        await t.step("--preserve-fds: fds 3.. reach the process, and only those", async () => {
          const files = [`${h.root}/f3`, `${h.root}/f4`];
          Deno.writeTextFileSync(files[0], "three\n");
          Deno.writeTextFileSync(files[1], "four\n");
          // the open fds above 2 of the sh itself, tested by builtins (ls or a glob would open one of their own)
          const fds = "for n in 3 4 5 6 7 8 9 10 11; do [ -e /proc/$$/fd/$n ] && printf '%s ' $n; done; echo";
          const show = `cat <&3; cat <&4 2>/dev/null || echo no4; ${fds}`;
          const two = await podWithFds(h, files, [
            "run",
            "--rm",
            "--preserve-fds",
            "2",
            "--rootfs",
            dir,
            "sh",
            "-c",
            show,
          ]);
          assert.equal(two.code, 0, two.stderr);
          assert.equal(two.stdout, "three\nfour\n3 4 \n");
          const one = await podWithFds(h, files, [
            "run",
            "--rm",
            "--preserve-fds",
            "1",
            "--rootfs",
            dir,
            "sh",
            "-c",
            show,
          ]);
          assert.equal(one.code, 0, one.stderr);
          assert.equal(one.stdout, "three\nno4\n3 \n");
          const none = await podWithFds(h, files, [
            "run",
            "--rm",
            "--rootfs",
            dir,
            "sh",
            "-c",
            fds,
          ]);
          assert.equal(none.stdout, "\n");
          // fd 4 not open in the caller: one line, 125 (else the container would get one of pod's own)
          const bad = await podWithFds(h, [files[0]], [
            "run",
            "--rm",
            "--preserve-fds",
            "2",
            "--rootfs",
            dir,
            "true",
          ]);
          assert.equal(bad.code, 125);
          assert.ok(isOneLineError(bad.stderr), bad.stderr);
          assert.match(bad.stderr, /file descriptor 4 is not open/);
        });
        await t.step("exec --preserve-fds: fds 3.. reach the exec'd process, and only those", async () => {
          const files = [`${h.root}/f3`, `${h.root}/f4`];
          const fds = "for n in 3 4 5 6 7 8 9 10 11; do [ -e /proc/$$/fd/$n ] && printf '%s ' $n; done; echo";
          const up = await h.pod(["run", "-d", "--name", "ex", "--rootfs", dir, "sleep", "60"]);
          assert.equal(up.code, 0, up.stderr);
          const two = await podWithFds(h, files, [
            "exec",
            "--preserve-fds",
            "2",
            "ex",
            "sh",
            "-c",
            `cat <&3 <&4; ${fds}`,
          ]);
          assert.equal(two.code, 0, two.stderr);
          assert.equal(two.stdout, "four\n3 4 \n");
          const none = await podWithFds(h, files, ["exec", "ex", "sh", "-c", fds]);
          assert.equal(none.stdout, "\n");
          const d = await podWithFds(h, files, ["exec", "-d", "--preserve-fds", "1", "ex", "true"]);
          assert.equal(d.code, 125);
          assert.ok(isOneLineError(d.stderr), d.stderr);
          await h.pod(["rm", "-f", "-t", "0", "ex"]);
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
