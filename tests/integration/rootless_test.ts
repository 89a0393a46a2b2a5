/**
 * Rootless containers: pod run as the unprivileged test user `podtest` (subuid ranges from
 * scripts/setup-test-host.sh), with a user namespace mapping the full range.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { rootlessAvailable, subIdRanges, TEST_USER } from "../helpers/rootless.ts";

const enabled = await rootlessAvailable() && await registryAvailable();

Deno.test({
  name: "rootless",
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const reg = await startRegistry();
    const h = await tempPodHome({ user: TEST_USER });
    try {
      const img = await busybox(reg);
      const pulled = await h.pod(["pull", "-q", img.ref]);
      assert.equal(pulled.code, 0, pulled.stderr);
      const IMG = img.ref;

      await t.step("run --rm: root inside, full uid map", async () => {
        const r = await h.pod(["run", "--rm", IMG, "sh", "-c", "id -u; cat /proc/self/uid_map"]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
        assert.equal(lines[0][0], 0);
        const total = lines.slice(1).reduce((n, l) => n + l[2], 0);
        const subids = (await subIdRanges()).reduce((n, s) => n + s.count, 0);
        assert.equal(total, 1 + subids, r.stdout); // the user + its subuid ranges
      });

      await t.step("exit codes", async () => {
        assert.equal((await h.pod(["run", "--rm", IMG, "sh", "-c", "exit 3"])).code, 3);
        assert.equal((await h.pod(["run", "--rm", IMG, "nosuchcmd"])).code, 127);
      });

      await t.step(
        "a file owned by 1000 in the image is owned by 1000 inside; rm cleans subuid files",
        async () => {
          const r = await h.pod([
            "run",
            "--name",
            "own",
            IMG,
            "sh",
            "-c",
            "stat -c '%u:%g' /home/u1000/own; touch /home/u1000/n; chown 1000:1000 /home/u1000/n",
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "1000:1000\n");
          const rm = await h.pod(["rm", "own"]);
          assert.equal(rm.code, 0, rm.stderr);
          const left = [...Deno.readDirSync(`${h.home}/containers`)].filter((e) => e.name !== "names");
          assert.deepEqual(left, []);
        },
      );

      await t.step("read-only host bind, no host /proc", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          "-v",
          "/etc:/hostetc:ro",
          IMG,
          "sh",
          "-c",
          "echo x > /hostetc/pod-test-x && echo WROTE; ls /proc | grep -c '^[0-9]'",
        ]);
        assert.doesNotMatch(r.stdout, /WROTE/);
        assert.ok(Number(r.stdout.trim()) < 5, r.stdout);
        await assert.rejects(Deno.stat("/etc/pod-test-x"));
      });

      await t.step("detached, exec, stop, rm -f", async () => {
        const d = await h.pod(["run", "-d", "--name", "bg", IMG, "sleep", "1000"]);
        assert.equal(d.code, 0, d.stderr);
        const e = await h.pod(["exec", "bg", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"]);
        assert.equal(e.stdout, "sleep 1000 ");
        const t0 = Date.now();
        assert.equal((await h.pod(["stop", "-t", "1", "bg"])).code, 0);
        assert.ok(Date.now() - t0 < 4000);
        assert.match(
          (await h.pod(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).stdout,
          /bg Exited/,
        );
        await h.pod(["start", "bg"]);
        assert.equal((await h.pod(["rm", "-f", "-t", "0", "bg"])).code, 0);
        assert.equal((await h.pod(["ps", "-aq"])).stdout, "");
      });
    } finally {
      await h.pod(["rm", "-af", "-t", "0"]);
      await reg.stop();
      await h.cleanup();
    }
  },
});
