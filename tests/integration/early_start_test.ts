/**
 * `run` in the foreground starts stage 2 before the container exists (lib/ns/prelaunch.ts): when the
 * create then fails, or pod is killed, that stage 2 must end by itself and leave nothing behind; when the
 * create succeeds it must run the container exactly like a normal start. Root and rootless.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { isOneLineError, processesOf, type TempPodHome } from "../helpers/pod.ts";

async function settled(h: TempPodHome): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    const left = processesOf(h);
    if (left.length === 0) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
  return processesOf(h);
}

function tempEntries(h: TempPodHome): string[] {
  try {
    return [...Deno.readDirSync(`${h.home}/tmp`)].map((e) => e.name);
  } catch {
    return [];
  }
}

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const IMG = img.ref;

    await t.step("runs like a normal start: output, exit code, stdin is /dev/null", async () => {
      const r = await h.pod(["run", "--rm", IMG, "sh", "-c", "echo out; echo err >&2; cat; exit 4"], {
        stdin: "not for the container\n",
      });
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.stdout, "out\n");
      assert.equal(r.stderr, "err\n");
      assert.equal((await h.pod(["run", "--rm", IMG, "nosuchcmd"])).code, 127);
    });

    await t.step("a create that fails leaves no stage 2 and no temp files", async () => {
      for (
        const args of [
          ["run", "--rm", "--name", "bad/name", IMG, "true"],
          ["run", "--rm", "-v", "/nonexistent-pod-src:/x", IMG, "true"],
          ["run", "--rm", "127.0.0.1:1/none/such:latest", "true"],
        ]
      ) {
        const r = await h.pod(args);
        assert.equal(r.code, 125, `${args.join(" ")}: ${r.stderr}`);
        assert.ok(isOneLineError(r.stderr), r.stderr);
        assert.deepEqual(await settled(h), [], `${args.join(" ")}: processes left`);
      }
      assert.deepEqual(tempEntries(h), []);
    });

    await t.step("pod killed before its container exists: stage 2 ends by itself", async () => {
      // the pull from a port nobody listens on is retried with backoff: time enough to kill pod during it
      const p = await h.startPod(["run", "--rm", "127.0.0.1:1/slow/image:latest", "true"]);
      await new Promise((r) => setTimeout(r, 700));
      p.kill("SIGKILL");
      await p.done;
      assert.deepEqual(await settled(h), [], "processes left after SIGKILL");
    });
  });
}

await testRootAndRootless("early stage 2 start", suite);
