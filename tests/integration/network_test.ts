/**
 * `pod network …` against a real store, root and rootless (the commands only touch the store): create (podman's
 * allocation, errors as one line with exit 125), ls (filters, formats, -q, --no-trunc), inspect, exists, connect
 * and disconnect in the container record (a running one without a bridge refused with a clear message), rm (refused while
 * a container is attached, exit 2; -f removes the container; missing: exit 1; default network refused), prune,
 * reload; and interop: podman 4 lists and inspects networks pod wrote, and pod reads networks podman wrote.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { rootlessAvailable, TEST_USER } from "../helpers/rootless.ts";

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    const ok = async (args: string[], stdin?: string) => {
      const r = await h.pod(args, stdin === undefined ? {} : { stdin });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const fails = async (args: string[], code: number, stderr: string | RegExp) => {
      const r = await h.pod(args);
      assert.equal(r.code, code, `${args.join(" ")}: exit ${r.code}, ${r.stderr}`);
      if (typeof stderr === "string") assert.equal(r.stderr, `Error: ${stderr}\n`);
      else assert.match(r.stderr, stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
      return r;
    };
    const inspect = async (name: string) => JSON.parse(await ok(["network", "inspect", name]))[0];

    await t.step("the default network exists without a file and cannot be removed", async () => {
      assert.match(
        await ok(["network", "ls"]),
        /^NETWORK ID\s+NAME\s+DRIVER\n2f259bab93aa\s+podman\s+bridge\n$/,
      );
      const d = await inspect("podman");
      assert.deepEqual(d.subnets, [{ subnet: "10.88.0.0/16", gateway: "10.88.0.1" }]);
      assert.equal(d.network_interface, "podman0");
      assert.equal(d.dns_enabled, false);
      await fails(["network", "rm", "podman"], 125, "default network podman cannot be removed");
      assert.equal((await h.pod(["network", "exists", "podman"])).code, 0);
    });

    let frontId = "";
    await t.step("create: allocation, flags, the file on disk", async () => {
      assert.equal(await ok(["network", "create", "--label", "app=shop", "front"]), "front\n");
      const front = await inspect("front");
      frontId = front.id;
      assert.match(frontId, /^[0-9a-f]{64}$/);
      assert.equal(front.driver, "bridge");
      assert.match(front.network_interface, /^podman\d+$/);
      assert.match(front.subnets[0].subnet, /^10\.\d+\.\d+\.0\/24$/);
      assert.equal(front.dns_enabled, true);
      assert.deepEqual(front.labels, { app: "shop" });
      const file = JSON.parse(await Deno.readTextFile(`${h.home}/networks/front.json`));
      assert.deepEqual(file, front, "inspect shows the file");
      assert.equal(await ok(["network", "create", "--ignore", "front"]), "front\n");

      await ok([
        "network",
        "create",
        "--subnet",
        "10.231.0.0/16",
        "--gateway",
        "10.231.0.254",
        "--ip-range",
        "10.231.5.0/24",
        "--internal",
        "-o",
        "mtu=1400",
        "--interface-name",
        "podtestbr0",
        "back",
      ]);
      const back = await inspect("back");
      assert.deepEqual(back.subnets, [{
        subnet: "10.231.0.0/16",
        gateway: "10.231.0.254",
        lease_range: { start_ip: "10.231.5.1", end_ip: "10.231.5.255" },
      }]);
      assert.deepEqual([back.internal, back.options, back.network_interface], [
        true,
        { mtu: "1400" },
        "podtestbr0",
      ]);
      await ok(["network", "create", "--ipv6", "--disable-dns", "dual"]);
      const dual = await inspect("dual");
      assert.equal(dual.ipv6_enabled, true);
      assert.equal(dual.dns_enabled, false);
      assert.match(dual.subnets[1].subnet, /^fd[0-9a-f]{2}:[0-9a-f:]+::\/64$/);
      assert.notEqual(dual.subnets[0].subnet, front.subnets[0].subnet, "each network its own subnet");
    });

    await t.step("create: invalid input is one line, exit 125", async () => {
      await fails(
        ["network", "create", "front"],
        125,
        "network name front already used: network already exists",
      );
      await fails(
        ["network", "create", "--subnet", "10.231.7.0/24", "x"],
        125,
        "subnet 10.231.7.0/24 is already used on the host or by another config",
      );
      await fails(
        ["network", "create", "--subnet", "10.232.0.0/33", "x"],
        125,
        "invalid CIDR address: 10.232.0.0/33",
      );
      await fails(
        ["network", "create", "--subnet", "10.232.0.0/24", "--gateway", "10.233.0.1", "x"],
        125,
        "gateway 10.233.0.1 not in subnet 10.232.0.0/24",
      );
      await fails(
        ["network", "create", "--gateway", "10.0.0.1", "x"],
        125,
        "cannot set gateway or range without subnet",
      );
      await fails(["network", "create", "-d", "foo", "x"], 125, "unsupported driver foo: invalid argument");
      await fails(
        ["network", "create", "-o", "colour=red", "x"],
        125,
        "unsupported bridge network option colour",
      );
      await fails(["network", "create", "bad/name"], 125, /names must match/);
      const flag = await h.pod(["network", "create", "--bogus", "x"]);
      assert.equal(flag.code, 125);
      assert.equal(flag.stderr, "Error: unknown flag: --bogus\nSee 'pod network create --help'\n");
      assert.equal((await h.pod(["network", "exists", "x"])).code, 1, "nothing written");
    });

    await t.step("ls: filters, formats, quiet, no-trunc; inspect formats; exists", async () => {
      assert.equal(await ok(["network", "ls", "-q"]), "back\ndual\nfront\npodman\n");
      assert.equal(await ok(["network", "ls", "-q", "--filter", "label=app=shop"]), "front\n");
      assert.equal(
        await ok(["network", "ls", "-q", "--filter", "name=^ba", "--filter", "name=nt$"]),
        "back\nfront\n",
      );
      assert.equal(await ok(["network", "ls", "-q", "--filter", `id=${frontId.slice(0, 10)}`]), "front\n");
      assert.equal(await ok(["network", "ls", "-q", "--filter", "dangling=true"]), "back\ndual\nfront\n");
      assert.equal(await ok(["network", "ls", "-q", "--filter", "driver=macvlan"]), "");
      await fails(["network", "ls", "--filter", "colour=red"], 125, 'invalid filter "colour"');
      assert.equal(
        await ok([
          "network",
          "ls",
          "--filter",
          "name=front",
          "--format",
          "{{.Name}} {{.ID}} {{.Labels}} {{.DNSEnabled}}",
        ]),
        `front ${frontId.slice(0, 12)} app=shop true\n`,
      );
      assert.match(
        await ok(["network", "ls", "--no-trunc", "--filter", "name=front"]),
        new RegExp(`${frontId}\\s+front`),
      );
      assert.match(
        await ok(["network", "ls", "--format", "table {{.ID}} {{.Name}}", "--filter", "name=front"]),
        /^NETWORK ID\s+NAME\nfront|^NETWORK ID\s+NAME\n[0-9a-f]{12}\s+front\n$/,
      );
      const json = JSON.parse(await ok(["network", "ls", "--format", "json", "--filter", "name=front"]));
      assert.equal(json[0].id, frontId);
      assert.equal(
        await ok([
          "network",
          "inspect",
          "--format",
          "{{.Name}} {{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}} {{.Options}}",
          "back",
        ]),
        "back 10.231.0.0/16 10.231.0.254 map[mtu:1400]\n",
      );
      assert.equal(
        JSON.parse(await ok(["network", "inspect", frontId.slice(0, 12)]))[0].name,
        "front",
        "by id prefix",
      );
      const miss = await h.pod(["network", "inspect", "front", "nope"]);
      assert.equal(miss.code, 125);
      assert.equal(
        miss.stderr,
        "Error: inspecting object: network nope: unable to find network with name or ID nope: network not found\n",
      );
      assert.equal(JSON.parse(miss.stdout)[0].name, "front");
      assert.equal((await h.pod(["network", "exists", "front"])).code, 0);
      assert.equal((await h.pod(["network", "exists", "nope"])).code, 1);
    });

    await t.step({
      name: "rootless: connect/disconnect of a stopped container change its record (net2: rootless netns)",
      ignore: mode !== "rootless",
      fn: async () => {
        await ok(["create", "--name", "c2", "--network", "bridge", img.ref, "true"]);
        await ok(["network", "connect", "front", "c2"]);
        assert.equal(await ok(["ps", "-a", "--format", "{{.Names}}", "--filter", "network=front"]), "c2\n");
        await ok(["network", "disconnect", "front", "c2"]);
        await fails(["network", "disconnect", "front", "c2"], 125, /is not connected to network front/);
        assert.equal(await ok(["ps", "-a", "-q", "--filter", "network=front"]), "");
      },
    });

    await t.step({
      name:
        "connect/disconnect in the runtime's record; rm refuses a network in use; -f removes the container",
      ignore: mode === "rootless",
      fn: async () => {
        await ok(["create", "--name", "c1", img.ref, "true"]);
        await ok(["network", "connect", "--alias", "web", "--ip", "10.231.5.7", "back", "c1"]);
        await ok(["network", "connect", "front", "c1"]);
        const conf = JSON.parse(
          await Deno.readTextFile(
            `${h.home}/containers/${(await ok(["inspect", "--format", "{{.Id}}", "c1"])).trim()}/config.json`,
          ),
        );
        // one record: the runtime's attachments (what the next start attaches), after the default network
        assert.equal(conf.networks, undefined);
        assert.deepEqual(conf.net.network.networks, {
          podman: { interface_name: "eth0" },
          back: { interface_name: "eth1", static_ips: ["10.231.5.7"], aliases: ["web"] },
          front: { interface_name: "eth2" },
        });
        assert.equal(
          (await ok(["ps", "-a", "--format", "{{.Names}}", "--filter", "network=back"])).trim(),
          "c1",
        );
        await fails(["network", "connect", "front", "c1"], 125, /is already connected to network "front"/);
        await fails(
          ["network", "connect", "--ip", "10.9.9.9", "dual", "c1"],
          125,
          "requested static ip 10.9.9.9 not in any subnet on network dual",
        );
        await fails(["network", "connect", "--alias", "x", "dual", "c1"], 125, /dns is disabled/);
        await fails(
          ["network", "connect", "nope", "c1"],
          125,
          "unable to find network with name or ID nope: network not found",
        );
        await fails(["network", "connect", "front", "nope"], 125, /no such container/);
        await ok(["create", "--name", "c2", img.ref, "true"]);
        await fails(
          ["network", "connect", "--ip", "10.231.5.7", "back", "c2"],
          125,
          /10\.231\.5\.7 is already allocated/,
        );
        await ok(["create", "--name", "hostnet", "--network", "host", img.ref, "true"]);
        await fails(["network", "connect", "front", "hostnet"], 125, /network mode "host" is not supported/);
        await ok(["rm", "hostnet"]);
        await ok(["network", "disconnect", "front", "c1"]);
        await fails(["network", "disconnect", "front", "c1"], 125, /is not connected to network front/);
        assert.equal(await ok(["network", "ls", "-q", "--filter", "dangling=false"]), "back\npodman\n");

        await fails(["network", "rm", "back"], 2, /"back" has associated containers with it\. Use -f/);
        assert.equal((await h.pod(["network", "exists", "back"])).code, 0);
        const missing = await h.pod(["network", "rm", "nope", "dual"]);
        assert.equal(missing.code, 1, missing.stderr);
        assert.equal(missing.stdout, "dual\n");
        assert.equal(await ok(["network", "rm", "-f", "-t", "0", "back"]), "back\n");
        assert.equal((await h.pod(["container", "exists", "c1"])).code, 1, "-f removed the container");
        assert.equal((await h.pod(["container", "exists", "c2"])).code, 0);
        // a container created on a network (not connected later) counts as its user too
        await ok(["network", "create", "--subnet", "10.231.77.0/24", "made"]);
        await ok(["create", "--name", "c3", "--network", "made", img.ref, "true"]);
        assert.equal(
          (await ok(["ps", "-a", "--format", "{{.Names}}", "--filter", "network=made"])).trim(),
          "c3",
        );
        assert.match(await ok(["network", "ls", "-q", "--filter", "dangling=false"]), /^made$/m);
        await fails(["network", "rm", "made"], 2, /"made" has associated containers with it/);
        await ok(["network", "disconnect", "made", "c3"]);
        assert.equal(await ok(["network", "rm", "made"]), "made\n");
        await ok(["rm", "c3"]);
      },
    });

    await t.step(
      "a running container without a bridge: connect refused with a clear message, reload has nothing to do",
      async () => {
        // (a running bridge container is attached live: tests/integration/network_connect_test.ts, on a bridge of
        // its own; here the running container has no bridge network to change)
        await ok([
          "run",
          "-d",
          "--name",
          "r1",
          ...(mode === "root" ? ["--network", "none"] : []),
          img.ref,
          "sleep",
          "300",
        ]);
        const r = await fails(
          ["network", "connect", "front", "r1"],
          125,
          mode === "root"
            ? /container r1 uses network mode "none"/
            : /container r1 uses network mode "slirp4netns"/,
        );
        assert.doesNotMatch(r.stderr, /at .*\.ts/);
        // net2: no bridge network, no firewall rules of its own: nothing to re-make, its ID printed (podman's shape)
        const rel = await h.pod(["network", "reload", "r1"]);
        assert.equal(rel.code, 0, rel.stderr);
        assert.match(rel.stdout, /^[0-9a-f]{64}\n$/);
        await ok(["rm", "-f", "-t", "0", "r1"]);
        await fails(
          ["network", "reload", "c2"],
          125,
          /cannot reload network unless container network is running/,
        );
      },
    );

    await t.step("prune: unused networks, filters, the prompt", async () => {
      await ok(["network", "create", "--label", "keep=1", "kept"]);
      if (mode === "root") await ok(["network", "connect", "front", "c2"]);
      await ok(["network", "create", "spare"]);
      assert.equal(await ok(["network", "prune"], "n\n"), "");
      assert.equal((await h.pod(["network", "exists", "spare"])).code, 0, "answered no");
      // rootless: nothing can use a named network (nor did the root-only step remove back and dual)
      assert.equal(
        await ok(["network", "prune", "-f", "--filter", "label!=keep"]),
        mode === "root" ? "spare\n" : "back\ndual\nfront\nspare\n",
      );
      await fails(["network", "prune", "-f", "--filter", "name=x"], 125, 'invalid filter "name"');
      assert.equal(await ok(["network", "prune", "-f"]), "kept\n");
      if (mode === "rootless") return assert.equal(await ok(["network", "ls", "-q"]), "podman\n");
      assert.equal(await ok(["network", "ls", "-q"]), "front\npodman\n", "in use and default stay");
      // system prune: the stopped container goes first, then the network it was using
      assert.match(
        await ok(["system", "prune", "-f"]),
        /^Deleted Containers\n[0-9a-f]{64}\nDeleted Networks\nfront\n/,
      );
      assert.equal(await ok(["network", "ls", "-q"]), "podman\n");
    });
  });
}

await testRootAndRootless("network", suite);

/** podman 4's `network ls`/`inspect` on pod's network files, and pod on podman's (network_config_dir). */
const podman = await new Deno.Command("podman", { args: ["--version"], stdout: "null", stderr: "null" })
  .output()
  .then((o) => o.success).catch(() => false);
if (!podman) {
  console.log("network interop with podman: skipped, podman is not installed (Debian package podman)");
}
const rootless = Deno.uid() === 0 && await rootlessAvailable();
for (const mode of ["root", "rootless"] as const) {
  Deno.test({
    name: `network interop (${mode}): podman reads pod's network files and pod reads podman's`,
    ignore: !podman || Deno.uid() !== 0 || (mode === "rootless" && !rootless),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => interop(mode),
  });
}

async function interop(mode: Mode): Promise<void> {
  const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
  const pausePid = `${h.runtimeDir}/libpod/tmp/pause.pid`;
  try {
    const ok = async (args: string[]) => {
      const r = await h.pod(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    await ok([
      "network",
      "create",
      "--label",
      "by=pod",
      "--subnet",
      "10.234.0.0/24",
      "--ip-range",
      "10.234.0.128/25",
      "podnet",
    ]);
    await ok(["network", "create", "--ipv6", "-o", "isolate=true", "podnet6"]);
    const conf = `${h.root}/containers.conf`;
    await Deno.writeTextFile(conf, `[network]\nnetwork_config_dir = "${h.home}/networks"\n`);
    if (h.user) await Deno.chown(conf, h.user.uid, h.user.gid);
    const podmanRun = async (args: string[]) => {
      const argv = [
        "--root",
        `${h.root}/podman-root`,
        "--runroot",
        `${h.root}/podman-run`,
        "--storage-driver",
        "vfs",
      ];
      const o = await new Deno.Command(h.user ? "setpriv" : "podman", {
        args: h.user
          ? [
            "--reuid",
            String(h.user.uid),
            "--regid",
            String(h.user.gid),
            "--init-groups",
            "podman",
            ...argv,
            ...args,
          ]
          : [...argv, ...args],
        env: { CONTAINERS_CONF: conf, HOME: h.userHome, XDG_RUNTIME_DIR: h.runtimeDir },
        cwd: h.root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(o.stdout);
      assert.equal(o.code, 0, `podman ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
      return out;
    };
    assert.equal(await podmanRun(["network", "ls", "--format", "{{.Name}}"]), "podman\npodnet\npodnet6\n");
    for (const name of ["podnet", "podnet6", "podman"]) {
      const theirs = JSON.parse(await podmanRun(["network", "inspect", name]))[0];
      const ours = JSON.parse(await ok(["network", "inspect", name]))[0];
      if (name === "podman") delete theirs.created, delete ours.created; // synthesized by each, now
      assert.deepEqual(theirs, ours, name);
    }
    // and back: a network podman creates is one pod lists, inspects and removes
    assert.equal(
      await podmanRun(["network", "create", "--subnet", "10.235.0.0/24", "bypodman"]),
      "bypodman\n",
    );
    assert.equal(await ok(["network", "ls", "-q"]), "bypodman\npodman\npodnet\npodnet6\n");
    const theirs = JSON.parse(await podmanRun(["network", "inspect", "bypodman"]))[0];
    const ours = JSON.parse(await ok(["network", "inspect", "bypodman"]))[0];
    assert.deepEqual(ours, theirs);
    assert.equal(await ok(["network", "rm", "bypodman"]), "bypodman\n");
    assert.equal(await podmanRun(["network", "rm", "podnet6"]), "podnet6\n");
    assert.equal(await ok(["network", "ls", "-q"]), "podman\npodnet\n");
  } finally {
    // rootless podman leaves its user namespace's pause process (catatonit) behind: end exactly that one
    const pid = Number(await Deno.readTextFile(pausePid).catch(() => ""));
    if (pid > 1) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await h.cleanup();
  }
}
