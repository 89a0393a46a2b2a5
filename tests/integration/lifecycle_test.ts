/**
 * Container lifecycle as root: create/start/exec/stop/kill/pause/rm, ps, logs, wait, rename, restart.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testIn } from "../helpers/modes.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await testIn(
  "root",
  "lifecycle (root)",
  busyboxSuite("root", async ({ h, img }, t) => {
    const IMG = img.ref;

    await t.step("run -d, ps, exec sees the same pid namespace and files", async () => {
      const r = await h.pod([
        "run",
        "-d",
        "--name",
        "web",
        IMG,
        "sh",
        "-c",
        "echo ready > /tmp/m; sleep 1000",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
      const ps = await h.pod(["ps"]);
      assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
      assert.match(ps.stdout, /Up .* web\n/);
      await sleep(100);
      const e = await h.pod(["exec", "web", "sh", "-c", "cat /tmp/m; tr '\\0' ' ' < /proc/1/cmdline"]);
      assert.equal(e.code, 0, e.stderr);
      assert.match(e.stdout, /^ready\nsleep 1000/);
      assert.equal((await h.pod(["exec", "web", "sh", "-c", "exit 7"])).code, 7);
      assert.equal((await h.pod(["exec", "web", "nosuch"])).code, 127);
      const env = await h.pod(["exec", "-e", "X=1", "web", "env"]);
      assert.match(env.stdout, /X=1/);
      assert.match(env.stdout, /HOSTNAME=/);
    });

    await t.step("rm of a running container needs -f", async () => {
      const r = await h.pod(["rm", "web"]);
      assert.equal(r.code, 125);
      assert.match(
        r.stderr,
        /cannot remove container [0-9a-f]{64} as it is running - running or paused containers cannot be removed without force: container state improper/,
      );
      const f = await h.pod(["rm", "-f", "-t", "0", "web"]);
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stdout, "web\n");
      assert.equal((await h.pod(["ps", "-aq"])).stdout, "");
    });

    await t.step("stop of a TERM-ignoring container ends by SIGKILL within the timeout", async () => {
      await h.pod(["run", "-d", "--name", "stubborn", IMG, "sh", "-c", 'trap "" TERM; sleep 1000']);
      const t0 = Date.now();
      const s = await h.pod(["stop", "-t", "1", "stubborn"]);
      const took = Date.now() - t0;
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, "stubborn\n");
      assert.ok(took >= 1000 && took < 4000, `stop took ${took} ms`);
      const st = await h.pod(["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
      assert.match(st.stdout, /stubborn Exited \(137\)/);
      assert.equal((await h.pod(["wait", "stubborn"])).stdout, "137\n");
    });

    await t.step("stop is quick when the process handles TERM; start again reuses the rootfs", async () => {
      await h.pod([
        "run",
        "-d",
        "--name",
        "polite",
        IMG,
        "sh",
        "-c",
        "trap 'exit 0' TERM; while :; do sleep 0.1; done",
      ]);
      await sleep(200);
      const t0 = Date.now();
      assert.equal((await h.pod(["stop", "polite"])).code, 0);
      assert.ok(Date.now() - t0 < 3000);
      const again = await h.pod(["start", "polite"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match((await h.pod(["ps"])).stdout, /polite/);
      assert.equal((await h.pod(["restart", "-t", "0", "polite"])).code, 0);
      assert.equal((await h.pod(["kill", "polite"])).code, 0);
      assert.equal((await h.pod(["wait", "polite"])).stdout, "137\n");
    });

    await t.step("logs: stdout and stderr in order, --tail, -f ends with the container", async () => {
      await h.pod([
        "run",
        "-d",
        "--name",
        "talker",
        IMG,
        "sh",
        "-c",
        "echo one; echo two >&2; sleep 0.5; echo three",
      ]);
      const f = await h.pod(["logs", "-f", "talker"]);
      assert.equal(f.stdout, "one\nthree\n");
      assert.equal(f.stderr, "two\n");
      const tail = await h.pod(["logs", "--tail", "1", "talker"]);
      assert.equal(tail.stdout, "three\n");
      const ts = await h.pod(["logs", "-t", "talker"]);
      assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\S* one\n/);
      assert.equal((await h.pod(["wait", "talker"])).stdout, "0\n");
    });

    await t.step("pause/unpause, top, rename, inspect state", async () => {
      await h.pod(["run", "-d", "--name", "p1", IMG, "sleep", "1000"]);
      assert.equal((await h.pod(["pause", "p1"])).code, 0);
      assert.match(
        (await h.pod(["ps", "--format", "{{.Names}} {{.Status}}"])).stdout,
        /^p1 Paused$/m, // podman title-cases non-running states
      );
      assert.equal((await h.pod(["unpause", "p1"])).code, 0);
      const top = await h.pod(["top", "p1"]);
      assert.match(top.stdout, /^USER\s+PID\s+PPID\s+%CPU\s+ELAPSED\s+TTY\s+TIME\s+COMMAND\n/);
      assert.match(top.stdout, /root\s+1\s+0\s.*sleep 1000/);
      assert.equal((await h.pod(["rename", "p1", "p2"])).code, 0);
      assert.match((await h.pod(["ps", "--format", "{{.Names}}"])).stdout, /^p2$/m);
      assert.equal((await h.pod(["rm", "-f", "-t", "0", "p2"])).code, 0);
    });

    await t.step("ps filters, -q, -n, --no-trunc", async () => {
      const id = (await h.pod(["create", "--name", "c1", "-l", "tier=db", IMG, "true"])).stdout.trim();
      assert.equal(
        (await h.pod(["ps", "-aq", "--filter", "label=tier=db"])).stdout,
        `${id.slice(0, 12)}\n`,
      );
      assert.equal((await h.pod(["ps", "-aq", "--no-trunc", "-f", "name=c1"])).stdout, `${id}\n`);
      assert.equal((await h.pod(["ps", "-q", "-f", "status=created"])).stdout, `${id.slice(0, 12)}\n`);
      assert.equal((await h.pod(["ps", "-aq", "-n", "1"])).stdout, `${id.slice(0, 12)}\n`);
      assert.equal((await h.pod(["start", "-a", "c1"])).code, 0);
      assert.match(
        (await h.pod(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).stdout,
        /c1 Exited \(0\)/,
      );
    });

    await t.step("missing container: podman's message", async () => {
      const r = await h.pod(["stop", "nosuch"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /no container with name or ID "nosuch" found: no such container/);
    });
  }),
);
