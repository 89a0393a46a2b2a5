/**
 * `--device HOST:CTR:PERMS` permissions (issue 13). Root on a host with the cgroup v1 devices controller: the
 * container's devices cgroup denies what PERMS leave out (`:r` → opening for writing fails, `:w` → for
 * reading), the default `rwm` allows both, `--privileged` is not restricted; the cgroup is removed with the
 * container. Rootless: the permissions are not enforced and a warning says so (podman binds the node).
 */
import assert from "node:assert/strict";
import { busyboxTree, stageTree } from "../helpers/fixtures.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { rootlessAvailable, TEST_USER } from "../helpers/rootless.ts";

const DEV = "/dev/loop-control"; // root-only, opening it does nothing, and not in runc's default allow list
const devicesV1 = (() => {
  try {
    return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").some((l) =>
      / - cgroup \S+ \S*\bdevices\b/.test(l)
    );
  } catch {
    return false;
  }
})();
const hasDev = (() => {
  try {
    return Deno.statSync(DEV).isCharDevice;
  } catch {
    return false;
  }
})();
const rootless = Deno.uid() === 0 && await rootlessAvailable();
if (!devicesV1) console.log("device_cgroup_test: no cgroup v1 devices controller: the root suite is skipped");
if (!hasDev) console.log(`device_cgroup_test: no ${DEV}: skipped`);
if (!rootless) console.log("device_cgroup_test: no rootless set-up: the rootless suite is skipped");

/** Opens the device for reading, then for writing: `[rw]`, `[r]`, `[w]` or `[]`. */
const PROBE = 'x=; true 2>/dev/null </dev/k && x=${x}r; true 2>/dev/null >/dev/k && x=${x}w; echo "[$x]"';

Deno.test({
  name: "--device permissions through the devices cgroup (root)",
  ignore: Deno.uid() !== 0 || !devicesV1 || !hasDev,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await using h = await tempPodHome();
    const dir = `${h.root}/tree`;
    await stageTree(dir, (await busyboxTree()).tree);
    try {
      for (const [perms, want] of [["r", "[r]"], ["w", "[w]"], ["rw", "[rw]"], ["", "[rw]"]]) {
        await t.step(`:${perms || "(default rwm)"} → ${want}`, async () => {
          const dev = perms ? `${DEV}:/dev/k:${perms}` : `${DEV}:/dev/k`;
          const r = await h.pod(["run", "--rm", "--device", dev, "--rootfs", dir, "sh", "-c", PROBE]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim(), want, r.stderr);
          assert.equal(r.stderr, "", "root on cgroup v1: no warning");
        });
      }
      await t.step("--privileged: not restricted", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          "--privileged",
          "--device",
          `${DEV}:/dev/k:r`,
          "--rootfs",
          dir,
          "sh",
          "-c",
          PROBE,
        ]);
        assert.equal(r.stdout.trim(), "[rw]", r.stderr);
      });
      await t.step("the devices cgroup has the rules, and goes with the container", async () => {
        const c = await h.pod(["run", "-d", "--device", `${DEV}:/dev/k:r`, "--rootfs", dir, "sleep", "60"]);
        assert.equal(c.code, 0, c.stderr);
        const id = c.stdout.trim();
        const line = Deno.readTextFileSync("/proc/self/mountinfo").split("\n").find((l) =>
          / - cgroup \S+ \S*\bdevices\b/.test(l)
        )!;
        const mount = line.split(" ")[4];
        const cg = `${mount}/libpod_parent/libpod-${id}`;
        const list = Deno.readTextFileSync(`${cg}/devices.list`);
        assert.match(list, /^c 10:237 r$/m);
        assert.doesNotMatch(list, /^a /m);
        const rm = await h.pod(["rm", "-f", "-t", "0", id]);
        assert.equal(rm.code, 0, rm.stderr);
        assert.throws(() => Deno.statSync(cg), "the devices cgroup must be removed");
      });
    } finally {
      await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
    }
  },
});

Deno.test({
  name: "--device permissions rootless: not enforced, and said so",
  ignore: !rootless || !hasDev,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using h = await tempPodHome({ user: TEST_USER });
    const dir = `${h.root}/tree`;
    await stageTree(dir, (await busyboxTree()).tree);
    await new Deno.Command("chown", { args: ["-hR", `${h.user!.uid}:${h.user!.gid}`, dir] }).output();
    const r = await h.pod(["run", "--rm", "--device", "/dev/null:/dev/k:r", "--rootfs", dir, "true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--device permissions are not enforced rootless/);
    const full = await h.pod(["run", "--rm", "--device", "/dev/null:/dev/k", "--rootfs", dir, "true"]);
    assert.equal(full.code, 0, full.stderr);
    assert.doesNotMatch(full.stderr, /not enforced/);
  },
});
