import { strict as assert } from "node:assert";
import { runNetavarkSetup } from "../../lib/network/netavark.ts";
import { PodError } from "../../lib/errors.ts";

// run7: netavark's setup runs through posix_spawn, its stdin and output in temp files (not Deno.Command's
// pipes); a shell stands in for netavark
Deno.test("runNetavarkSetup: the options on stdin, the status from stdout, through files", async () => {
  const opts = { container_id: "abc", networks: { podman: { static_ips: ["10.88.0.5"] } } };
  assert.deepEqual(await runNetavarkSetup(["sh", "-c", "cat"], opts), opts);
  assert.deepEqual(await runNetavarkSetup(["sh", "-c", "cat >/dev/null"], opts), {});
  // stdin is the temp file (the Deno.Command fallback would give a pipe), removed afterwards
  let fd0 = "";
  await assert.rejects(
    runNetavarkSetup(["sh", "-c", "readlink /proc/self/fd/0 >&2; exit 3"], opts),
    (e) => {
      assert.ok(e instanceof PodError);
      fd0 = e.message.replace(/^netavark: /, "");
      return true;
    },
  );
  assert.match(fd0, /\/pod-netavark-[^/]+\/in$/);
  assert.throws(() => Deno.statSync(fd0), Deno.errors.NotFound);
});

Deno.test("runNetavarkSetup: a failure is netavark's last stderr line, less its log prefix", async () => {
  const argv = [
    "sh",
    "-c",
    'echo "[INFO  netavark] first" >&2; echo "[ERROR netavark] IO error: boom" >&2; exit 1',
  ];
  await assert.rejects(
    runNetavarkSetup(argv, {}),
    (e) => e instanceof PodError && e.message === "netavark: IO error: boom",
  );
  await assert.rejects(
    runNetavarkSetup(["sh", "-c", "exit 4"], {}),
    (e) => e instanceof PodError && e.message === "netavark: exit code 4",
  );
});

Deno.test("runNetavarkSetup: netavark's JSON error on stdout is the message (netavark 1.4 logs only on stderr)", async () => {
  const argv = [
    "sh",
    "-c",
    `echo '[INFO  netavark] log' >&2; echo '{"error":"invalid namespace path: IO error: gone"}'; exit 1`,
  ];
  await assert.rejects(
    runNetavarkSetup(argv, {}),
    (e) => e instanceof PodError && e.message === "netavark: invalid namespace path: IO error: gone",
  );
});

Deno.test("runNetavarkSetup: the real netavark's error names the cause (skipped without netavark)", async (t) => {
  const bin = ["/usr/lib/podman/netavark", "/usr/libexec/podman/netavark"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  if (!bin) {
    await t.step({ name: "netavark not installed (Debian package netavark)", ignore: true, fn: () => {} });
    return;
  }
  const dir = Deno.makeTempDirSync({ prefix: "pod-netavark-test-" });
  try {
    await assert.rejects(
      runNetavarkSetup([bin, "--config", dir, "setup", `${dir}/no-such-netns`], {}),
      (e) => e instanceof PodError && /^netavark: .*(namespace|No such file)/.test(e.message),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
