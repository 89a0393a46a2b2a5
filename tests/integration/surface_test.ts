/**
 * The everyday podman surface against a real store, root and rootless: `ps --noheading/--filter/--sort` and
 * `{{ .Label "k" }}`, `images --noheading/--filter before|since|readonly|label!`, `--cidfile`/`--filter` on
 * stop/kill/rm/start, `rm --depend`, `wait --condition/--interval`, `inspect -l` and the fields scripts read,
 * `init`.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const run = (args: string[]) => h.pod(args);
    const ok = async (args: string[]) => {
      const r = await h.pod(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const cid = async (name: string) => (await ok(["inspect", "--format", "{{.Id}}", name])).trim();

    await t.step("ps: --noheading, filters, --sort, .Label", async () => {
      await ok(["create", "--name", "c1", "--label", "tier=db", img.ref, "true"]);
      await ok(["create", "--name", "c2", "--label", "tier=web", "--network", "host", img.ref, "true"]);
      await ok(["create", "--name", "c3", img.ref, "true"]);
      const names = async (...args: string[]) =>
        (await ok(["ps", "-a", "--format", "{{.Names}}", ...args])).trim().split("\n").filter(Boolean);
      assert.deepEqual(await names("--filter", "before=c3", "--sort", "names"), ["c1", "c2"]);
      assert.deepEqual(await names("--filter", "since=c1", "--sort", "names"), ["c2", "c3"]);
      assert.deepEqual(await names("--filter", "network=host"), ["c2"]);
      assert.deepEqual(await names("--filter", "restart-policy=no", "--filter", "label=tier=db"), ["c1"]);
      assert.deepEqual(await names("--filter", "health=none", "--sort", "names"), ["c1", "c2", "c3"]);
      assert.deepEqual((await names("--sort", "names")).slice(0, 3), ["c1", "c2", "c3"]);
      const labels = await ok(["ps", "-a", "--sort", "names", "--format", '{{.Names}}={{ .Label "tier" }}']);
      assert.equal(labels, "c1=db\nc2=web\nc3=\n");
      const table = await ok(["ps", "-a", "--noheading"]);
      assert.ok(!table.includes("CONTAINER ID"), table);
      assert.equal(table.trim().split("\n").length, 3);
      const noHead = await ok(["ps", "-a", "--noheading", "--format", "table {{.Names}}", "--sort", "names"]);
      assert.equal(noHead, "c1\nc2\nc3\n");
      const bad = await run(["ps", "-a", "--filter", "before=nosuch"]);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /^Error: .*nosuch/);
      const badPolicy = await run(["ps", "-a", "--filter", "restart-policy=sometimes"]);
      assert.equal(badPolicy.code, 125);
    });

    await t.step("--label-file: labels from a file, --label wins", async () => {
      const f = `${h.root}/labels`;
      await Deno.writeTextFile(f, "# team labels\nteam=core\n\nflag\ntier=file\n");
      await Deno.chmod(f, 0o644);
      await ok(["create", "--name", "lf", "--label-file", f, "--label", "tier=cli", img.ref, "true"]);
      const labels = JSON.parse(await ok(["inspect", "--format", "{{json .Config.Labels}}", "lf"]));
      assert.equal(labels.team, "core");
      assert.equal(labels.flag, "");
      assert.equal(labels.tier, "cli");
      const missing = await run(["create", "--label-file", `${h.root}/nope`, img.ref, "true"]);
      assert.equal(missing.code, 125);
      assert.match(missing.stderr, /^Error: open .*nope: no such file or directory\n/);
      await ok(["rm", "lf"]);
    });

    await t.step("cp between two containers: into a directory and as a new name", async () => {
      await ok(["run", "--name", "cpa", img.ref, "sh", "-c", "mkdir /d && echo hi > /d/f"]);
      await ok(["create", "--name", "cpb", img.ref, "true"]);
      await ok(["cp", "cpa:/d", "cpb:/tmp"]);
      await ok(["cp", "cpa:/d/f", "cpb:/renamed"]);
      const out = `${h.root}/cpout`;
      await ok(["cp", "cpb:/tmp/d/f", `${out}1`]);
      await ok(["cp", "cpb:/renamed", `${out}2`]);
      assert.equal(await Deno.readTextFile(`${out}1`), "hi\n");
      assert.equal(await Deno.readTextFile(`${out}2`), "hi\n");
      const missing = await run(["cp", "cpa:/nope", "cpb:/tmp"]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /nope/);
      assert.deepEqual([...Deno.readDirSync(`${h.home}/tmp`)].filter((e) => e.name.startsWith("cp-")), []);
      await ok(["rm", "cpa", "cpb"]);
    });

    await t.step("images: --noheading, before/since/readonly/label!", async () => {
      const head = await ok(["images", "--noheading"]);
      assert.ok(!head.includes("REPOSITORY"));
      assert.equal(await ok(["images", "--filter", "readonly=true", "-q"]), "");
      assert.notEqual(await ok(["images", "--filter", "readonly=false", "-q"]), "");
      assert.equal(await ok(["images", "--filter", `before=${img.ref}`, "-q"]), "");
      assert.equal(await ok(["images", "--filter", `since=${img.ref}`, "-q"]), "");
      assert.notEqual(await ok(["images", "--filter", "label!=nosuch", "-q"]), "");
      assert.equal(
        await ok(["images", "--noheading", "--format", "table {{.Repository}}"]),
        `${img.ref.replace(/:[^:/]*$/, "")}\n`,
      );
    });

    await t.step("--cidfile and --filter on start/stop/kill/rm; stop --ignore", async () => {
      const dir = await Deno.makeTempDir();
      try {
        const id = (await ok(["run", "-d", "--name", "s1", "--label", "grp=x", img.ref, "sleep", "600"]))
          .trim();
        const f = `${dir}/cid`;
        await Deno.writeTextFile(f, id + "\n");
        await Deno.chmod(dir, 0o755);
        await Deno.chmod(f, 0o644);
        assert.equal(await ok(["kill", "--cidfile", f, "-s", "CONT"]), `${id}\n`);
        assert.equal(await ok(["stop", "-t", "0", "--cidfile", f]), `${id}\n`);
        assert.equal((await ok(["inspect", "--format", "{{.State.StoppedByUser}}", "s1"])).trim(), "true");
        assert.equal(await ok(["start", "--filter", "label=grp=x"]), `${id}\n`);
        assert.equal((await ok(["inspect", "--format", "{{.State.StoppedByUser}}", "s1"])).trim(), "false");
        assert.equal(await ok(["stop", "-t", "0", "--filter", "name=s1"]), `${id}\n`);
        const missing = await run(["stop", "--cidfile", `${dir}/nope`]);
        assert.equal(missing.code, 125);
        assert.match(missing.stderr, /^Error: reading CIDFile: open .*nope: no such file or directory\n/);
        assert.equal((await run(["stop", "--ignore", "nosuch"])).code, 0);
        assert.equal(await ok(["rm", "--cidfile", f]), `${id}\n`);
        assert.equal((await run(["container", "exists", "s1"])).code, 1);
        await ok(["create", "--name", "gone1", "--label", "sweep=1", img.ref, "true"]);
        await ok(["create", "--name", "gone2", "--label", "sweep=1", img.ref, "true"]);
        const removed = (await ok(["rm", "--filter", "label=sweep=1"])).trim().split("\n");
        assert.equal(removed.length, 2);
        assert.equal((await run(["container", "exists", "gone1"])).code, 1);
        await ok(["create", "--name", "lone", img.ref, "true"]);
        assert.equal((await ok(["rm", "--depend", "lone"])).trim(), "lone");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("wait --condition running/--interval; inspect -l and fields", async () => {
      await ok(["create", "--name", "w1", img.ref, "sleep", "600"]);
      const waiter = await h.startPod(["wait", "--condition", "running", "--interval", "50ms", "w1"]);
      await ok(["start", "w1"]);
      const w = await waiter.done;
      assert.equal(w.code, 0, w.stderr);
      assert.equal(w.stdout, "-1\n");
      const badCond = await run(["wait", "--condition", "sleepy", "w1"]);
      assert.equal(badCond.code, 125);
      const badInterval = await run(["wait", "--interval", "soon", "w1"]);
      assert.equal(badInterval.code, 125);
      // the newest container is w1
      const latest = await ok([
        "inspect",
        "-l",
        "--format",
        "{{.Name}} {{.ImageName}} {{.HostConfig.LogConfig.Type}} [{{.State.Health.Status}}] [{{.Config.Timezone}}]",
      ]);
      assert.equal(latest, `w1 ${img.ref} k8s-file [] []\n`);
      const logPath = (await ok(["inspect", "--format", "{{.HostConfig.LogConfig.Path}}", "w1"])).trim();
      assert.equal(logPath, `${h.home}/containers/${await cid("w1")}/ctr.log`);
      assert.equal((await run(["inspect", "-l", "w1"])).code, 125);
      await ok(["volume", "create", "--label", "k=v", "insp"]);
      assert.equal(
        await ok(["inspect", "--type", "volume", "--format", "{{.Name}} {{.Labels.k}}", "insp"]),
        "insp v\n",
      );
      assert.equal(await ok(["inspect", "--format", "{{.Driver}}", "insp"]), "local\n");
      assert.equal((await run(["inspect", "--type", "container", "insp"])).code, 125);
      await ok(["stop", "-t", "0", "w1"]);
    });

    await t.step("init: prepares without running, writes an init event; refused when running", async () => {
      await ok(["create", "--name", "i1", img.ref, "sleep", "600"]);
      assert.equal(await ok(["init", "i1"]), "i1\n");
      assert.equal((await ok(["inspect", "--format", "{{.State.Status}}", "i1"])).trim(), "created");
      const ev = await ok([
        "events",
        "--stream=false",
        "--filter",
        "container=i1",
        "--format",
        "{{.Status}}",
      ]);
      assert.equal(ev, "create\ninit\n");
      await ok(["start", "i1"]);
      const again = await run(["init", "i1"]);
      assert.equal(again.code, 125);
      assert.match(again.stderr, /has already been created in runtime: container state improper/);
      await ok(["rm", "-f", "-t", "0", "i1"]);
    });
  });
}

await testRootAndRootless("surface", suite);
