/**
 * net2 (issue 12): live network changes, root and rootless (rootless: in the store's rootless netns).
 * A running container's /etc/hosts gains its address on a network it is connected to and loses it when
 * disconnected, and it reaches the other containers there; `network reload` re-creates a container's firewall
 * rules and port forwarding (rootless: after the test flushed the rootless netns's NAT table, its published
 * port works again). Traffic goes only to 127.0.0.1 and to the test's containers.
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";
import { freePort, HTTPD, networkSkipReason, ok, sleep, tryFetch } from "../helpers/net.ts";

await testRootAndRootless(
  "network live: /etc/hosts follows connect/disconnect; reload re-creates the rules",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const why = networkSkipReason(mode, { bridge: true });
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
      const net = `podtest-${tag}`;
      const a = 100 + Math.floor(Math.random() * 150), b = Math.floor(Math.random() * 250);
      await ok(h, [
        "network",
        "create",
        "--interface-name",
        `pl${tag}`,
        "--subnet",
        `10.${a}.${b}.0/24`,
        net,
      ]);
      const port = freePort();
      const srv = (await ok(h, [
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        net,
        "-p",
        `127.0.0.1:${port}:80`,
        img.ref,
        "sh",
        "-c",
        HTTPD,
      ])).trim();
      const hello = `hello-${srv.slice(0, 12)}\n`;
      assert.equal(await tryFetch(`http://127.0.0.1:${port}/`), hello);

      // a container on the default bridge network, connected live
      await ok(h, ["run", "-d", "--name", "cli", "--network", "bridge", img.ref, "sleep", "300"]);
      await ok(h, ["network", "connect", "--ip", `10.${a}.${b}.9`, net, "cli"]);
      const hosts = await ok(h, ["exec", "cli", "cat", "/etc/hosts"]);
      assert.match(hosts, new RegExp(`^10\\.${a}\\.${b}\\.9\\t.*\\bcli\\b`, "m"), hosts);
      const fetched = await ok(h, [
        "exec",
        "cli",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://srv/ && break; sleep 0.5; done",
      ]);
      assert.equal(fetched, hello, "the connected container reaches srv by name");
      await ok(h, ["network", "disconnect", net, "cli"]);
      const after = await ok(h, ["exec", "cli", "cat", "/etc/hosts"]);
      assert.doesNotMatch(after, new RegExp(`^10\\.${a}\\.${b}\\.9\\s`, "m"), after);
      assert.match(after, /\bcli\b/, "its other lines stay");

      if (mode === "rootless") {
        // the rules gone (as a firewall reload would leave them): the published port stops working ...
        const st = JSON.parse(await Deno.readTextFile(`${h.home}/rootless-netns/state.json`));
        const flush = await new Deno.Command("nsenter", {
          args: ["--target", String(st.pid), "--net", "iptables", "-t", "nat", "-F"],
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.equal(flush.code, 0, new TextDecoder().decode(flush.stderr));
        assert.equal(await tryFetch(`http://127.0.0.1:${port}/`, 3), undefined, "no DNAT rule, no answer");
      }
      assert.equal(await ok(h, ["network", "reload", "srv"]), `${srv}\n`);
      assert.equal(await tryFetch(`http://127.0.0.1:${port}/`), hello, "reload made the forwarding anew");
      const stopped = await h.pod(["network", "reload", "--all"]);
      assert.equal(stopped.code, 0, stopped.stderr);
      await ok(h, ["rm", "-f", "-t", "0", "srv", "cli"]);
      if (mode === "rootless") {
        for (let i = 0; i < 50; i++) {
          try {
            await Deno.stat(`${h.home}/rootless-netns/state.json`);
          } catch {
            break;
          }
          await sleep(20);
        }
        await assert.rejects(Deno.stat(`${h.home}/rootless-netns/state.json`), "the rootless netns ended");
      }
    }),
);

/** The pids of the store's rootless netns holder and slirp4netns that still run. */
function netnsPids(h: TempPodHome): number[] {
  try {
    const st = JSON.parse(Deno.readTextFileSync(`${h.home}/rootless-netns/state.json`));
    return [st.pid, st.slirpPid].filter((p: number) => {
      try {
        return !/^\d+ \(.*\) [ZX]/.test(Deno.readTextFileSync(`/proc/${p}/stat`));
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** Waits (up to ~2 s) until none of `pids` runs; the ones still running. */
async function stillRunning(pids: number[]): Promise<number[]> {
  const up = (p: number) => {
    try {
      return !/^\d+ \(.*\) [ZX]/.test(Deno.readTextFileSync(`/proc/${p}/stat`));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 100 && pids.some(up); i++) await sleep(20);
  return pids.filter(up);
}

await testRootAndRootless(
  "rootless netns: shared by a store's bridge containers, gone with the last; keep-id refused in one line",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      if (mode !== "rootless") {
        console.log("SKIPPED (root): the rootless netns is rootless only (root uses the host's netns)");
        return;
      }
      const why = networkSkipReason(mode, { bridge: true });
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      await t.step("run --rm on the default bridge: its address, nothing left after", async () => {
        const out = await ok(h, ["run", "--rm", "--network", "bridge", img.ref, "ip", "-4", "-o", "addr"]);
        assert.match(out, /eth0\s+inet 10\.88\./);
        assert.deepEqual(netnsPids(h), []);
        assert.deepEqual([...Deno.readDirSync(`${h.home}/rootless-netns/pins`)], []);
      });
      await t.step("two containers share one namespace; it ends with the last of them", async () => {
        await ok(h, ["run", "-d", "--name", "a", "--network", "bridge", img.ref, "sleep", "300"]);
        const first = netnsPids(h);
        assert.equal(first.length, 2);
        await ok(h, ["run", "-d", "--name", "b", "--network", "bridge", img.ref, "sleep", "300"]);
        assert.deepEqual(netnsPids(h), first, "the second container joined the same namespace");
        // aardvark-dns there forwards other names to slirp4netns's DNS (the namespace's own resolv.conf)
        const resolv = await new Deno.Command("nsenter", {
          args: ["--target", String(first[0]), "--mount", "cat", "/etc/resolv.conf"],
          stdout: "piped",
        }).output();
        assert.equal(new TextDecoder().decode(resolv.stdout), "nameserver 10.0.2.3\n");
        await ok(h, ["rm", "-f", "-t", "0", "a"]);
        assert.deepEqual(netnsPids(h), first, "still in use by b");
        // b's supervisor killed: the next pod command (rm -f) still releases the namespace
        const sup = Number((await ok(h, ["inspect", "--format", "{{.State.ConmonPid}}", "b"])).trim());
        Deno.kill(sup, "SIGKILL");
        await ok(h, ["rm", "-f", "-t", "0", "b"]);
        assert.deepEqual(await stillRunning(first), []);
      });
      await t.step("its slirp4netns dies: inspect says so; the next container gets a new one", async () => {
        await ok(h, ["run", "-d", "--name", "c", "--network", "bridge", img.ref, "sleep", "300"]);
        const [holder, slirp] = netnsPids(h);
        Deno.kill(slirp, "SIGKILL");
        assert.deepEqual(await stillRunning([slirp]), []);
        assert.match(
          await ok(h, ["inspect", "--format", "{{.State.Error}}", "c"]),
          /^the rootless network namespace's slirp4netns \(pid \d+\) ended: no way out\n$/,
        );
        const out = await ok(h, ["run", "--rm", "--network", "bridge", img.ref, "ip", "-4", "-o", "addr"]);
        assert.match(out, /eth0\s+inet 10\.88\./);
        const now = netnsPids(h);
        assert.equal(now.length, 2);
        assert.equal(now[0], holder, "the same namespace, c keeps its network");
        assert.notEqual(now[1], slirp);
        await ok(h, ["rm", "-f", "-t", "0", "c"]);
        assert.deepEqual(await stillRunning(now), [], "the new slirp4netns ends with the last container too");
      });
      await t.step("a pod on a user network: its members share the infra's address there", async () => {
        const a = 100 + Math.floor(Math.random() * 150), b = Math.floor(Math.random() * 250);
        await ok(h, ["network", "create", "--subnet", `10.${a}.${b}.0/24`, "pnet"]);
        await ok(h, ["pod", "create", "--name", "p", "--network", "pnet"]);
        const out = await ok(h, ["run", "--rm", "--pod", "p", img.ref, "ip", "-4", "-o", "addr"]);
        assert.match(out, new RegExp(`eth0\\s+inet 10\\.${a}\\.${b}\\.`));
        assert.equal(netnsPids(h).length, 2, "the infra holds the namespace");
        const pids = netnsPids(h);
        await ok(h, ["pod", "rm", "-f", "p"]);
        assert.deepEqual(await stillRunning(pids), []);
      });
      await t.step(
        "stop then start: the published port works again, the namespace only while it runs",
        async () => {
          const port = freePort();
          const id = (await ok(h, [
            "run",
            "-d",
            "--network",
            "bridge",
            "-p",
            `127.0.0.1:${port}:80`,
            img.ref,
            "sh",
            "-c",
            HTTPD,
          ])).trim();
          const hello = `hello-${id.slice(0, 12)}\n`;
          assert.equal(await tryFetch(`http://127.0.0.1:${port}/`), hello);
          const pids = netnsPids(h);
          await ok(h, ["stop", "-t", "0", id]);
          assert.deepEqual(await stillRunning(pids), [], "stopped: the namespace ended");
          assert.equal(
            await tryFetch(`http://127.0.0.1:${port}/`, 3),
            undefined,
            "stopped: the port is closed",
          );
          await ok(h, ["start", id]);
          assert.equal(await tryFetch(`http://127.0.0.1:${port}/`), hello);
          await ok(h, ["rm", "-f", "-t", "0", id]);
          assert.deepEqual(netnsPids(h), []);
        },
      );
      await t.step("--userns=keep-id on a bridge network: one line, exit 125, nothing left", async () => {
        const r = await h.pod(["run", "--rm", "--userns", "keep-id", "--network", "bridge", img.ref, "true"]);
        assert.equal(r.code, 125, r.stderr);
        assert.match(r.stderr, /^Error: a rootless container on a bridge network .*default id mapping.*\n$/);
        assert.deepEqual(netnsPids(h), []);
      });
    }),
);
