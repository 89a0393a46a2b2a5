/**
 * `pod volume …` against a real store, root and rootless: create/ls/inspect/exists/rm/prune (in-use refusal with
 * exit 2, `-f` removing the container), `-o type=tmpfs` and `o=bind`, copy-up of the image's content (with its
 * owners as the container sees them), `--volumes-from`, export/import, and a hostile import tar that must leave
 * nothing outside the volume.
 */
import assert from "node:assert/strict";
import { type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { BUSYBOX_CONFIG, busyboxTar, customImage } from "../helpers/fixtures.ts";
import { startRegistry } from "../helpers/registry.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { TEST_USER } from "../helpers/rootless.ts";
import { buildTar } from "../helpers/tarwriter.ts";

function suite(mode: Mode) {
  return async (t: Deno.TestContext) => {
    const reg = await startRegistry();
    const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
    try {
      // busybox plus /data (owned by 1000:1000, mode 0750) holding a file: the copy-up source
      const img = await customImage(reg, {
        repo: "test/voldata",
        layers: [
          await busyboxTar(),
          {
            entries: [
              { name: "data/", type: "dir", uid: 1000, gid: 1000, mode: 0o750 },
              { name: "data/hello", content: "from the image\n", uid: 1000, gid: 1000 },
            ],
          },
        ],
        config: BUSYBOX_CONFIG,
      });
      // the same with /data declared a VOLUME: each container gets an anonymous volume there
      const volImg = await customImage(reg, {
        repo: "test/volimage",
        layers: [
          await busyboxTar(),
          { entries: [{ name: "data/", type: "dir" }, { name: "data/hello", content: "declared\n" }] },
        ],
        config: { ...BUSYBOX_CONFIG, Volumes: { "/data": {} } },
      });
      assert.equal((await h.pod(["pull", "-q", volImg.ref])).code, 0);
      const pull = await h.pod(["pull", "-q", img.ref]);
      assert.equal(pull.code, 0, pull.stderr);
      const ok = async (args: string[], stdin?: string) => {
        const r = await h.pod(args, stdin === undefined ? {} : { stdin });
        assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      };

      await t.step("create, ls, inspect, exists", async () => {
        assert.equal(await ok(["volume", "create", "--label", "team=a", "v1"]), "v1\n");
        const gen = (await ok(["volume", "create"])).trim();
        assert.match(gen, /^[0-9a-f]{64}$/);
        const dup = await h.pod(["volume", "create", "v1"]);
        assert.equal(dup.code, 125);
        assert.equal(dup.stderr, "Error: volume with name v1 already exists: volume already exists\n");
        assert.equal(await ok(["volume", "create", "--ignore", "v1"]), "v1\n");
        const bad = await h.pod(["volume", "create", "bad/name"]);
        assert.equal(bad.code, 125);
        assert.match(bad.stderr, /names must match/);
        assert.equal((await h.pod(["volume", "create", "-d", "nfs", "x"])).code, 125);
        assert.equal((await h.pod(["volume", "create", "-o", "size=1m", "x"])).code, 125);

        assert.match(
          await ok(["volume", "ls"]),
          new RegExp(`^DRIVER\\s+VOLUME NAME\\nlocal\\s+${gen}\\nlocal\\s+v1\\n$`),
        );
        assert.equal(await ok(["volume", "ls", "-q", "--filter", "label=team=a"]), "v1\n");
        assert.equal(
          await ok(["volume", "ls", "--noheading", "--filter", "name=v1"]).then((s) => s.trim()),
          "local       v1",
        );
        assert.equal(
          await ok(["volume", "ls", "--format", "{{.Name}}:{{.Driver}}", "-f", "name=^v"]),
          "v1:local\n",
        );
        assert.equal((await h.pod(["volume", "ls", "--filter", "colour=red"])).code, 125);

        const j = JSON.parse(await ok(["volume", "inspect", "v1"]));
        assert.equal(j.length, 1);
        assert.equal(j[0].Name, "v1");
        assert.equal(j[0].Driver, "local");
        assert.equal(j[0].Scope, "local");
        assert.deepEqual(j[0].Labels, { team: "a" });
        assert.deepEqual(j[0].Options, {});
        assert.ok(j[0].Mountpoint.endsWith("/volumes/v1/_data"));
        assert.ok(!Number.isNaN(Date.parse(j[0].CreatedAt)));
        assert.equal(
          await ok(["volume", "inspect", "--format", "{{.Name}} {{.Labels.team}}", "v1"]),
          "v1 a\n",
        );
        assert.equal(JSON.parse(await ok(["volume", "inspect", "-a"])).length, 2);
        const missing = await h.pod(["volume", "inspect", "nope"]);
        assert.equal(missing.code, 125);
        assert.match(missing.stderr, /no such volume nope/);
        assert.equal((await h.pod(["volume", "exists", "v1"])).code, 0);
        assert.equal((await h.pod(["volume", "exists", "nope"])).code, 1);
        assert.equal(await ok(["volume", "rm", gen]), `${gen}\n`);
      });

      await t.step("-v NAME:/path creates the volume and copies the image's content in", async () => {
        assert.equal((await h.pod(["volume", "exists", "auto"])).code, 1);
        const out = await ok([
          "run",
          "--rm",
          "-v",
          "auto:/data",
          img.ref,
          "sh",
          "-c",
          "cat /data/hello; stat -c '%u:%g %a' /data /data/hello; echo more > /data/added",
        ]);
        assert.equal(out, "from the image\n1000:1000 750\n1000:1000 644\n");
        assert.equal((await h.pod(["volume", "exists", "auto"])).code, 0);
        // a second use: no copy again, the data written before is there
        await ok(["run", "--rm", "-v", "auto:/data", img.ref, "rm", "/data/hello"]);
        assert.equal(await ok(["run", "--rm", "-v", "auto:/data", img.ref, "ls", "/data"]), "added\n");
        const j = JSON.parse(await ok(["volume", "inspect", "auto"]));
        assert.equal(j[0].NeedsCopyUp, false);
        // an image VOLUME: a new anonymous volume, with the image's content copied in
        assert.equal(await ok(["run", "--rm", volImg.ref, "cat", "/data/hello"]), "declared\n");
        // nocopy: the volume stays empty
        assert.equal(await ok(["run", "--rm", "-v", "nc:/data:nocopy", img.ref, "ls", "-A", "/data"]), "");
        await ok(["volume", "rm", "nc"]);
        // a volume that already has content is not copied into
        await ok(["volume", "create", "pre"]);
        await ok(["run", "--rm", "-v", "pre:/mnt", img.ref, "sh", "-c", "echo mine > /mnt/own"]);
        assert.equal(await ok(["run", "--rm", "-v", "pre:/data", img.ref, "ls", "/data"]), "own\n");
      });

      await t.step("inspect lists volume mounts; --volumes-from", async () => {
        await ok(["create", "--name", "src", "-v", "auto:/data:ro", img.ref, "true"]);
        const m = JSON.parse(await ok(["inspect", "--format", "{{json .Mounts}}", "src"]));
        assert.equal(m.length, 1);
        assert.equal(m[0].Type, "volume");
        assert.equal(m[0].Name, "auto");
        assert.equal(m[0].Destination, "/data");
        assert.equal(m[0].Driver, "local");
        assert.equal(m[0].RW, false);
        assert.ok(m[0].Source.endsWith("/volumes/auto/_data"));
        assert.equal(m[0].Propagation, "rprivate");
        assert.equal(
          await ok(["run", "--rm", "--volumes-from", "src", img.ref, "cat", "/data/added"]),
          "more\n",
        );
        const rw = await h.pod([
          "run",
          "--rm",
          "--volumes-from",
          "src:rw",
          img.ref,
          "sh",
          "-c",
          "echo x > /data/rw && echo written",
        ]);
        assert.equal(rw.stdout, "written\n", rw.stderr);
        const ro = await h.pod([
          "run",
          "--rm",
          "--volumes-from",
          "src",
          img.ref,
          "sh",
          "-c",
          "echo x > /data/ro",
        ]);
        assert.notEqual(ro.code, 0);
        assert.equal((await h.pod(["run", "--rm", "--volumes-from", "nosuch", img.ref, "true"])).code, 125);
        // an anonymous volume shared with --volumes-from goes with `rm -v` of the last container using it
        await ok(["create", "--name", "anon1", "-v", "/anon", img.ref, "true"]);
        const anon = (await ok(["inspect", "--format", "{{range .Mounts}}{{.Name}}{{end}}", "anon1"])).trim();
        assert.match(anon, /^[0-9a-f]{64}$/);
        await ok(["create", "--name", "anon2", "--volumes-from", "anon1", img.ref, "true"]);
        await ok(["rm", "-v", "anon1"]);
        assert.equal((await h.pod(["volume", "exists", anon])).code, 0);
        await ok(["rm", "-v", "anon2"]);
        assert.equal((await h.pod(["volume", "exists", anon])).code, 1);
        // mount/unmount: a local volume's data dir is always there
        assert.match(await ok(["volume", "mount", "auto"]), /\/volumes\/auto\/_data\n$/);
        assert.equal(await ok(["volume", "unmount", "auto"]), "auto\n");
        assert.equal((await h.pod(["volume", "mount", "nope"])).code, 125);
        assert.match(
          await ok(["volume", "ls", "--format", "table {{.Name}} {{.Driver}}", "-f", "name=auto"]),
          /^VOLUME NAME\s+DRIVER\nauto\s+local\n$/,
        );
      });

      await t.step("rm refuses a volume in use (exit 2); -f removes the container; prune", async () => {
        const r = await h.pod(["volume", "rm", "auto"]);
        assert.equal(r.code, 2);
        assert.match(
          r.stderr,
          /^Error: volume auto is being used by the following container\(s\): [0-9a-f]{64}: volume is being used\n$/,
        );
        assert.equal((await h.pod(["volume", "rm", "nope"])).code, 1);
        assert.equal(await ok(["volume", "rm", "-f", "auto"]), "auto\n");
        assert.equal((await h.pod(["container", "exists", "src"])).code, 1);

        await ok(["volume", "create", "--label", "keep=yes", "keep"]);
        await ok(["volume", "create", "gone"]);
        await ok(["create", "--name", "user", "-v", "v1:/x", img.ref, "true"]);
        const no = await h.pod(["volume", "prune"], { stdin: "n\n" });
        assert.equal(no.code, 0);
        assert.match(no.stderr, /The following volumes will be removed:\n[\s\S]*gone[\s\S]*\[y\/N\]/);
        assert.equal(no.stdout, "");
        assert.equal(await ok(["volume", "prune", "-f", "--filter", "label!=keep=yes"]), "gone\npre\n");
        assert.equal(await ok(["volume", "prune"], "y\n"), "keep\n");
        assert.equal(await ok(["volume", "ls", "-q"]), "v1\n");
        assert.equal(await ok(["volume", "ls", "-q", "--filter", "dangling=true"]), "");
        // system prune --volumes filters volumes by their labels too
        await ok(["volume", "create", "--label", "x=1", "lbl"]);
        await ok(["volume", "create", "nolbl"]);
        const sp = await ok(["system", "prune", "-f", "--volumes", "--filter", "label=x=1"]);
        assert.match(sp, /Deleted Volumes\nlbl\n/);
        assert.equal(await ok(["volume", "ls", "-q"]), "nolbl\nv1\n");
        await ok(["volume", "rm", "nolbl"]);
        await ok(["rm", "user"]);
        assert.equal(await ok(["volume", "ls", "-q", "--filter", "dangling=true"]), "v1\n");
      });

      await t.step("type=tmpfs and o=bind volumes", async () => {
        await ok(["volume", "create", "-o", "type=tmpfs", "-o", "o=size=2m", "tv"]);
        const out = await ok(["run", "--rm", "-v", "tv:/t", img.ref, "sh", "-c", "grep ' /t ' /proc/mounts"]);
        assert.match(out, /^tmpfs \/t tmpfs .*size=2048k/);
        const dev = `${h.root}/bind-src`;
        await Deno.mkdir(dev);
        await Deno.writeTextFile(`${dev}/f`, "bound\n");
        if (h.user) await Deno.chown(dev, h.user.uid, h.user.gid);
        await ok(["volume", "create", "-o", "o=bind", "-o", `device=${dev}`, "bv"]);
        assert.equal(await ok(["run", "--rm", "-v", "bv:/b", img.ref, "cat", "/b/f"]), "bound\n");
        const bt = await h.pod(["volume", "export", "bv"]);
        assert.equal(bt.code, 0, bt.stderr);
        assert.ok(bt.stdout.includes("bound\n"), "export of a bind volume is its device's content");
        const missing = await h.pod(["volume", "create", "-o", "o=bind", "-o", `device=${dev}/nope`, "bv2"]);
        assert.equal(missing.code, 125);
      });

      await t.step("export and import", async () => {
        await ok(["volume", "create", "ex"]);
        await ok(["run", "--rm", "-v", "ex:/e", img.ref, "sh", "-c", "mkdir /e/d && echo hi > /e/d/f"]);
        const tarFile = `${h.root}/ex.tar`;
        await ok(["volume", "export", "-o", tarFile, "ex"]);
        if (h.user) await Deno.chown(tarFile, h.user.uid, h.user.gid);
        const list = new TextDecoder().decode(
          (await new Deno.Command("tar", { args: ["-tf", tarFile] }).output()).stdout,
        );
        assert.match(list, /\.\/d\/f/);
        await ok(["volume", "create", "im"]);
        await ok(["volume", "import", "im", tarFile]);
        assert.equal(await ok(["run", "--rm", "-v", "im:/i", img.ref, "cat", "/i/d/f"]), "hi\n");
        const stdinTar = buildTar([
          { name: "piped", content: "from stdin\n" },
          { name: "owned", content: "", uid: 1000, gid: 1001, mode: 0o640 },
        ]);
        const r = await h.pod(["volume", "import", "im", "-"], { stdin: stdinTar });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await ok(["run", "--rm", "-v", "im:/i", img.ref, "cat", "/i/piped"]), "from stdin\n");
        // the archive's owners as the container sees them (rootless: set inside the user namespace)
        assert.equal(
          await ok(["run", "--rm", "-v", "im:/i", img.ref, "stat", "-c", "%u:%g %a", "/i/owned"]),
          "1000:1001 640\n",
        );
        const nope = await h.pod(["volume", "import", "nope", tarFile]);
        assert.equal(nope.code, 125);
        assert.match(nope.stderr, /no such volume nope/);
      });

      await t.step("a hostile import tar leaves nothing outside the volume", async () => {
        const outside = `${h.root}/outside`;
        await Deno.mkdir(outside);
        if (h.user) await Deno.chown(outside, h.user.uid, h.user.gid);
        await ok(["volume", "create", "evil"]);
        const cases: [string, Parameters<typeof buildTar>[0]][] = [
          ["dotdot", [{ name: "../../../escape-dotdot", content: "x" }]],
          ["absolute name", [{ name: `${outside}/abs-name`, content: "abs" }]], // escaped, it lands in `outside`
          ["absolute symlink", [
            { name: "link", type: "symlink", linkname: outside },
            { name: "link/through-link", content: "pwned" },
          ]],
          ["climbing symlink", [
            { name: "rel", type: "symlink", linkname: "../../../../../../.." + outside },
            { name: "rel/through-rel", content: "pwned" },
          ]],
        ];
        for (const [what, entries] of cases) {
          const r = await h.pod(["volume", "import", "evil", "-"], { stdin: buildTar(entries) });
          console.log(`hostile import (${what}): exit ${r.code} ${r.stderr.trim()}`);
          assert.ok(r.stderr.split("\n").length <= 2, r.stderr);
        }
        const left: string[] = [];
        for await (const e of Deno.readDir(outside)) left.push(e.name);
        assert.deepEqual(left, []);
        // what the links pointed at was resolved inside the volume: the files are there
        const data = `${h.home}/volumes/evil/_data`;
        for (const f of ["abs-name", "through-link", "through-rel"]) {
          assert.ok(await Deno.lstat(`${data}${outside}/${f}`).then(() => true, () => false), f);
        }
        const store = `${h.home}/volumes`;
        for (const p of [`${store}/escape-dotdot`, `${h.home}/escape-dotdot`, `${h.root}/escape-dotdot`]) {
          assert.equal(await Deno.lstat(p).then(() => true, () => false), false, p);
        }
      });
    } finally {
      await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
      await h.cleanup();
      await reg.stop();
    }
  };
}

await testRootAndRootless("volume lifecycle", suite);
