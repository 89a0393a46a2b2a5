/**
 * `commit --squash` (one layer with the whole tree, one history entry, `--iidfile`) and `image mount` /
 * `image umount` (podman's counting, listing, JSON, errors; rootless refused as podman refuses it outside
 * `podman unshare`), root and rootless.
 */
import assert from "node:assert/strict";
import { errorLine, isOneLineError } from "../helpers/pod.ts";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";

async function isMountPoint(path: string): Promise<boolean> {
  const info = await Deno.readTextFile("/proc/self/mountinfo");
  return info.split("\n").some((l) => l.split(" ")[4] === path);
}

await testRootAndRootless(
  "commit --squash: one layer holding the whole tree, one history entry; --iidfile",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const script = "echo new > /new.txt && chown 1000:1000 /new.txt && rm /etc/group && mkdir -p /d/e && " +
        "echo x > /d/e/f";
      const c = await h.pod(["run", "--name", "c1", img.ref, "sh", "-c", script]);
      assert.equal(c.code, 0, c.stderr);
      const iid = `${h.userHome}/iid`;
      const r = await h.pod(["commit", "-q", "--squash", "--iidfile", iid, "-m", "squashed", "c1", "sq"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^[a-f0-9]{64}\n$/);
      assert.equal(await Deno.readTextFile(iid), r.stdout.trim(), "podman writes the bare ID");
      const fmt = "{{len .RootFS.Layers}} {{json .History}}";
      const inspect = await h.pod(["image", "inspect", "--format", fmt, "localhost/sq:latest"]);
      assert.equal(inspect.code, 0, inspect.stderr);
      const [layers, history] = [
        inspect.stdout.slice(0, inspect.stdout.indexOf(" ")),
        inspect.stdout.slice(inspect.stdout.indexOf(" ") + 1),
      ];
      assert.equal(layers, "1");
      const hist = JSON.parse(history);
      assert.equal(hist.length, 1);
      assert.equal(hist[0].comment, "squashed");
      assert.ok(img.layers.length >= 1);
      // the one layer is the whole tree: busybox's files, the new file with the owner the container saw, the
      // deletion applied (no whiteout needed: nothing is below)
      const check = await h.pod([
        "run",
        "--rm",
        "sq",
        "sh",
        "-c",
        "test ! -e /etc/group && stat -c '%u:%g' /new.txt && cat /d/e/f && test -x /bin/busybox && echo ok",
      ]);
      assert.equal(check.code, 0, check.stderr);
      assert.equal(check.stdout, "1000:1000\nx\nok\n");
      const diff = await h.pod(["diff", "sq"]);
      assert.equal(diff.code, 0, diff.stderr);
      assert.match(diff.stdout, /^A \/new\.txt$/m);
      assert.doesNotMatch(diff.stdout, /\.wh\.|^D /m, "a squashed layer carries no whiteouts");
      // -s is its short name
      const s = await h.pod(["commit", "-q", "-s", "c1", "sq2"]);
      assert.equal(s.code, 0, s.stderr);
    }),
);

await testRootAndRootless(
  "image mount / umount: counted read-only mounts, listing, --format json, -a, podman's errors",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      if (mode === "rootless") {
        const m = await h.pod(["image", "mount", img.ref]);
        assert.equal(m.code, 125, m.stderr);
        assert.equal(
          errorLine(m.stderr),
          'Error: cannot run command "pod image mount" in rootless mode, must execute `pod unshare` first',
        );
        for (const a of [["-a"], ["--format", "json"]]) {
          assert.equal((await h.pod(["image", "mount", ...a])).code, 125, a.join(" "));
        }
        const list = await h.pod(["image", "mount"]);
        assert.equal(list.code, 0, list.stderr);
        assert.equal(list.stdout, "");
        const um = await h.pod(["image", "umount", img.ref]);
        assert.equal(um.code, 0, um.stderr);
        assert.equal(um.stdout, "", "not mounted: nothing printed");
        const missing = await h.pod(["image", "umount", "nosuch"]);
        assert.equal(missing.code, 125);
        assert.equal(errorLine(missing.stderr), "Error: nosuch: image not known");
        return;
      }
      let path = "";
      try {
        const m = await h.pod(["image", "mount", img.ref]);
        assert.equal(m.code, 0, m.stderr);
        path = m.stdout.trim();
        assert.ok(path.startsWith(h.home), path);
        assert.ok(await isMountPoint(path), "mounted");
        assert.ok((await Deno.stat(`${path}/bin/busybox`)).isFile);
        await assert.rejects(Deno.writeTextFile(`${path}/x`, "x"), "read-only");
        const id = (await h.pod(["image", "inspect", "--format", "{{.Id}}", img.ref])).stdout.trim();
        const again = await h.pod(["image", "mount", img.ref]);
        assert.equal(again.stdout.trim(), path, "the same mount point, counted");
        const list = await h.pod(["image", "mount"]);
        assert.equal(list.stdout, `${img.ref}  ${path}\n`);
        const js = await h.pod(["image", "mount", "--format", "json"]);
        assert.equal(js.code, 0, js.stderr);
        const rows = JSON.parse(js.stdout);
        assert.deepEqual(
          rows.map((r: { id: string; Repositories: string[]; mountpoint: string }) => [
            r.id,
            r.Repositories,
            r.mountpoint,
          ]),
          [[id, [img.ref], path]],
        );
        assert.match(rows[0].Names[0], /^sha256:[a-f0-9]{64}$/);
        // two mounts: the first umount prints the ID and keeps it mounted, the second unmounts
        const u1 = await h.pod(["image", "umount", img.ref]);
        assert.equal(u1.stdout, `${id}\n`);
        assert.ok(await isMountPoint(path), "still mounted once");
        const u2 = await h.pod(["image", "unmount", img.ref]);
        assert.equal(u2.stdout, `${id}\n`);
        assert.ok(!(await isMountPoint(path)), "unmounted");
        const u3 = await h.pod(["image", "umount", img.ref]);
        assert.equal(u3.code, 0);
        assert.equal(u3.stdout, "", "not mounted: nothing printed");
        assert.equal((await h.pod(["image", "mount"])).stdout, "");
        // -a mounts every image and lists them; umount -f / -a takes every count back at once
        const all = await h.pod(["image", "mount", "-a"]);
        assert.equal(all.stdout, `${img.ref}  ${path}\n`);
        await h.pod(["image", "mount", img.ref]);
        const f = await h.pod(["image", "umount", "-f", img.ref]);
        assert.equal(f.stdout, `${id}\n`);
        assert.ok(!(await isMountPoint(path)), "-f unmounts whatever the count");
        await h.pod(["image", "mount", img.ref]);
        await h.pod(["image", "mount", img.ref]);
        const ua = await h.pod(["image", "umount", "-a"]);
        assert.equal(ua.stdout, `${id}\n`);
        assert.ok(!(await isMountPoint(path)));
        // rmi of a mounted image only untags it, as podman: the mount and the image stay
        await h.pod(["image", "mount", img.ref]);
        const rmi = await h.pod(["rmi", img.ref]);
        assert.equal(rmi.code, 0, rmi.stderr);
        assert.equal(rmi.stdout, `Untagged: ${img.ref}\n`);
        assert.ok((await Deno.stat(`${path}/bin/busybox`)).isFile, "still mounted, still there");
        assert.equal((await h.pod(["image", "exists", id])).code, 0);
        assert.equal((await h.pod(["image", "umount", id])).stdout, `${id}\n`);
        assert.equal((await h.pod(["tag", id, img.ref])).code, 0);
        // podman's errors
        for (
          const [args, msg] of [
            [["image", "umount"], "Error: image name or ID must be specified"],
            [
              ["image", "umount", "-a", img.ref],
              "Error: when using the --all switch, you may not pass any image names or IDs",
            ],
            [
              ["image", "mount", "-a", img.ref],
              "Error: when using the --all switch, you may not pass any image names or IDs",
            ],
            [["image", "mount", "--format", "table"], 'Error: unknown --format argument: "table"'],
            [["image", "mount", "nosuch"], "Error: nosuch: image not known"],
          ] as const
        ) {
          const r = await h.pod([...args]);
          assert.equal(r.code, 125, `${args.join(" ")}: ${r.stderr}`);
          assert.ok(isOneLineError(r.stderr), r.stderr);
          assert.equal(errorLine(r.stderr), msg);
        }
      } finally {
        await h.pod(["image", "umount", "-a"]).catch(() => {});
        if (path && await isMountPoint(path)) {
          await new Deno.Command("umount", { args: [path] }).output();
        }
      }
    }),
);
