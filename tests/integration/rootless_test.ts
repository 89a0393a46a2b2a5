/**
 * Rootless containers: pod run as the unprivileged `podtest` user (subuid ranges from
 * scripts/setup-test-host.sh), with a user namespace mapping the full range.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const USER = "podtest";

function userExists(): boolean {
  try {
    return Deno.readTextFileSync("/etc/passwd").split("\n").some((l) => l.startsWith(`${USER}:`)) &&
      Deno.readTextFileSync("/etc/subuid").includes(`${USER}:`);
  } catch {
    return false;
  }
}

const enabled = Deno.uid() === 0 && userExists() && await registryAvailable();

async function pod(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await new Deno.Command("runuser", {
    args: [
      "-u",
      USER,
      "--",
      "env",
      `HOME=${home}`,
      `POD_HOME=${home}/store`,
      `DENO_DIR=${home}/deno`,
      Deno.execPath(),
      "run",
      "-A",
      "-q",
      CLI,
      ...args,
    ],
    clearEnv: true,
    env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test({
  name: "rootless",
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const reg = await startRegistry();
    const home = await Deno.makeTempDir({ prefix: "pod-rootless-" });
    await Deno.chmod(home, 0o755);
    await new Deno.Command("chown", { args: [USER, home] }).output();
    try {
      const img = await busybox(reg);
      const pulled = await pod(home, ["pull", "-q", img.ref]);
      assert.equal(pulled.code, 0, pulled.stderr);
      const IMG = img.ref;

      await t.step("run --rm: root inside, full uid map", async () => {
        const r = await pod(home, ["run", "--rm", IMG, "sh", "-c", "id -u; cat /proc/self/uid_map"]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
        assert.equal(lines[0][0], 0);
        const total = lines.slice(1).reduce((n, l) => n + l[2], 0);
        assert.ok(total > 65536, r.stdout); // 1 (the user) + the subuid range
      });

      await t.step("exit codes", async () => {
        assert.equal((await pod(home, ["run", "--rm", IMG, "sh", "-c", "exit 3"])).code, 3);
        assert.equal((await pod(home, ["run", "--rm", IMG, "nosuchcmd"])).code, 127);
      });

      await t.step(
        "a file owned by 1000 in the image is owned by 1000 inside; rm cleans subuid files",
        async () => {
          const r = await pod(home, [
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
          const rm = await pod(home, ["rm", "own"]);
          assert.equal(rm.code, 0, rm.stderr);
          const left = [...Deno.readDirSync(`${home}/store/containers`)].filter((e) => e.name !== "names");
          assert.deepEqual(left, []);
        },
      );

      await t.step("read-only host bind, no host /proc", async () => {
        const r = await pod(home, [
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
        const d = await pod(home, ["run", "-d", "--name", "bg", IMG, "sleep", "1000"]);
        assert.equal(d.code, 0, d.stderr);
        const e = await pod(home, ["exec", "bg", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"]);
        assert.equal(e.stdout, "sleep 1000 ");
        const t0 = Date.now();
        assert.equal((await pod(home, ["stop", "-t", "1", "bg"])).code, 0);
        assert.ok(Date.now() - t0 < 4000);
        assert.match(
          (await pod(home, ["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).stdout,
          /bg Exited/,
        );
        await pod(home, ["start", "bg"]);
        assert.equal((await pod(home, ["rm", "-f", "-t", "0", "bg"])).code, 0);
        assert.equal((await pod(home, ["ps", "-aq"])).stdout, "");
      });
    } finally {
      await pod(home, ["rm", "-af", "-t", "0"]);
      await reg.stop();
      await new Deno.Command("rm", { args: ["-rf", home] }).output();
    }
  },
});
