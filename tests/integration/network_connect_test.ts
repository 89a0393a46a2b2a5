/**
 * `network connect` / `disconnect` change what the runtime attaches (one record: `net.network.networks`):
 * as root, a stopped container connected to a network of the test's (bridge `pc<tag>`, a random 10.x.y.0/24)
 * gets its static address and alias on eth1 at its next start, and loses the interface once disconnected;
 * a running one is attached and detached live (its teardown covers a live-attached network); the bridge is
 * gone with its last container. Root and rootless: a record in the older `networks` shape still
 * counts for `network rm` and `ps --filter network=`. Traffic stays inside the test's namespaces.
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { networkSkipReason, ok } from "../helpers/net.ts";

async function linkExists(name: string): Promise<boolean> {
  const r = await new Deno.Command("ip", { args: ["link", "show", name], stdout: "null", stderr: "null" })
    .output();
  return r.code === 0;
}

await testRootAndRootless(
  "network connect: what the next start attaches",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      await t.step("a record in the older `networks` shape still counts as the network's user", async () => {
        await ok(h, ["network", "create", "--subnet", "10.232.9.0/24", "legacy"]);
        const id = (await ok(h, ["create", "--name", "old", "--network", "none", img.ref, "true"])).trim();
        const path = `${h.home}/containers/${id}/config.json`;
        const conf = JSON.parse(await Deno.readTextFile(path));
        conf.networks = { legacy: { interface_name: "eth0" } };
        await Deno.writeTextFile(path, JSON.stringify(conf));
        assert.equal(
          await ok(h, ["ps", "-a", "--format", "{{.Names}}", "--filter", "network=legacy"]),
          "old\n",
        );
        const rm = await h.pod(["network", "rm", "legacy"]);
        assert.equal(rm.code, 2, rm.stderr);
        assert.equal(await ok(h, ["network", "rm", "-f", "legacy"]), "legacy\n");
        assert.equal((await h.pod(["container", "exists", "old"])).code, 1);
      });

      if (mode === "rootless") {
        console.log(
          "SKIPPED (rootless): the attach steps look at host bridges; rootless live attach: network_live_test.ts",
        );
        return;
      }
      const why = networkSkipReason("root");
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
      const bridge = `pc${tag}`;
      const net = `podtest-${tag}`;
      const a = 100 + Math.floor(Math.random() * 150);
      const b = Math.floor(Math.random() * 250);
      try {
        await t.step(
          "connect on a stopped container: eth1 with the static address at its next start",
          async () => {
            await ok(h, [
              "network",
              "create",
              "--interface-name",
              bridge,
              "--subnet",
              `10.${a}.${b}.0/24`,
              net,
            ]);
            await ok(h, ["create", "--name", "c", img.ref, "sleep", "300"]);
            await ok(h, ["network", "connect", "--ip", `10.${a}.${b}.7`, "--alias", "al", net, "c"]);
            await ok(h, ["start", "c"]);
            const addr = await ok(h, ["exec", "c", "ip", "-4", "-o", "addr", "show", "eth1"]);
            assert.match(addr, new RegExp(`inet 10\\.${a}\\.${b}\\.7/24`));
            assert.ok(await linkExists(bridge), "the network's bridge is up");
            const ins = JSON.parse(await ok(h, ["inspect", "c"]))[0];
            assert.deepEqual(Object.keys(ins.NetworkSettings.Networks ?? {}).sort(), [net, "podman"].sort());
          },
        );

        await t.step(
          "running: disconnect removes eth1 (and the bridge), connect adds it back live",
          async () => {
            await ok(h, ["network", "disconnect", net, "c"]);
            const gone = await h.pod(["exec", "c", "ip", "link", "show", "eth1"]);
            assert.notEqual(gone.code, 0, gone.stdout);
            assert.ok(!await linkExists(bridge), "the network's bridge is gone with its last container");
            assert.match(
              await ok(h, ["exec", "c", "ip", "-4", "-o", "addr", "show", "eth0"]),
              /inet /,
              "eth0 stays",
            );
            await ok(h, ["network", "connect", "--ip", `10.${a}.${b}.9`, net, "c"]);
            const addr = await ok(h, ["exec", "c", "ip", "-4", "-o", "addr", "show", "eth1"]);
            assert.match(addr, new RegExp(`inet 10\\.${a}\\.${b}\\.9/24`));
            const veths = await new Deno.Command("ip", {
              args: ["-o", "link", "show", "master", bridge],
              stdout: "piped",
            }).output();
            assert.equal(
              new TextDecoder().decode(veths.stdout).trim().split("\n").length,
              1,
              "one veth on the bridge",
            );
          },
        );

        await t.step("disconnect on the stopped container: no eth1 at the next start", async () => {
          await ok(h, ["stop", "-t", "0", "c"]);
          await ok(h, ["network", "disconnect", net, "c"]);
          await ok(h, ["start", "c"]);
          const r = await h.pod(["exec", "c", "ip", "link", "show", "eth1"]);
          assert.notEqual(r.code, 0, r.stdout);
          assert.ok(!await linkExists(bridge), "the network's bridge is gone with its last container");
          await ok(h, ["rm", "-f", "-t", "0", "c"]);
          assert.equal(await ok(h, ["network", "rm", net]), `${net}\n`);
        });

        await t.step("a container attached live: its end removes that network too", async () => {
          await ok(h, [
            "network",
            "create",
            "--interface-name",
            bridge,
            "--subnet",
            `10.${a}.${b}.0/24`,
            net,
          ]);
          await ok(h, ["run", "-d", "--name", "d", img.ref, "sleep", "300"]);
          await ok(h, ["network", "connect", net, "d"]);
          assert.ok(await linkExists(bridge), "the network's bridge is up");
          await ok(h, ["rm", "-f", "-t", "0", "d"]);
          assert.ok(!await linkExists(bridge), "the bridge went with the container");
          assert.equal(await ok(h, ["network", "rm", net]), `${net}\n`);
        });
      } finally {
        await h.pod(["rm", "-a", "-f", "-t", "0"]).catch(() => {});
      }
    }),
);
