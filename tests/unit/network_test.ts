import assert from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { parseNetwork } from "../../lib/network/mode.ts";
import { exposedMappings, parsePublish, portBindings, portsColumn } from "../../lib/network/ports.ts";
import { allocateIp, netavarkOptions, subnetRange } from "../../lib/network/netavark.ts";
import { DEFAULT_NETWORK_NAME, defaultNetwork, loadNetwork, networksDir } from "../../lib/network/config.ts";
import { NotFoundError } from "../../lib/errors.ts";
import { slirpAddresses } from "../../lib/network/slirp.ts";
import { hostsFile, resolvConfFile } from "../../lib/container/userdata.ts";
import type { ContainerConfig } from "../../lib/store/containers.ts";

const tcp = (host_ip: string, host_port: number, container_port: number, range = 1, protocol = "tcp") => ({
  host_ip,
  host_port,
  container_port,
  range,
  protocol,
});

Deno.test("parsePublish: podman's -p forms", () => {
  assert.deepEqual(parsePublish("80"), [tcp("", 0, 80)]);
  assert.deepEqual(parsePublish("8080:80"), [tcp("", 8080, 80)]);
  assert.deepEqual(parsePublish("127.0.0.1:8080:80/udp"), [tcp("127.0.0.1", 8080, 80, 1, "udp")]);
  assert.deepEqual(parsePublish("127.0.0.1::80"), [tcp("127.0.0.1", 0, 80)]);
  assert.deepEqual(parsePublish("8000-8002:80-82"), [tcp("", 8000, 80, 3)]);
  assert.deepEqual(parsePublish("[::1]:8080:80"), [tcp("::1", 8080, 80)]);
  assert.deepEqual(parsePublish("53:53/tcp,udp"), [tcp("", 53, 53), tcp("", 53, 53, 1, "udp")]);
  for (const bad of ["0", "70000", "a:80", "80/icmp", "8000-8001:80-82", "1.2.3:80:80", "80-79", "1:2:3:4"]) {
    assert.throws(() => parsePublish(bad), UsageError, bad);
  }
});

Deno.test("ports: ps column, inspect bindings, -P skips ports already published", () => {
  const maps = [tcp("", 8080, 80), tcp("127.0.0.1", 9000, 90, 2, "udp")];
  assert.equal(portsColumn(maps), "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp");
  assert.deepEqual(portBindings(maps), {
    "80/tcp": [{ HostIp: "", HostPort: "8080" }],
    "90/udp": [{ HostIp: "127.0.0.1", HostPort: "9000" }],
    "91/udp": [{ HostIp: "127.0.0.1", HostPort: "9001" }],
  });
  assert.deepEqual(exposedMappings({ "80/tcp": {}, "443/tcp": {}, "53/udp": {} }, maps), [
    tcp("", 0, 443),
    tcp("", 0, 53, 1, "udp"),
  ]);
});

Deno.test("parseNetwork: defaults, modes and options as podman", () => {
  assert.deepEqual(parseNetwork([], true), { mode: "slirp4netns", slirp: {}, args: [] });
  assert.deepEqual(parseNetwork([], false), { mode: "bridge", networks: { podman: {} }, args: [] });
  assert.equal(parseNetwork(["private"], false).mode, "bridge");
  assert.equal(parseNetwork(["none"], true).mode, "none");
  assert.equal(parseNetwork(["host"], false).mode, "host");
  assert.deepEqual(
    parseNetwork(["slirp4netns:allow_host_loopback=true,mtu=1500,cidr=10.5.0.0/24"], true).slirp,
    {
      allow_host_loopback: "true",
      mtu: "1500",
      cidr: "10.5.0.0/24",
    },
  );
  assert.deepEqual(parseNetwork(["pasta:-T,8080"], true).pastaArgs, ["-T", "8080"]);
  assert.deepEqual(
    parseNetwork(["a:ip=10.1.0.5,alias=x", "b"], false, { aliases: ["y"] }).networks,
    { a: { static_ips: ["10.1.0.5"], aliases: ["x", "y"] }, b: {} },
  );
  assert.equal(parseNetwork(["container:web"], false).mode, "other");
  for (
    const bad of [
      ["slirp4netns:bogus=1"],
      ["slirp4netns:allow_host_loopback=yes"],
      ["slirp4netns:port_handler=x"],
      ["none", "a"],
      ["a:ip=nope"],
      ["a:colour=red"],
    ]
  ) assert.throws(() => parseNetwork(bad, false), UsageError, bad.join(" "));
  // net2: rootless user networks and `bridge` as podman 4 (in the store's rootless netns)
  assert.deepEqual(parseNetwork(["mynet"], true).networks, { mynet: {} });
  assert.equal(parseNetwork(["bridge"], true).mode, "bridge");
  assert.equal(parseNetwork([], true).mode, "slirp4netns");
  assert.throws(() => parseNetwork(["none"], false, { ip: ["10.0.0.1"] }), /need a bridge network/);
});

Deno.test("IPAM: a free address of the subnet, never the gateway; a requested one checked", () => {
  const net = { ...defaultNetwork(), subnets: [{ subnet: "10.9.8.0/29", gateway: "10.9.8.1" }] };
  assert.deepEqual(subnetRange("10.9.8.0/29"), { first: 0x0a090801, last: 0x0a090806, prefix: 29 });
  const used = new Set<string>();
  for (let i = 0; i < 5; i++) used.add(allocateIp(net, used));
  assert.deepEqual([...used].sort(), ["10.9.8.2", "10.9.8.3", "10.9.8.4", "10.9.8.5", "10.9.8.6"]);
  assert.throws(() => allocateIp(net, used), /failed to find free IP/);
  assert.equal(allocateIp(net, new Set(), ["10.9.8.4"]), "10.9.8.4");
  assert.throws(() => allocateIp(net, new Set(["10.9.8.4"]), ["10.9.8.4"]), /already allocated/);
  assert.throws(() => allocateIp(net, new Set(), ["10.9.9.4"]), /not in subnet/);
  const opts = netavarkOptions("a".repeat(64), "web", [{
    config: { ...net, dns_enabled: true },
    attach: { aliases: ["w"] },
    ips: ["10.9.8.2"],
    iface: "eth0",
  }], []) as { networks: Record<string, { aliases: string[] }>; port_mappings: unknown };
  assert.deepEqual(opts.networks.podman.aliases, ["w", "aaaaaaaaaaaa"]);
  assert.equal(opts.port_mappings, null);
});

Deno.test("/etc/hosts and resolv.conf from the network and the DNS flags", () => {
  const c = {
    id: "f".repeat(64),
    name: "web",
    hostname: "h1",
    namespaces: { pid: "private", ipc: "private", uts: "private", net: "private" },
    net: {
      network: { mode: "slirp4netns", args: [] },
      ports: [],
      addHosts: ["db:10.1.2.3", "gw:host-gateway"],
    },
  } as unknown as ContainerConfig;
  const s = slirpAddresses();
  const facts = { ip: s.ip, nameservers: [s.dns], search: [], hostGateway: s.gateway };
  assert.equal(
    hostsFile(c, facts),
    "10.1.2.3\tdb\n10.0.2.2\tgw\n127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n" +
      "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n10.0.2.100\th1 web\n" +
      "10.0.2.2\thost.containers.internal\n",
  );
  assert.match(resolvConfFile(c, facts), /^nameserver 10\.0\.2\.3$/m);
  const withDns = {
    ...c,
    net: { ...c.net!, dns: ["192.0.2.53"], dnsSearch: ["example.test"], dnsOptions: ["ndots:2"] },
  };
  assert.equal(
    resolvConfFile(withDns, facts),
    "search example.test\nnameserver 192.0.2.53\noptions ndots:2\n",
  );
  const aardvark = {
    ip: "10.89.0.5",
    nameservers: ["10.89.0.1"],
    search: ["dns.podman"],
    hostGateway: "10.89.0.1",
  };
  assert.match(resolvConfFile(c, aardvark), /^search dns\.podman.*\nnameserver 10\.89\.0\.1\n/);
  assert.doesNotMatch(resolvConfFile(c, aardvark), /nameserver (?!10\.89\.0\.1)/);
});

Deno.test("loadNetwork: by its file's name, the default one without a file, ids and invalid files as the list says", async () => {
  const root = Deno.makeTempDirSync({ prefix: "pod-netcfg-" });
  try {
    const dir = networksDir(root);
    Deno.mkdirSync(dir, { recursive: true });
    const a = { ...defaultNetwork(), name: "a", id: "ab".repeat(32), network_interface: "podman1" };
    Deno.writeTextFileSync(`${dir}/a.json`, JSON.stringify({ ...a, ipv6_enabled: undefined }));
    // a file whose name does not match its file name is skipped (as podman), by name too
    Deno.writeTextFileSync(`${dir}/b.json`, JSON.stringify({ ...a, name: "other", id: "cd".repeat(32) }));
    assert.deepEqual(await loadNetwork(root, "a"), { ...a, ipv6_enabled: false });
    assert.equal((await loadNetwork(root, "abab")).name, "a"); // an id prefix: from the list
    assert.equal((await loadNetwork(root, DEFAULT_NETWORK_NAME)).network_interface, "podman0");
    await assert.rejects(() => loadNetwork(root, "b"), NotFoundError);
    await assert.rejects(() => loadNetwork(root, "../a"), NotFoundError);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
