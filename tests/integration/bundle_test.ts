/**
 * The one-file build (`deno task bundle`, scripts/bundle.ts) works on its own: built into a temp dir, its
 * `pod.js` runs containers as root and rootless — stage 2 then starts from the bundle (`pod.js __stage2`) —
 * and `exec` loads only its own chunks, not every command.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { bundle } from "../../scripts/bundle.ts";
import { errorLine, isOneLineError, type TempPodHome } from "../helpers/pod.ts";

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const dir = await Deno.makeTempDir({ prefix: "pod-bundle-" });
    try {
      await Deno.chmod(dir, 0o755); // the rootless test user runs it
      await bundle(dir);
      await checks(mode, h, img.ref, dir, t);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

async function checks(
  mode: Mode,
  h: TempPodHome,
  ref: string,
  dir: string,
  t: Deno.TestContext,
): Promise<void> {
  const entry = `${dir}/pod.js`;
  const chunks = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".js")).length;
  assert.ok(chunks > 10, `the bundle is split into chunks (${chunks} files)`);

  await t.step("run --rm: output and exit code through a stage 2 started from the bundle", async () => {
    const r = await h.pod(["run", "--rm", ref, "sh", "-c", "echo hi; exit 3"], { entry });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "hi\n");
    assert.equal((await h.pod(["run", "--rm", ref, "nosuchcmd"], { entry })).code, 127);
  });

  await t.step("run -d, exec, rm -f", async () => {
    const d = await h.pod(["run", "-d", "--name", "b", ref, "sleep", "1000"], { entry });
    assert.equal(d.code, 0, d.stderr);
    const e = await h.pod(["exec", "b", "sh", "-c", "echo in; exit 5"], { entry });
    assert.equal(e.code, 5, e.stderr);
    assert.equal(e.stdout, "in\n");
    // exec runs from its own bundle (dist/exec/): its errors, exit codes and help as cli.ts's
    const missing = await h.pod(["exec", "b", "nosuchcmd"], { entry });
    assert.equal(missing.code, 127);
    assert.ok(isOneLineError(missing.stderr), missing.stderr);
    const gone = await h.pod(["exec", "nosuchcontainer", "true"], { entry });
    assert.equal(gone.code, 125);
    assert.match(errorLine(gone.stderr), /no container with name or ID "nosuchcontainer"/);
    const help = await h.pod(["exec", "--help"], { entry });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /pod exec \[options\] CONTAINER COMMAND/);
    // exec6: a planned plain exec from the bundle hands its process over to the compiled helper (where there
    // is a C compiler: else perl, no handoff): its code, its output, its events
    const planned = await h.pod(["exec", "b", "sh", "-c", "echo planned; exit 6"], { entry });
    assert.equal(planned.code, 6, planned.stderr);
    assert.equal(planned.stdout, "planned\n");
    const compiled = (await h.pod(["inspect", "--format", "{{.Id}}", "b"])).stdout.trim();
    const plan = JSON.parse(await Deno.readTextFile(`${h.home}/containers/${compiled}/run/exec_plan.json`));
    if (plan.handoff) {
      // it runs until the file is gone (bounded: 60 s)
      const script =
        "touch /tmp/ready; i=0; while [ -e /tmp/ready ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done";
      const p = await h.startPod(["exec", "b", "sh", "-c", script], { entry });
      let exe = "";
      for (let i = 0; i < 600 && !exe; i++) {
        if ((await h.pod(["exec", "b", "test", "-e", "/tmp/ready"], { entry })).code === 0) {
          exe = await Deno.readLink(`/proc/${p.pid}/exe`);
        }
      }
      await h.pod(["exec", "b", "rm", "/tmp/ready"], { entry });
      assert.equal((await p.done).code, 0);
      assert.match(exe, /\/helpers\/exec-helper-/, "the bundle's plain exec did not hand over");
      const died = (await Deno.readTextFile(`${h.home}/events/events.log`)).trim().split("\n").map((l) =>
        JSON.parse(l)
      ).filter((e) => e.Status === "exec_died" && e.ContainerExitCode === 6);
      assert.equal(died.length, 1, "the planned exec's exec_died (code 6)");
    } else console.log("bundle: no handoff checked: exec uses perl here (no C compiler)");
    const ps = await h.pod(["ps", "--format", "{{.Names}}"], { entry });
    assert.equal(ps.stdout.trim(), "b", ps.stderr);
    assert.equal((await h.pod(["rm", "-f", "-t", "0", "b"], { entry })).code, 0);
  });

  if (mode === "root") {
    await t.step("exec loads only its own chunks; a planned plain exec two files", async () => {
      await h.pod(["run", "-d", "--name", "c", ref, "sleep", "1000"], { entry });
      /** The bundle's files an `exec c true` opens (undefined: no strace here). */
      const execOpens = async (): Promise<Set<string> | undefined> => {
        const st = await Deno.makeTempFile({ prefix: "pod-bundle-strace-" });
        const o = await new Deno.Command("strace", {
          args: [
            "-f",
            "-qq",
            "-e",
            "trace=openat",
            "-o",
            st,
            Deno.execPath(),
            "run",
            "-A",
            "--no-config",
            entry,
          ]
            .concat(["exec", "c", "true"]),
          env: { POD_HOME: h.home, DENO_NO_UPDATE_CHECK: "1" },
          stdout: "null",
          stderr: "piped",
        }).output().catch(() => undefined);
        if (!o) return undefined;
        const opened = new Set(
          [...Deno.readTextFileSync(st).matchAll(/"([^"]+\.js)"/g)].map((m) => m[1]).filter((p) =>
            p.startsWith(dir)
          ),
        );
        await Deno.remove(st);
        assert.ok(o.success, new TextDecoder().decode(o.stderr));
        return opened;
      };
      const first = await execOpens(); // no plan yet: the exec bundle
      if (!first) return; // no strace here
      assert.ok(first.size < chunks / 2, `exec opened ${first.size} of ${chunks} files`);
      const planned = await execOpens();
      assert.deepEqual([...planned!].sort(), [`${dir}/exec_plain.js`, `${dir}/pod.js`]);
      await h.pod(["rm", "-f", "-t", "0", "c"], { entry });
    });
  }
}

await testRootAndRootless("one-file bundle", suite);
