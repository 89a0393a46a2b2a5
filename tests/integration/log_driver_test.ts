/**
 * `--log-driver` / `--log-opt` (path, max-size rotation, tag), and `logs` of several containers with `--names`
 * and `--since`/`--until` in podman's forms, as root and rootless.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";

const LOOP = "for i in $(seq 1 40); do echo line-$i-abcdefghijklmnopqrstuvwxyz0123456789; sleep 0.02; done";

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    await t.step(
      "--log-opt path= and max-size=: rotated once past the size, logs reads the current file",
      async () => {
        const path = `${h.root}/my.log`;
        const r = await h.pod([
          "run",
          "-d",
          "--name",
          "rot",
          "--log-opt",
          `path=${path}`,
          "--log-opt",
          "max-size=1k",
          "--log-opt",
          "tag=t1",
          img.ref,
          "sh",
          "-c",
          LOOP,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await h.pod(["wait", "rot"], { timeoutMs: 60_000 })).stdout.trim(), "0");
        const cur = await Deno.stat(path);
        const old = await Deno.stat(`${path}.1`);
        assert.ok(cur.size > 0 && cur.size <= 1000, `current log ${cur.size} bytes`);
        assert.ok(old.size > 0 && old.size <= 1000, `rotated log ${old.size} bytes`);
        const logs = await h.pod(["logs", "rot"]);
        assert.equal(logs.code, 0, logs.stderr);
        const lines = logs.stdout.trim().split("\n");
        assert.match(lines.at(-1)!, /^line-40-/);
        assert.ok(lines.length < 40, "the rotated part is not shown");
        const i = await h.pod([
          "inspect",
          "--format",
          "{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Path}} {{.HostConfig.LogConfig.Tag}} " +
          "{{.HostConfig.LogConfig.Size}}",
          "rot",
        ]);
        assert.equal(i.stdout.trim(), `k8s-file ${path} t1 1kB`);
      },
    );

    await t.step("max-size in the foreground (run without -d): rotated the same way", async () => {
      const path = `${h.root}/fg.log`;
      const r = await h.pod([
        "run",
        "--name",
        "rotfg",
        "--log-opt",
        `path=${path}`,
        "--log-opt",
        "max-size=1k",
        img.ref,
        "sh",
        "-c",
        LOOP,
      ], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split("\n").length, 41);
      const cur = await Deno.stat(path);
      const old = await Deno.stat(`${path}.1`);
      assert.ok(cur.size > 0 && cur.size <= 1000, `current log ${cur.size} bytes`);
      assert.ok(old.size > 0 && old.size <= 1000, `rotated log ${old.size} bytes`);
      assert.match((await h.pod(["logs", "--tail", "1", "rotfg"])).stdout, /^line-40-/);
    });

    await t.step("--log-driver none: nothing kept, logs refuses as podman", async () => {
      const r = await h.pod([
        "run",
        "-d",
        "--name",
        "nolog",
        "--log-driver",
        "none",
        img.ref,
        "echo",
        "hidden",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await h.pod(["wait", "nolog"])).stdout.trim(), "0");
      const l = await h.pod(["logs", "nolog"]);
      assert.equal(l.code, 125);
      assert.match(l.stderr, /this container is using the 'none' log driver, cannot read logs/);
      const i = await h.pod(["inspect", "--format", "{{.HostConfig.LogConfig.Type}}", "nolog"]);
      assert.equal(i.stdout.trim(), "none");
    });

    await t.step("--log-driver passthrough: the output goes to pod's own stdout, no log", async () => {
      const r = await h.pod([
        "run",
        "--name",
        "pt",
        "--log-driver",
        "passthrough",
        img.ref,
        "echo",
        "through",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "through\n");
      const l = await h.pod(["logs", "pt"]);
      assert.equal(l.code, 125);
      assert.match(l.stderr, /'passthrough' log driver, cannot read logs/);
    });

    await t.step("bad --log-driver / --log-opt: one line, exit 125", async () => {
      const bad = await h.pod(["create", "--log-driver", "bogus", img.ref]);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /invalid log driver: invalid argument/);
      const opt = await h.pod(["create", "--log-opt", "max-size=lots", img.ref]);
      assert.equal(opt.code, 125);
      assert.match(opt.stderr, /invalid log option "max-size=lots"/);
    });

    await t.step("logs of several containers, --names, --since/--until forms", async () => {
      for (const n of ["la", "lb"]) {
        const r = await h.pod(["run", "--name", n, img.ref, "echo", `from-${n}`]);
        assert.equal(r.code, 0, r.stderr);
      }
      const both = await h.pod(["logs", "-n", "la", "lb"]);
      assert.equal(both.code, 0, both.stderr);
      assert.deepEqual(both.stdout.trim().split("\n").sort(), ["la from-la", "lb from-lb"]);
      const ids = await h.pod(["logs", "la", "lb"]);
      assert.match(ids.stdout, /^[0-9a-f]{12} from-l[ab]\n[0-9a-f]{12} from-l[ab]\n$/);
      const past = new Date(Date.now() - 3600_000);
      const offset = past.toISOString().replace("Z", "").replace(/\.(\d+)$/, ".$1123456") + "+00:00";
      for (
        const since of [
          "10m",
          String(Math.floor(past.getTime() / 1000)),
          offset,
          "2024-01-01T02:00:00.5+02:00",
        ]
      ) {
        const r = await h.pod(["logs", "--since", since, "la"]);
        assert.equal(r.code, 0, `${since}: ${r.stderr}`);
        assert.equal(r.stdout, "from-la\n", since);
      }
      const until = await h.pod(["logs", "--until", offset, "la"]);
      assert.equal(until.code, 0, until.stderr);
      assert.equal(until.stdout, "");
      const future = await h.pod(["logs", "--since", "2999-01-01T00:00:00Z", "la"]);
      assert.equal(future.stdout, "");
      const bad = await h.pod(["logs", "--since", "yesterday", "la"]);
      assert.equal(bad.code, 125);
    });
  });
}

await testRootAndRootless("log driver", suite);
