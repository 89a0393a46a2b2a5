/**
 * `system reset` (root and rootless: the running container stopped, everything under the store removed,
 * sub-id-owned files included; a directory that is no store left alone; "n" at the prompt keeps all), and the
 * commands pod has nothing to do for: `system migrate`, `system renumber`, `system connection ls`.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { pathExists } from "../../lib/store/paths.ts";

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const ok = async (args: string[], stdin?: string) => {
      const r = await h.pod(args, stdin === undefined ? {} : { stdin });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r;
    };
    await t.step("migrate, renumber, connection ls", async () => {
      assert.match((await ok(["system", "migrate"])).stderr, /nothing to do/);
      assert.match((await ok(["system", "renumber"])).stderr, /nothing to do/);
      assert.equal(
        (await ok(["system", "connection", "ls"])).stdout,
        "Name        URI         Identity    Default\n",
      );
      assert.equal((await ok(["system", "connection", "ls", "--format", "json"])).stdout, "[]\n");
      const add = await h.pod(["system", "connection", "add", "x", "ssh://h"]);
      assert.equal(add.code, 125);
    });
    await t.step("reset: prompt says no, then -f removes everything", async () => {
      const id = (await ok(["run", "-d", img.ref, "sleep", "600"])).stdout.trim();
      await ok(["run", "-v", "rv:/data", img.ref, "sh", "-c", "touch /data/f && chown 5:5 /data/f"]);
      const pid = (await ok(["inspect", "--format", "{{.State.Pid}}", id])).stdout.trim();
      assert.ok(Number(pid) > 0);
      const no = await ok(["system", "reset"], "n\n");
      assert.match(no.stderr, /WARNING! This will remove:/);
      assert.ok(await pathExists(`${h.home}/volumes/rv`));
      await ok(["system", "reset", "-f"]);
      assert.equal(await pathExists(h.home), false);
      assert.equal(await pathExists(`/proc/${pid}`), false);
      assert.equal((await ok(["ps", "-a", "-q"])).stdout, "");
    });
  });
}

await testRootAndRootless("system reset", suite);
