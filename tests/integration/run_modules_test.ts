/**
 * What a plain `pod run --rm IMG true` loads from the checkout (run9: each module costs ~0.3–1 ms of CPU on
 * every start), seen with strace (the .ts files each process opens under the checkout): the CLI loads none of
 * the modules only some launches use (the log pump of a logged run, the pty relay of `-t`, a pod infra's
 * holder, the perl supervisor of a detached start, conmon's launch, exec's modules, the unpacker, pull), and no
 * more modules than {@link CLI_MODULES_MAX}; stage 2 loads exactly {@link STAGE2} (13 before run9: cgroup.ts
 * loaded sleep.ts). A logged run (no `--rm`) does load the log pump, so the check sees a lazy module when it
 * is used. Skipped, with a printed reason, without strace.
 *
 * A new module on this path costs every `run`: raise the ceiling (or extend STAGE2) only for a module the
 * plain run really needs, and say why in the commit.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { podCommand, REPO_ROOT } from "../helpers/pod.ts";
import { networkSkipReason } from "../helpers/net.ts";

const hasStrace = await new Deno.Command("sh", { args: ["-c", "command -v strace"], stdout: "null" }).output()
  .then((o) => o.success, () => false);
if (!hasStrace) console.log("run modules: skipped, no strace on this host (Debian package strace)");

/** Modules a plain foreground `run --rm` must not load: other launches' parts, loaded on first use. */
const NOT_ON_PLAIN_RUN = [
  "lib/ns/log_pump.ts",
  "lib/ns/pty.ts",
  "lib/ns/holder.ts",
  "lib/ns/supervisor.ts",
  "lib/ns/conmon_launch.ts",
  "lib/ns/exec.ts",
  "lib/ns/exec_spawn.ts",
  "lib/unpack/mod.ts",
  "lib/image/pull.ts",
  "lib/cli/output.ts",
];

/** The most modules the CLI of a plain `run --rm --network host` may load (run9: 6 fewer than before). */
const CLI_MODULES_MAX = { root: 80, rootless: 79 };

/**
 * run10: modules a root `run --rm` on the default network (netavark's bridge) must not load: the other modes'
 * (slirp4netns/pasta, the rootless netns), the port holder of `-p`, the container mounts (the netns pin is one
 * mount(2) of its own); and the most modules it may load (90 before run10).
 */
const NOT_ON_ROOT_BRIDGE = [
  "lib/network/slirp.ts",
  "lib/network/slirp_features.ts",
  "lib/network/rootless_netns.ts",
  "lib/network/port_holder.ts",
  "lib/ns/mounts.ts",
];
const CLI_MODULES_MAX_ROOT_BRIDGE = 86;

/** Stage 2's modules with a cgroup (root); rootless without one it also leaves out cgroup.ts. */
const STAGE2 = [
  "lib/errors.ts",
  "lib/log.ts",
  "lib/ns/cgroup.ts",
  "lib/ns/fs.ts",
  "lib/ns/libc.ts",
  "lib/ns/lookpath.ts",
  "lib/ns/mounts.ts",
  "lib/ns/process.ts",
  "lib/ns/seccomp.ts",
  "lib/ns/spec.ts",
  "lib/stage2.ts",
  "lib/unpack/contain.ts",
];

await testRootAndRootless("run modules", (mode) =>
  busyboxSuite(mode, async ({ h, img }, t) => {
    /** The checkout's .ts files the CLI and stage 2 of `pod ARGS…` open (main threads), and the code. */
    const opens = async (args: string[]) => {
      const c = await podCommand(args, { home: h.home, user: h.user?.name });
      const dir = await Deno.makeTempDir({ prefix: "pod-run-modules-" });
      try {
        const o = await new Deno.Command("strace", {
          args: ["-ff", "-qq", "-e", "trace=openat", "-o", `${dir}/t`, c.cmd, ...c.args],
          env: c.env,
          cwd: c.cwd,
          clearEnv: true,
          stdout: "null",
          stderr: "piped",
        }).output();
        const byThread: string[][] = [];
        for (const e of Deno.readDirSync(dir)) {
          const files = [...Deno.readTextFileSync(`${dir}/${e.name}`).matchAll(/openat\([^"]*"([^"]+\.ts)"/g)]
            .map((m) => m[1])
            .filter((p) => p.startsWith(`${REPO_ROOT}/`))
            .map((p) => p.slice(REPO_ROOT.length + 1));
          if (files.length) byThread.push([...new Set(files)].sort());
        }
        const cli = byThread.find((f) => f.includes("cli.ts")) ?? [];
        const stage2 = byThread.find((f) => f.includes("lib/stage2.ts")) ?? [];
        return { cli, stage2, code: o.code, stderr: new TextDecoder().decode(o.stderr) };
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    };
    await t.step({
      name: "a plain run --rm loads no other launch's modules, at most the ceiling; stage 2 its own set",
      ignore: !hasStrace,
      fn: async () => {
        assert.equal((await h.pod(["run", "--rm", "--network", "host", img.ref, "true"])).code, 0); // warm
        const plain = await opens(["run", "--rm", "--network", "host", img.ref, "true"]);
        assert.equal(plain.code, 0, plain.stderr);
        assert.ok(plain.cli.includes("lib/ns/launch.ts"), `launch.ts not seen: ${plain.cli.join(" ")}`);
        for (const f of NOT_ON_PLAIN_RUN) {
          assert.ok(!plain.cli.includes(f), `${f} loaded by a plain run --rm`);
        }
        assert.ok(
          plain.cli.length <= CLI_MODULES_MAX[mode],
          `${plain.cli.length} modules (at most ${CLI_MODULES_MAX[mode]}): ${plain.cli.join(" ")}`,
        );
        // rootless, a container may have no cgroup (no delegated controllers): then no cgroup.ts
        const stage2 = mode === "root"
          ? STAGE2
          : STAGE2.filter((f) => f !== "lib/ns/cgroup.ts" || plain.stage2.includes(f));
        assert.deepEqual(plain.stage2, stage2);
      },
    });
    // root only (the rootless default network is slirp4netns, whose modules the plain run's step covers)
    if (mode === "root") {
      await t.step({
        name: "root, default network: no other network mode's modules, at most the bridge's ceiling",
        ignore: !hasStrace,
        fn: async () => {
          const why = networkSkipReason(mode);
          if (why) return console.log(`SKIPPED: ${why}`);
          const bridge = await opens(["run", "--rm", img.ref, "true"]);
          assert.equal(bridge.code, 0, bridge.stderr);
          assert.ok(
            bridge.cli.includes("lib/network/netavark.ts"),
            `netavark.ts not seen: ${bridge.cli.join(" ")}`,
          );
          for (const f of [...NOT_ON_PLAIN_RUN, ...NOT_ON_ROOT_BRIDGE]) {
            assert.ok(!bridge.cli.includes(f), `${f} loaded by a root run --rm on the default network`);
          }
          assert.ok(
            bridge.cli.length <= CLI_MODULES_MAX_ROOT_BRIDGE,
            `${bridge.cli.length} modules (at most ${CLI_MODULES_MAX_ROOT_BRIDGE}): ${bridge.cli.join(" ")}`,
          );
        },
      });
    }
    await t.step({
      name: "a logged run (no --rm) loads the log pump",
      ignore: !hasStrace,
      fn: async () => {
        const logged = await opens(["run", "--name", "logged", "--network", "host", img.ref, "echo", "hi"]);
        assert.equal(logged.code, 0, logged.stderr);
        assert.ok(logged.cli.includes("lib/ns/log_pump.ts"), logged.cli.join(" "));
        assert.ok(!logged.cli.includes("lib/ns/pty.ts"));
        assert.equal((await h.pod(["logs", "logged"])).stdout, "hi\n");
      },
    });
  }));
