/**
 * conmon as the supervisor of detached `--runtime runc|crun` containers (issue 13, lib/container/start_conmon.ts):
 * its command line (runtime argv as `-r` + `--runtime-arg`s, the exit dir and log pod reads, the exit command only
 * with a restart policy), which containers it takes, and conmon's exit file read as the exit record.
 */

import assert from "node:assert/strict";
import { conmonArgs, conmonFits } from "../../lib/container/start_conmon.ts";
import { readConmonSync } from "../../lib/ns/conmon_launch.ts";
import type { ContainerRecord } from "../../lib/store/container_types.ts";
import { readExitRecord } from "../../lib/store/container_state.ts";
import { containerPaths } from "../../lib/store/container_paths.ts";

const cfg = (extra: Record<string, unknown> = {}) =>
  ({ id: "abc", name: "web", process: { args: ["true"] }, ...extra }) as unknown as ContainerRecord["config"];

/** The values after each occurrence of `flag`. */
const valuesOf = (args: string[], flag: string) => args.flatMap((a, i) => a === flag ? [args[i + 1]] : []);

Deno.test("conmon's command line: runtime args, bundle, exit dir, k8s-file log; no exit command without a policy", () => {
  const a = conmonArgs("/s", cfg(), ["/usr/sbin/runc", "--root", "/s/runc"], "/s/containers/abc/bundle/pid");
  assert.deepEqual(valuesOf(a, "-r"), ["/usr/sbin/runc"]);
  assert.deepEqual(valuesOf(a, "--runtime-arg"), ["--root", "/s/runc"]);
  assert.deepEqual(valuesOf(a, "-b"), ["/s/containers/abc/bundle"]);
  assert.deepEqual(valuesOf(a, "-c"), ["abc"]);
  assert.deepEqual(valuesOf(a, "-n"), ["web"]);
  assert.deepEqual(valuesOf(a, "--exit-dir"), [containerPaths("/s", "abc").conmonExits]);
  assert.deepEqual(valuesOf(a, "-l"), ["k8s-file:/s/containers/abc/ctr.log"]);
  assert.equal(a.includes("--exit-command"), false);
});

Deno.test("conmon's command line: a restart policy runs `pod container cleanup ID` when the container ends", () => {
  const a = conmonArgs(
    "/s",
    cfg({ restartPolicy: { name: "always", maxRetries: 0 } }),
    ["/usr/sbin/runc"],
    "/p",
  );
  assert.equal(valuesOf(a, "--exit-command").length, 1);
  assert.deepEqual(valuesOf(a, "--exit-command-arg").slice(-5), [
    "--root",
    "/s",
    "container",
    "cleanup",
    "abc",
  ]);
  // a runtime given by name is resolved (conmon execs it without a PATH search)
  const u = conmonArgs("/s", cfg(), ["unshare", "--mount"], "/p");
  assert.match(valuesOf(u, "-r")[0], /^\/.*\/unshare$/);
});

Deno.test("conmon takes plain detached containers; -i, -t, health checks, --timeout, max-size stay with perl", () => {
  assert.equal(conmonFits(cfg()), true);
  assert.equal(conmonFits(cfg({ restartPolicy: { name: "always", maxRetries: 0 } })), true);
  assert.equal(conmonFits(cfg({ process: { args: ["sh"], stdin: true } })), false);
  assert.equal(conmonFits(cfg({ process: { args: ["sh"], terminal: true } })), false);
  assert.equal(conmonFits(cfg({ healthcheck: { interval: 30e9 } })), false);
  assert.equal(conmonFits(cfg({ timeout: 5 })), false);
  assert.equal(conmonFits(cfg({ logMaxSize: 1000 })), false);
});

Deno.test("conmon's exit file is the exit record when there is no exit.json; exit.json wins", async () => {
  const root = await Deno.makeTempDir({ prefix: "pod-conmon-test-" });
  try {
    const cp = containerPaths(root, "abc");
    await Deno.mkdir(cp.conmonExits, { recursive: true });
    assert.equal(await readExitRecord(root, "abc"), undefined);
    await Deno.writeTextFile(cp.conmonExit, ""); // being written
    assert.equal(await readExitRecord(root, "abc"), undefined);
    await Deno.writeTextFile(cp.conmonExit, "137");
    const rec = await readExitRecord(root, "abc");
    assert.equal(rec?.exitCode, 137);
    assert.match(rec!.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    await Deno.writeTextFile(cp.exit, JSON.stringify({ exitCode: 3, finishedAt: "2026-01-01T00:00:00Z" }));
    assert.equal((await readExitRecord(root, "abc"))?.exitCode, 3);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("conmon's sync pipe read as a file (the early start's) or as a stream: the pid, conmon's message, EOF", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pod-conmon-sync-" });
  try {
    const asFile = async (text: string) => {
      await Deno.writeTextFile(`${dir}/sync`, text);
      const f = await Deno.open(`${dir}/sync`, { read: true });
      const got = await readConmonSync(f);
      // let go of: the descriptor is closed once the message is read
      assert.throws(() => f.readSync(new Uint8Array(1)), Deno.errors.BadResource);
      return got;
    };
    assert.deepEqual(await asFile('{"data": 4242}\n'), { data: 4242 });
    assert.deepEqual(await asFile('{"data": -1, "message": "runc: no such file"}'), {
      data: -1,
      message: "runc: no such file",
    });
    assert.deepEqual(await asFile("conmon: bad arguments\n"), { data: -1, message: "conmon: bad arguments" });
    const stream = new Blob(['{"da', 'ta": 7}']).stream();
    assert.deepEqual(await readConmonSync(stream), { data: 7 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
