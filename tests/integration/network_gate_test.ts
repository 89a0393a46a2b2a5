/**
 * net5 (issue 12): a container with a network gets its process sent to stage 2 before its network is set up
 * (`ProcessSpec.gate`): stage 2 builds the root meanwhile and runs the process only on stage 1's `go`. Root
 * (netavark's default bridge) and rootless (slirp4netns): the process's first instruction sees its interface
 * (as root in sysfs too, mounted before the interface existed); `--sysctl` values naming the interface are applied
 * after it exists; a failed network setup (a host port in use) leaves the container created, its process never
 * run, nothing left. Traffic: none (a listener on 127.0.0.1 only).
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { networkSkipReason } from "../helpers/net.ts";
import { NETAVARK_LOCK, netRunDir, pinNetns, runDirRemovalLine } from "../../lib/network/netavark.ts";
import { networksDir } from "../../lib/network/config.ts";

/**
 * Root: starts `run` with the machine-wide netavark lock (netavark.ts NETAVARK_LOCK) held for `ms`, so the
 * container's network setup waits for it: a process that did not wait for its network runs meanwhile.
 */
async function withNetavarkLocked<T>(ms: number, run: () => Promise<T>): Promise<T> {
  Deno.mkdirSync("/run/pod", { recursive: true, mode: 0o755 });
  const lock = await Deno.open(NETAVARK_LOCK, { write: true, create: true });
  let p: Promise<T>;
  try {
    await lock.lock(true);
    p = run();
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    lock.close();
  }
  return await p;
}

await testRootAndRootless(
  "network: the process runs once the network is up, the root built meanwhile (net5 gate)",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      const why = networkSkipReason(mode);
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      // the default network's interface: netavark's eth0 as root, slirp4netns's tap0 rootless
      const iface = mode === "root" ? "eth0" : "tap0";

      await t.step("the first instruction sees the interface, up, in /proc and in sysfs", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          img.ref,
          "sh",
          "-c",
          // rootless, /sys is the host's (bound, as before net5): its own sysfs only as root
          `grep -c ${iface} /proc/net/dev; cat /proc/sys/net/ipv4/conf/${iface}/forwarding; ` +
          (mode === "root" ? `cat /sys/class/net/${iface}/operstate` : "echo up"),
        ]);
        assert.equal(r.code, 0, r.stderr);
        const [count, , state] = r.stdout.trim().split("\n");
        assert.equal(count, "1", r.stdout);
        assert.match(state ?? "", /^(up|unknown)$/, r.stdout);
      });

      await t.step(
        "run8: workdir, --ulimit, --oom-score-adj and --cap-drop, applied before the gate",
        async () => {
          const r = await h.pod([
            "run",
            "--rm",
            "--workdir",
            "/made/by/stage2",
            "--ulimit",
            "nofile=321:321",
            "--oom-score-adj",
            "123",
            "--cap-drop",
            "NET_RAW",
            img.ref,
            "sh",
            "-c",
            `pwd; ulimit -n; cat /proc/self/oom_score_adj; grep -c ${iface} /proc/net/dev; grep ^CapBnd /proc/self/status`,
          ]);
          assert.equal(r.code, 0, r.stderr);
          const [pwd, nofile, oom, count, bnd] = r.stdout.trim().split("\n");
          assert.deepEqual([pwd, nofile, oom, count], ["/made/by/stage2", "321", "123", "1"], r.stdout);
          assert.equal(BigInt(`0x${bnd.split(/\s+/)[1]}`) & (1n << 13n), 0n, bnd); // CAP_NET_RAW dropped
        },
      );

      await t.step("--sysctl naming the interface is applied once it exists", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          "--sysctl",
          `net.ipv4.conf.${iface}.rp_filter=2`,
          img.ref,
          "cat",
          `/proc/sys/net/ipv4/conf/${iface}/rp_filter`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), "2");
      });

      await t.step(
        "a failed network setup: one line, the container left created, its process not run",
        async () => {
          const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
          try {
            const port = (l.addr as Deno.NetAddr).port;
            await Deno.mkdir(`${h.home}/marks`, { mode: 0o777 });
            await Deno.chmod(`${h.home}/marks`, 0o777); // the container's root is a sub-id rootless
            const c = await h.pod([
              "create",
              "--name",
              "gated",
              "-p",
              `127.0.0.1:${port}:80`,
              "-v",
              `${h.home}/marks:/marks`,
              img.ref,
              "touch",
              "/marks/ran",
            ]);
            assert.equal(c.code, 0, c.stderr);
            const r = await h.pod(["start", "gated"]);
            assert.equal(r.code, 125, r.stderr);
            assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
            assert.match(r.stderr, new RegExp(String(port)));
            const s = await h.pod(["inspect", "--format", "{{.State.Status}}", "gated"]);
            assert.equal(s.stdout.trim(), "created", s.stderr);
            assert.equal(await Deno.stat(`${h.home}/marks/ran`).then(() => true, () => false), false);
          } finally {
            l.close();
          }
          const rm = await h.pod(["rm", "-f", "gated"]);
          assert.equal(rm.code, 0, rm.stderr);
        },
      );

      if (mode !== "root") return; // the lock below is root netavark's
      await t.step(
        "root: a slow netavark (its lock held 1.5 s): the process still waits for eth0",
        async () => {
          // a process that did not wait would run meanwhile
          const r = await withNetavarkLocked(
            1500,
            () => h.pod(["run", "--rm", img.ref, "grep", "-c", "eth0", "/proc/net/dev"]),
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim(), "1");
        },
      );

      await t.step("root: netavark fails after the process was resolved: created, not run, 125", async () => {
        const net = `gate${crypto.randomUUID().slice(0, 6)}`;
        const n = await h.pod(["network", "create", net]);
        assert.equal(n.code, 0, n.stderr);
        // an option netavark refuses (pod passes network options through)
        const file = `${networksDir(h.home)}/${net}.json`;
        const cfg = JSON.parse(await Deno.readTextFile(file));
        await Deno.writeTextFile(file, JSON.stringify({ ...cfg, options: { ...cfg.options, mtu: "lots" } }));
        await Deno.mkdir(`${h.home}/marks2`, { mode: 0o777 });
        const c = await h.pod([
          "create",
          "--name",
          "gated2",
          "--network",
          net,
          "-v",
          `${h.home}/marks2:/marks`,
          img.ref,
          "touch",
          "/marks/ran",
        ]);
        assert.equal(c.code, 0, c.stderr);
        const r = await withNetavarkLocked(1500, () => h.pod(["start", "gated2"]));
        assert.equal(r.code, 125, r.stderr);
        assert.match(r.stderr, /netavark/);
        const s = await h.pod(["inspect", "--format", "{{.State.Status}}", "gated2"]);
        assert.equal(s.stdout.trim(), "created", s.stderr);
        assert.equal(await Deno.stat(`${h.home}/marks2/ran`).then(() => true, () => false), false);
        const rm = await h.pod(["rm", "-f", "gated2"]);
        assert.equal(rm.code, 0, rm.stderr);
        await h.pod(["network", "rm", net]);
        const pinned = await Array.fromAsync(Deno.readDir(`${netRunDir(h.home)}/netns`)).catch(() => []);
        assert.deepEqual(pinned, []);
      });

      await t.step("root: a netns whose process ended is not pinned, and leaves no empty file", async () => {
        const p = new Deno.Command("true").spawn();
        await p.status;
        await assert.rejects(() => pinNetns(h.home, "gone", p.pid));
        assert.equal(await Deno.stat(`${netRunDir(h.home)}/netns/gone`).then(() => true, () => false), false);
        await new Deno.Command("sh", { args: ["-c", runDirRemovalLine(h.home)] }).output();
      });
    }),
);
