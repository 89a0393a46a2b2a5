/**
 * podman's global flags on pod, root and rootless: the ones with an effect (`--root`, `--log-level` with all of
 * podman's levels, `--storage-driver`, `--events-backend none`, `--out`, `--noout`), the accepted ones
 * (`--runroot`, `--storage-opt`, `--tmpdir`, `--cgroup-manager`), and the remote ones refused in one line.
 */
import assert from "node:assert/strict";
import { type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { TEST_USER } from "../helpers/rootless.ts";

function suite(mode: Mode) {
  return async (t: Deno.TestContext) => {
    const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
    try {
      await t.step("flags with an effect, accepted ones", async () => {
        for (const level of ["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"]) {
          const r = await h.pod(["--log-level", level, "volume", "ls", "-q"]);
          assert.equal(r.code, 0, `${level}: ${r.stderr}`);
        }
        const acc = await h.pod([
          "--runroot",
          `${h.root}/runroot`,
          "--storage-opt",
          "overlay.mountopt=nodev",
          "--tmpdir",
          `${h.root}/tmp`,
          "--cgroup-manager=cgroupfs",
          "--storage-driver",
          "vfs",
          "volume",
          "create",
          "g1",
        ]);
        assert.equal(acc.code, 0, acc.stderr);
        assert.equal(acc.stdout, "g1\n");
        const noout = await h.pod(["--noout", "volume", "ls", "-q"]);
        assert.equal(noout.code, 0);
        assert.equal(noout.stdout, "");
        const file = `${h.root}/out.txt`;
        const o = await h.pod(["--out", file, "volume", "ls", "-q"]);
        assert.equal(o.code, 0, o.stderr);
        assert.equal(o.stdout, "");
        assert.equal(await Deno.readTextFile(file), "g1\n");
        // a second store through --root
        const other = `${h.root}/other`;
        assert.equal((await h.pod(["--root", other, "volume", "create", "g2"])).code, 0);
        assert.equal((await h.pod(["--root", other, "volume", "ls", "-q"])).stdout, "g2\n");
        // --events-backend none: nothing logged
        await h.pod(["--events-backend", "none", "volume", "create", "quiet"]);
        const ev = await h.pod(["events", "--stream=false", "--filter", "volume=quiet"]);
        assert.equal(ev.code, 0, ev.stderr);
        assert.equal(ev.stdout, "");
      });

      await t.step("bad values and remote flags: one line, exit 125", async () => {
        const cases: [string[], RegExp][] = [
          [
            ["--log-level", "loud", "ps"],
            /^Error: log level "loud" is not supported: .*\nSee 'pod --help'\n$/,
          ],
          [
            ["--storage-driver", "btrfs", "ps"],
            /^Error: unsupported storage driver "btrfs": .*\nSee 'pod --help'\n$/,
          ],
          [["--events-backend", "kafka", "ps"], /^Error: invalid events backend "kafka": .*\n/],
          [["--cgroup-manager", "magic", "ps"], /^Error: invalid cgroup manager "magic": .*\n/],
          [
            ["--url", "unix:///run/podman.sock", "ps"],
            /^Error: --url: remote connections are not supported: .*\n$/,
          ],
          [["--remote", "ps"], /^Error: --remote: remote connections are not supported: .*\n$/],
          [["-c", "prod", "ps"], /^Error: -c: remote connections are not supported: .*\n$/],
          [["--runroot"], /^Error: flag needs an argument: --runroot\n/],
        ];
        for (const [args, want] of cases) {
          const r = await h.pod(args);
          assert.equal(r.code, 125, args.join(" "));
          assert.match(r.stderr, want);
          assert.equal(r.stdout, "");
        }
      });
    } finally {
      await h.cleanup();
    }
  };
}

await testRootAndRootless("global flags", suite);
