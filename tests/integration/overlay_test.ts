/**
 * Overlay root file systems (the default storage driver): one image tree per image and id mapping, shared
 * read-only by its containers, each with its own upper dir; trees built once even by racing first starts,
 * kept while the image or a container needs them; the vfs driver still works. Root and rootless.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";
import { subordinateHostId } from "../helpers/rootless.ts";

function trees(h: TempPodHome): { done: string[]; temp: string[] } {
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(`${h.home}/trees`)].map((e) => e.name).sort();
  } catch { /* no trees dir */ }
  return { done: names.filter((n) => !n.includes(".tmp-")), temp: names.filter((n) => n.includes(".tmp-")) };
}

async function ok(h: TempPodHome, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await h.pod(args, env ? { env } : undefined);
  assert.equal(r.code, 0, `pod ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const IMG = img.ref;

    await t.step("racing first runs build one tree; every run works", async () => {
      const runs = await Promise.all([1, 2, 3].map((i) => h.pod(["run", "--rm", IMG, "echo", `r${i}`])));
      for (const [i, r] of runs.entries()) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `r${i + 1}\n`);
      }
      const tr = trees(h);
      assert.equal(tr.done.length, 1, JSON.stringify(tr));
      assert.deepEqual(tr.temp, []);
      assert.match(tr.done[0], mode === "root" ? /-host$/ : /-[a-f0-9]{16}$/);
      const left = [...Deno.readDirSync(`${h.home}/containers`)].filter((e) => e.name !== "names");
      assert.deepEqual(left, [], "--rm left a container dir");
    });

    await t.step("changes stay in the container: delete, add, restart; the tree is untouched", async () => {
      await ok(h, ["create", "--name", "a", IMG, "sh", "-c", "rm /bin/ls; echo a > /etc/a; mkdir -p /x/y"]);
      await ok(h, ["start", "-a", "a"]);
      const b = await ok(h, [
        "run",
        "--rm",
        IMG,
        "sh",
        "-c",
        "ls /bin/ls; ls /etc/a 2>&1; ls -d /x 2>&1; true",
      ]);
      assert.match(b, /^\/bin\/ls$/m);
      assert.match(b, /\/etc\/a: No such file/);
      assert.match(b, /\/x: No such file/);
      await ok(h, ["rm", "a"]);
      await ok(h, ["create", "--name", "a2", IMG, "sh", "-c", "rm /bin/ls && echo a > /etc/a"]);
      await ok(h, ["start", "-a", "a2"]);
      const again = await h.pod(["start", "-a", "a2"]); // rm fails now: /bin/ls is gone in a2 only
      assert.equal(again.code, 1, again.stderr);
      const tree = `${h.home}/trees/${trees(h).done[0]}`;
      assert.ok(Deno.lstatSync(`${tree}/bin/ls`).isSymlink, "the shared tree was changed");
      await assert.rejects(Deno.lstat(`${tree}/etc/a`));
      await ok(h, ["rm", "a2"]);
    });

    await t.step(
      "ownership: image uid 1000 is 1000 inside; subuid files in upper are removed by rm",
      async () => {
        const out = await ok(h, [
          "run",
          "--name",
          "own",
          IMG,
          "sh",
          "-c",
          "stat -c '%u:%g' /home/u1000/own; touch /home/u1000/n; chown 1000:1000 /home/u1000/n; id -u",
        ]);
        assert.equal(out, "1000:1000\n0\n");
        const tree = `${h.home}/trees/${trees(h).done[0]}`;
        const hostUid = Deno.lstatSync(`${tree}/home/u1000/own`).uid;
        assert.equal(hostUid, mode === "root" ? 1000 : await subordinateHostId(1000));
        await ok(h, ["rm", "own"]);
        const left = [...Deno.readDirSync(`${h.home}/containers`)].filter((e) => e.name !== "names");
        assert.deepEqual(left, []);
      },
    );

    await t.step("the tree stays with the image; rmi -f removes containers, image and tree", async () => {
      await ok(h, ["create", "--name", "keep", IMG, "cat", "/etc/passwd"]);
      assert.equal((await h.pod(["rmi", IMG])).code, 2); // in use
      assert.equal(trees(h).done.length, 1);
      assert.match(await ok(h, ["start", "-a", "keep"]), /^root:/);
      const rmi = await h.pod(["rmi", "-f", IMG]);
      assert.equal(rmi.code, 0, rmi.stderr);
      assert.doesNotMatch(await ok(h, ["ps", "-a", "--format", "{{.Names}}"]), /keep/);
      assert.deepEqual(trees(h), { done: [], temp: [] });
      await ok(h, ["pull", "-q", IMG]);
    });

    await t.step("a dead builder's temp tree is removed; a live one's is kept", async () => {
      await ok(h, ["run", "--rm", IMG, "true"]);
      const key = trees(h).done[0];
      const dead = `${h.home}/trees/${key}.tmp-999999999`;
      const live = `${h.home}/trees/${key}.tmp-${Deno.pid}`;
      for (const d of [dead, live]) {
        Deno.mkdirSync(d);
        if (h.user) Deno.chownSync(d, h.user.uid, h.user.gid);
      }
      const r = await ok(h, ["system", "check", "--repair"]);
      assert.match(r, /removed 1 unused image tree/);
      await assert.rejects(Deno.lstat(dead));
      Deno.removeSync(live);
      assert.equal(trees(h).done.length, 1);
    });

    await t.step(
      "runperf: --rm mounts its root volatile (no sync at exit); a kept one does not",
      async () => {
        const rootOpts = (mountinfo: string) => {
          const line = mountinfo.split("\n").find((l) => l.split(" ")[4] === "/");
          assert.ok(line, mountinfo);
          return line.split(" - ")[1];
        };
        const rm = await ok(h, ["run", "--rm", IMG, "cat", "/proc/self/mountinfo"]);
        assert.match(rootOpts(rm), /^overlay overlay .*\bvolatile\b/);
        const kept = await ok(h, ["run", "--name", "kept", IMG, "cat", "/proc/self/mountinfo"]);
        assert.match(rootOpts(kept), /^overlay overlay /);
        assert.doesNotMatch(rootOpts(kept), /\bvolatile\b/);
        // a volatile mount leaves work/work/incompat/volatile, which makes overlayfs refuse the next mount of the
        // same dirs (a restart after a crash, `pod mount`): the mount removes it first
        const id = (await ok(h, ["inspect", "--format", "{{.Id}}", "kept"])).trim();
        const work = `${h.home}/containers/${id}/work/work`;
        for (const d of [`${work}/incompat`, `${work}/incompat/volatile`]) {
          Deno.mkdirSync(d, { mode: 0o700 });
          if (h.user) Deno.chownSync(d, h.user.uid, h.user.gid);
        }
        const again = rootOpts(await ok(h, ["start", "-a", "kept"]));
        assert.match(again, /^overlay overlay /);
        assert.doesNotMatch(again, /\bvolatile\b/);
        assert.ok(
          !Deno.statSync(work).isDirectory || ![...Deno.readDirSync(work)].length,
          "incompat was kept",
        );
        await ok(h, ["rm", "kept"]);
        // a --rm container's dir goes without the user namespace's rm (the 000 dirs are opened up first)
        const left = [...Deno.readDirSync(`${h.home}/containers`)].filter((e) => e.name !== "names");
        assert.deepEqual(left, []);
      },
    );

    await t.step("POD_STORAGE_DRIVER=vfs: a copy of its own, no tree needed", async () => {
      const env = { POD_STORAGE_DRIVER: "vfs" };
      await ok(h, ["create", "--name", "v", IMG, "sh", "-c", "rm /bin/ls; echo v"], env);
      assert.equal(await ok(h, ["start", "-a", "v"]), "v\n");
      const id = (await ok(h, ["inspect", "--format", "{{.Id}}", "v"])).trim();
      await assert.rejects(Deno.lstat(`${h.home}/containers/${id}/rootfs/bin/ls`));
      assert.ok(Deno.lstatSync(`${h.home}/containers/${id}/rootfs/bin/sh`).isSymlink);
      await ok(h, ["rm", "v"]);
      const bad = await h.pod(["create", IMG, "true"], { env: { POD_STORAGE_DRIVER: "zfs" } });
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /^Error: unknown storage driver "zfs"/);
    });
  });
}

await testRootAndRootless("overlay", suite);
