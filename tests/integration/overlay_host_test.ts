/**
 * Host-side readers of overlay containers, root and rootless: `inspect` (podman's overlay GraphDriver, sizes
 * from the upper dir), `top` (the container's /etc/passwd through /proc/<pid>/root), `system df` (a
 * container's own bytes are its upper dir), and the prunes (the upper dir with subordinate-id files goes with
 * the container; the image tree goes once neither an image nor a container needs it).
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";

async function ok(h: TempPodHome, args: string[]): Promise<string> {
  const r = await h.pod(args);
  assert.equal(r.code, 0, `pod ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function trees(h: TempPodHome): string[] {
  try {
    return [...Deno.readDirSync(`${h.home}/trees`)].map((e) => e.name);
  } catch {
    return [];
  }
}

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    // 100000 bytes of its own, and a directory owned by a subordinate id when rootless
    await ok(h, [
      "run",
      "-d",
      "--name",
      "c",
      img.ref,
      "sh",
      "-c",
      "head -c 100000 /dev/zero > /big; mkdir /d; echo x > /d/f; chown -R 1000:1000 /d; chmod 700 /d; " +
      "sleep 1000",
    ]);
    await ok(h, ["run", "-d", "--name", "u", "--user", "1000", img.ref, "sleep", "1000"]);
    for (let i = 0; i < 50; i++) {
      if ((await h.pod(["exec", "c", "test", "-f", "/d/f"])).code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    await t.step("inspect: overlay GraphDriver; SizeRw from the upper dir", async () => {
      const [c] = JSON.parse(await ok(h, ["container", "inspect", "--size", "c"]));
      assert.equal(c.Driver, "overlay");
      assert.equal(c.GraphDriver.Name, "overlay");
      const dir = `${h.home}/containers/${c.Id}`;
      assert.deepEqual(c.GraphDriver.Data, {
        LowerDir: `${h.home}/trees/${trees(h)[0]}`,
        UpperDir: `${dir}/upper`,
        WorkDir: `${dir}/work`,
        MergedDir: `${dir}/rootfs`,
      });
      assert.ok(c.SizeRw >= 100000 && c.SizeRw < 150000, `SizeRw ${c.SizeRw}`);
      assert.ok(c.SizeRootFs > c.SizeRw + 100000, `SizeRootFs ${c.SizeRootFs}`);
    });

    await t.step("top: user names from the container's own /etc/passwd", async () => {
      assert.match(await ok(h, ["top", "c"]), /\nroot\s+1\s+0\s/);
      assert.match(await ok(h, ["top", "u", "user", "pid", "args"]), /\nu1000\s+1\s+sleep 1000\n/);
    });

    await t.step("system df: a container's size is its upper dir", async () => {
      const v = await ok(h, ["system", "df", "--format", "{{.Type}} {{.RawSize}}"]);
      const size = Number(/^Containers (\d+)$/m.exec(v)?.[1]);
      assert.ok(size >= 100000 && size < 150000, v);
    });

    await t.step("container prune removes the upper dir; image prune -a the tree", async () => {
      const id = (await ok(h, ["inspect", "-f", "{{.Id}}", "c"])).trim();
      await ok(h, ["stop", "-t", "0", "c", "u"]);
      const p = await ok(h, ["container", "prune", "-f"]);
      assert.equal(p.trim().split("\n").length, 2, p);
      await assert.rejects(Deno.lstat(`${h.home}/containers/${id}`));
      assert.equal(trees(h).length, 1, "the tree of an image still stored was removed");
      await ok(h, ["image", "prune", "-a", "-f"]);
      assert.deepEqual(trees(h), []);
    });

    await t.step("system prune -a removes containers, images and their tree", async () => {
      await ok(h, ["pull", "-q", img.ref]);
      await ok(h, ["run", "--name", "d", img.ref, "sh", "-c", "mkdir /e && chown 1000 /e"]);
      assert.equal(trees(h).length, 1);
      await ok(h, ["system", "prune", "-a", "-f"]);
      assert.deepEqual(trees(h), []);
      assert.deepEqual([...Deno.readDirSync(`${h.home}/containers`)].map((e) => e.name), ["names"]);
    });
  });
}

await testRootAndRootless("overlay containers on the host side: inspect, top, df, prune", suite);
