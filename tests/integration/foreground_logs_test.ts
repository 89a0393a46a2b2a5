/**
 * `pod logs` of containers run in the foreground (`run` without `-d`, `start -a`): the output reaches the
 * caller unchanged and is also in the container's log, stdout and stderr apart, like a detached run's.
 * Root and rootless.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const script = "echo out1; echo err1 >&2; printf 'no newline'; exit 4";

    await t.step("run: output passed through and logged, exit code kept", async () => {
      const r = await h.pod(["run", "--name", "fg", img.ref, "sh", "-c", script]);
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.stdout, "out1\nno newline");
      assert.equal(r.stderr, "err1\n");
      const logs = await h.pod(["logs", "fg"]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.equal(logs.stdout, "out1\nno newline");
      assert.equal(logs.stderr, "err1\n");
    });

    await t.step("start -a appends; -i input is not logged, output is", async () => {
      assert.equal((await h.pod(["start", "-a", "fg"])).code, 4);
      assert.equal((await h.pod(["logs", "fg"])).stdout.split("out1").length - 1, 2);
      const r = await h.pod(["run", "-i", "--name", "in", img.ref, "sh", "-c", "cat; echo end"], {
        stdin: "typed\n",
      });
      assert.equal(r.stdout, "typed\nend\n");
      assert.equal((await h.pod(["logs", "in"])).stdout, "typed\nend\n");
    });

    await t.step("run --rm writes no log (the container is gone)", async () => {
      const r = await h.pod(["run", "--rm", "--name", "gone", img.ref, "echo", "hi"]);
      assert.equal(r.stdout, "hi\n");
      assert.equal((await h.pod(["logs", "gone"])).code, 125);
    });
  });
}

await testRootAndRootless("foreground logs", suite);
