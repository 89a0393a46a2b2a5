/**
 * Container networking (issue 12), root and rootless: a busybox httpd published with `-p 127.0.0.1:PORT:80`
 * and fetched from the host, `-P`, `port`/`ps`/`inspect`, a host port in use, `--network none`, outbound
 * through slirp4netns to a server of the test's on the host's loopback (`allow_host_loopback`), two
 * containers on a user network of the test's finding each other by name and alias (root), and no leftovers
 * (helper processes, pinned netns, iptables rules, state files) after `rm -f`, a container's own exit and a
 * `kill -9` of its supervisor. Traffic goes only to 127.0.0.1 and to the test's containers.
 * @module
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";
import { fetchText, freePort, HTTPD, networkSkipReason, ok, sleep } from "../helpers/net.ts";

/** True while `pid` is a live (not zombie) process. */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** What a container's network may leave behind: its state files, helper, pinned netns, iptables rules. */
async function leftovers(h: TempPodHome, id: string, helperPid?: number): Promise<string[]> {
  const out: string[] = [];
  const dir = `${h.home}/containers/${id}`;
  for (const f of ["network.json", "network-cleanup.sh"]) {
    try {
      Deno.statSync(`${dir}/${f}`);
      out.push(f);
    } catch { /* gone */ }
  }
  if (helperPid) {
    for (let i = 0; i < 50 && alive(helperPid); i++) await sleep(20);
    if (alive(helperPid)) out.push(`helper ${helperPid}`);
  }
  if (Deno.uid() === 0) {
    try {
      for (const d of Deno.readDirSync("/run/pod")) {
        try {
          Deno.statSync(`/run/pod/${d.name}/netns/${id}`);
          out.push(`netns ${d.name}/netns/${id}`);
        } catch { /* gone */ }
      }
    } catch { /* no /run/pod */ }
    const rules = await new Deno.Command("iptables-save", {
      args: ["-t", "nat"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    if (new TextDecoder().decode(rules.stdout).includes(id)) out.push("iptables rules naming the container");
  }
  return out;
}

/** net2: the pids of the store's rootless netns (its holder and slirp4netns) while it runs. */
function rootlessNetnsPids(h: TempPodHome): number[] {
  try {
    const st = JSON.parse(Deno.readTextFileSync(`${h.home}/rootless-netns/state.json`));
    return [st.pid, st.slirpPid].filter((p) => alive(p));
  } catch {
    return [];
  }
}

/** The helper pid (slirp4netns, pasta, port holder) a running container's network records. */
function helperOf(h: TempPodHome, id: string): number | undefined {
  try {
    const st = JSON.parse(Deno.readTextFileSync(`${h.home}/containers/${id}/network.json`));
    return st.helperPid;
  } catch {
    return undefined;
  }
}

await testRootAndRootless(
  "network: -p publishes a container's port on the host; port, ps, inspect",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      const why = networkSkipReason(mode);
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      const port = freePort();
      const id = (await ok(h, [
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        `127.0.0.1:${port}:80`,
        img.ref,
        "sh",
        "-c",
        HTTPD,
      ]))
        .trim();
      await t.step("fetched from the host through 127.0.0.1", async () => {
        assert.equal(await fetchText(`http://127.0.0.1:${port}/`), `hello-${id.slice(0, 12)}\n`);
      });
      await t.step("port, ps and inspect show the mapping", async () => {
        assert.equal(await ok(h, ["port", "web"]), `80/tcp -> 127.0.0.1:${port}\n`);
        assert.equal(await ok(h, ["port", "web", "80/tcp"]), `127.0.0.1:${port}\n`);
        assert.equal(await ok(h, ["ps", "--format", "{{.Ports}}"]), `127.0.0.1:${port}->80/tcp\n`);
        const ins = JSON.parse(await ok(h, ["inspect", "web"]))[0];
        const want = { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }] };
        assert.deepEqual(ins.NetworkSettings.Ports, want);
        assert.deepEqual(ins.HostConfig.PortBindings, want);
        assert.equal(ins.HostConfig.NetworkMode, mode === "root" ? "bridge" : "slirp4netns");
        assert.match(ins.NetworkSettings.IPAddress, mode === "root" ? /^10\.88\./ : /^10\.0\.2\.100$/);
      });
      if (mode === "rootless") {
        await t.step("slirp4netns runs under its seccomp filter when it has one (as podman)", async () => {
          const help = await new Deno.Command("slirp4netns", {
            args: ["--help"],
            stdout: "piped",
            stderr: "piped",
          })
            .output();
          const text = new TextDecoder().decode(help.stdout) + new TextDecoder().decode(help.stderr);
          if (!text.includes("--enable-seccomp")) {
            console.log("SKIPPED: this slirp4netns has no --enable-seccomp");
            return;
          }
          const helper = helperOf(h, id);
          assert.ok(helper && alive(helper), "slirp4netns runs while the container does");
          assert.match(Deno.readTextFileSync(`/proc/${helper}/cmdline`), /\0--enable-seccomp\0/);
          assert.match(Deno.readTextFileSync(`/proc/${helper}/status`), /^Seccomp:\s+2$/m);
          // asked once per binary: the answer is in the store
          const cached = JSON.parse(Deno.readTextFileSync(`${h.home}/slirp4netns-features.json`));
          assert.equal(cached.seccomp, true);
        });
      }
      await t.step(
        "a second container on the same host port: one line naming the port, nothing left",
        async () => {
          const r = await h.pod([
            "run",
            "-d",
            "--name",
            "web2",
            "-p",
            `127.0.0.1:${port}:80`,
            img.ref,
            "sleep",
            "60",
          ]);
          assert.equal(r.code, 125, r.stderr);
          assert.match(r.stderr, new RegExp(`^Error: .*127\\.0\\.0\\.1:${port}.*address already in use\\n$`));
          const id2 = (await ok(h, ["inspect", "--format", "{{.Id}}", "web2"])).trim();
          assert.deepEqual(await leftovers(h, id2), []);
          assert.equal(await fetchText(`http://127.0.0.1:${port}/`), `hello-${id.slice(0, 12)}\n`);
        },
      );
      await t.step(
        "rm -f leaves no helper, netns, rule or state behind; the port is free again",
        async () => {
          const helper = helperOf(h, id);
          if (mode === "rootless") {
            assert.ok(helper && alive(helper), "slirp4netns runs while the container does");
          }
          await ok(h, ["rm", "-f", "-t", "0", "web"]);
          assert.deepEqual(await leftovers(h, id, helper), []);
          const l = Deno.listen({ hostname: "127.0.0.1", port });
          l.close();
        },
      );
    }),
);

await testRootAndRootless(
  "network: -P, none, outbound, and teardown when the container ends",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      const why = networkSkipReason(mode);
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      await t.step("-P publishes the image's EXPOSE on a random host port", async () => {
        await ok(h, ["run", "--name", "base", img.ref, "true"]);
        await ok(h, ["commit", "-q", "-c", "EXPOSE 80", "base", "localhost/exposed"]);
        await ok(h, ["run", "-d", "--name", "pub", "-P", "localhost/exposed", "sh", "-c", HTTPD]);
        const line = await ok(h, ["port", "pub"]);
        const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)\n$/.exec(line);
        assert.ok(m, line);
        assert.match(await fetchText(`http://127.0.0.1:${m[1]}/`), /^hello-/);
        await ok(h, ["rm", "-f", "-t", "0", "pub"]);
      });
      await t.step("--network none: loopback only; -p is discarded with podman's warning", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          "--network",
          "none",
          "-p",
          "8080:80",
          img.ref,
          "ip",
          "-o",
          "link",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^1: lo: [^\n]*\n$/);
        assert.match(r.stderr, /Port mappings have been discarded/);
      });
      await t.step("the default network has an interface and a route out", async () => {
        const r = await ok(h, [
          "run",
          "--rm",
          img.ref,
          "sh",
          "-c",
          "ip -o link; ip route; cat /etc/hosts",
        ]);
        assert.match(r, mode === "root" ? /eth0/ : /tap0/);
        assert.match(r, /^default via /m);
        assert.match(r, /host\.containers\.internal/);
      });
      if (mode === "rootless") {
        await t.step(
          "outbound: slirp4netns with allow_host_loopback reaches a server on the host's loopback",
          async () => {
            const ac = new AbortController();
            const server = Deno.serve(
              { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
              () => new Response("from-the-host\n"),
            );
            try {
              const url = `http://10.0.2.2:${server.addr.port}/`;
              const r = await h.pod([
                "run",
                "--rm",
                "--network",
                "slirp4netns:allow_host_loopback=true",
                img.ref,
                "wget",
                "-q",
                "-O",
                "-",
                url,
              ]);
              assert.equal(r.stdout, "from-the-host\n", r.stderr);
              const denied = await h.pod([
                "run",
                "--rm",
                img.ref,
                "timeout",
                "5",
                "wget",
                "-q",
                "-O",
                "-",
                url,
              ]);
              assert.notEqual(denied.code, 0, "the host's loopback is closed without allow_host_loopback");
            } finally {
              ac.abort();
              await server.finished;
            }
          },
        );
      }
      if (mode === "rootless") {
        await t.step(
          "slirp4netns dies: inspect says the container has no network; rm still cleans up",
          async () => {
            const id = (await ok(h, ["run", "-d", img.ref, "sleep", "600"])).trim();
            const helper = helperOf(h, id)!;
            Deno.kill(helper, "SIGKILL");
            for (let i = 0; i < 50 && alive(helper); i++) await sleep(20);
            const err = await ok(h, ["inspect", "--format", "{{.State.Error}}", id]);
            assert.match(err, /^slirp4netns \(pid \d+\) ended: the container has no network\n$/);
            await ok(h, ["rm", "-f", "-t", "0", id]);
            assert.deepEqual(await leftovers(h, id), []);
          },
        );
        const pasta = (() => {
          try {
            return Deno.statSync("/usr/bin/pasta").isFile;
          } catch {
            return false;
          }
        })();
        if (!pasta) console.log("SKIPPED: pasta steps (passt is not installed)");
        else {
          await t.step("pasta: an interface with the host's address, a published port", async () => {
            const port = freePort();
            const id = (await ok(h, [
              "run",
              "-d",
              "--network",
              "pasta",
              "-p",
              `127.0.0.1:${port}:80`,
              img.ref,
              "sh",
              "-c",
              HTTPD,
            ])).trim();
            const helper = helperOf(h, id);
            assert.match(await ok(h, ["exec", id, "ip", "-o", "-4", "addr"]), /: (?!lo)\S+ +inet /);
            assert.equal(await fetchText(`http://127.0.0.1:${port}/`), `hello-${id.slice(0, 12)}\n`);
            await ok(h, ["rm", "-f", "-t", "0", id]);
            assert.deepEqual(await leftovers(h, id, helper), []);
          });
        }
      }
      await t.step(
        "a detached container that ends tears its network down (the supervisor's hook)",
        async () => {
          const id = (await ok(h, ["run", "-d", img.ref, "sleep", "1"])).trim();
          const helper = helperOf(h, id);
          await ok(h, ["wait", id]);
          assert.deepEqual(await leftovers(h, id, helper), []);
        },
      );
      await t.step("kill -9 of the supervisor, then rm -f: nothing left", async () => {
        const id = (await ok(h, ["run", "-d", "-p", `127.0.0.1:${freePort()}:80`, img.ref, "sleep", "600"]))
          .trim();
        const helper = helperOf(h, id);
        const sup = Number((await ok(h, ["inspect", "--format", "{{.State.ConmonPid}}", id])).trim());
        assert.ok(sup > 0);
        Deno.kill(sup, "SIGKILL");
        await ok(h, ["rm", "-f", "-t", "0", id]);
        assert.deepEqual(await leftovers(h, id, helper), []);
      });
    }),
);

await testRootAndRootless(
  "network: containers on a user network reach each other by name and alias",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const why = networkSkipReason(mode);
      if (why) {
        console.log(`SKIPPED (${mode}): ${why}`);
        return;
      }
      const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
      const name = `podtest-${tag}`;
      const octet = 100 + Math.floor(Math.random() * 150);
      const octet2 = Math.floor(Math.random() * 250);
      if (mode === "rootless") {
        // net2: podman 4's rootless netns (netavark inside the store's own namespace, slirp4netns out)
        await ok(h, ["network", "create", "--subnet", `10.${octet}.${octet2}.0/24`, name]);
      } else {
        await Deno.mkdir(`${h.home}/networks`, { recursive: true });
        await Deno.writeTextFile(
          `${h.home}/networks/${name}.json`,
          JSON.stringify({
            name,
            id: tag.repeat(8),
            driver: "bridge",
            network_interface: `pt${tag}`,
            subnets: [{ subnet: `10.${octet}.${octet2}.0/24`, gateway: `10.${octet}.${octet2}.1` }],
            ipv6_enabled: false,
            internal: false,
            dns_enabled: true,
            ipam_options: { driver: "host-local" },
          }),
        );
      }
      const port = freePort();
      const id = (await ok(h, [
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        `${name}:alias=web-alias`,
        "-p",
        `127.0.0.1:${port}:80`,
        img.ref,
        "sh",
        "-c",
        HTTPD,
      ]))
        .trim();
      const client = await h.pod([
        "run",
        "--rm",
        "--network",
        name,
        img.ref,
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://srv/ && break; sleep 0.5; done; wget -q -O - http://web-alias/",
      ]);
      assert.equal(client.stdout, `hello-${id.slice(0, 12)}\n`.repeat(2), client.stderr);
      // published from the user network: the host reaches it on its loopback
      assert.equal(await fetchText(`http://127.0.0.1:${port}/`), `hello-${id.slice(0, 12)}\n`);
      const holder = rootlessNetnsPids(h);
      if (mode === "rootless") assert.equal(holder.length, 2, "a holder and its slirp4netns while in use");
      await ok(h, ["rm", "-f", "-t", "0", "srv"]);
      assert.deepEqual(await leftovers(h, id), []);
      if (mode === "rootless") {
        for (const pid of holder) {
          for (let i = 0; i < 50 && alive(pid); i++) await sleep(20);
          assert.ok(!alive(pid), `rootless netns process ${pid} ended with the network's last container`);
        }
        await assert.rejects(fetch(`http://127.0.0.1:${port}/`), "the published port is closed");
        return;
      }
      const link = await new Deno.Command("ip", {
        args: ["link", "show", `pt${tag}`],
        stdout: "null",
        stderr: "null",
      })
        .output();
      assert.equal(link.code, 1, "the network's bridge is gone with its last container");
    }),
);
