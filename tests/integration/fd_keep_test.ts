/**
 * A detached start leaves the calling process's own descriptors alone, root and rootless: a library user's fd 7
 * (inheritable) is still inheritable after `Pod.start` (pods4 had marked every fd >= 3 of the caller
 * close-on-exec; the supervisor now closes what it inherited itself). See fd_keep_scenario.ts.
 * @module
 */
import assert from "node:assert/strict";
import { busybox } from "../helpers/fixtures.ts";
import { testRootAndRootless } from "../helpers/modes.ts";
import { CLI_PATH, podCommand, tempPodHome } from "../helpers/pod.ts";
import { startRegistry } from "../helpers/registry.ts";
import { TEST_USER } from "../helpers/rootless.ts";

const SCRIPT = new URL("./fd_keep_scenario.ts", import.meta.url).pathname;

await testRootAndRootless("a detached start keeps the caller's fds inheritable", (mode) => async () => {
  const reg = await startRegistry();
  const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
  try {
    const img = await busybox(reg);
    const c = await podCommand([h.home, img.ref, "7"], {
      home: h.home,
      ...(mode === "rootless" ? { user: TEST_USER } : {}),
    });
    const args = c.args.map((a) => a === CLI_PATH ? SCRIPT : a);
    const out = await new Deno.Command("sh", {
      args: ["-c", 'exec 7>/dev/null; exec "$@"', "sh", c.cmd, ...args],
      env: c.env,
      clearEnv: true,
      cwd: c.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), ["inheritable"]);
  } finally {
    await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
    await h.cleanup();
    await reg.stop();
  }
});
