/**
 * Networks without a store: address and CIDR parsing, podman's subnet allocation (first free /24 from
 * 10.89.0.0, random fd00::/8 /64s), `network create`'s validation (bad CIDR, overlap, duplicate name, gateway
 * and range outside the subnet, options), the host route tables and the ls/prune filters.
 */
import assert from "node:assert/strict";
import {
  type Cidr,
  cidrContains,
  cidrsIntersect,
  formatCidr,
  formatIp,
  freeIPv4Subnet,
  freeIPv6Subnet,
  parseCidr,
  parseIp,
  tryParseCidr,
} from "../../lib/network/subnets.ts";
import { buildNetwork, type CreateContext, type NetworkCreateOptions } from "../../lib/network/create.ts";
import { defaultNetwork, findNetworkIn, type NetworkConfig } from "../../lib/network/config.ts";
import { parseIpv6RouteTable, parseRouteTable } from "../../lib/network/host.ts";
import { parseNetworkFilters } from "../../lib/network/filters.ts";
import { PodError } from "../../lib/errors.ts";

const c = (s: string): Cidr => parseCidr(s);

Deno.test("addresses: IPv4 and IPv6 parse and print as Go does", () => {
  assert.equal(formatIp(parseIp("10.89.0.1")!), "10.89.0.1");
  for (const bad of ["10.89.0", "10.89.0.256", "010.1.1.1", "1.2.3.4.5", "", "a.b.c.d", "1:2:3", "::1::"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.equal(formatIp(parseIp("fd00:0:0:0:0:0:0:1")!), "fd00::1");
  assert.equal(formatIp(parseIp("::")!), "::");
  assert.equal(formatIp(parseIp("1:0:0:2:0:0:0:3")!), "1:0:0:2::3", "the longest zero run");
  assert.equal(formatIp(parseIp("1:0:2:3:4:5:6:7")!), "1:0:2:3:4:5:6:7", "one zero group stays");
  assert.equal(formatIp(parseIp("::ffff:10.0.0.1")!), "::ffff:a00:1");
  assert.equal(formatIp(parseIp("FD12:3456::ABCD")!), "fd12:3456::abcd");
});

Deno.test("CIDRs: normalized to the network address; bad ones are podman's error", () => {
  assert.equal(formatCidr(c("10.100.5.3/24")), "10.100.5.0/24");
  assert.equal(formatCidr(c("fd00:1::7/64")), "fd00:1::/64");
  assert.equal(formatCidr(c("0.0.0.0/0")), "0.0.0.0/0");
  for (
    const bad of ["10.0.0.0/33", "10.0.0.0", "bad", "10.0.0.0/-1", "10.0.0.0/08", "fd00::/129", "10.0.0.0/"]
  ) {
    assert.equal(tryParseCidr(bad), undefined, bad);
    assert.throws(
      () => parseCidr(bad),
      (e) => e instanceof PodError && e.message === `invalid CIDR address: ${bad}`,
    );
  }
  assert.ok(cidrContains(c("10.88.0.0/16"), parseIp("10.88.200.1")!));
  assert.ok(!cidrContains(c("10.88.0.0/16"), parseIp("10.89.0.1")!));
  assert.ok(!cidrContains(c("10.88.0.0/16"), parseIp("::1")!), "families never mix");
  assert.ok(cidrsIntersect(c("10.0.0.0/8"), c("10.89.3.0/24")));
  assert.ok(cidrsIntersect(c("10.89.3.0/24"), c("10.0.0.0/8")));
  assert.ok(!cidrsIntersect(c("10.89.3.0/24"), c("10.89.4.0/24")));
});

Deno.test("allocation: the first free /24 from 10.89.0.0, skipping every used subnet", () => {
  assert.equal(formatCidr(freeIPv4Subnet([])), "10.89.0.0/24");
  assert.equal(formatCidr(freeIPv4Subnet([c("10.88.0.0/16")])), "10.89.0.0/24");
  assert.equal(formatCidr(freeIPv4Subnet([c("10.89.0.0/24"), c("10.89.1.0/24")])), "10.89.2.0/24");
  assert.equal(formatCidr(freeIPv4Subnet([c("10.89.0.0/24"), c("10.89.2.0/24")])), "10.89.1.0/24", "a hole");
  assert.equal(formatCidr(freeIPv4Subnet([c("10.89.0.128/25")])), "10.89.1.0/24", "partial overlap");
  assert.equal(formatCidr(freeIPv4Subnet([c("10.89.0.0/16")])), "10.90.0.0/24", "a host route over the pool");
  assert.throws(() => freeIPv4Subnet([c("10.0.0.0/8")]), /could not find free subnet/);
  // IPv6: fd + 7 random bytes, /64, a used one drawn again
  const draws = [[1, 2, 3, 4, 5, 6, 7, 8], [9, 9, 9, 9, 9, 9, 9, 9]];
  const rnd = (b: Uint8Array) => (b.set(draws.shift()!), b);
  const v6 = freeIPv6Subnet([c("fd02:304:506:708::/64")], rnd);
  assert.equal(formatCidr(v6), "fd09:909:909:909::/64");
});

const ctx = (existing: NetworkConfig[] = [], o: Partial<CreateContext> = {}): CreateContext => ({
  existing: [defaultNetwork(), ...existing],
  hostSubnets: [c("192.0.2.0/24")],
  hostInterfaces: ["lo", "eth0", "podman1"],
  id: "a".repeat(64),
  now: new Date("2026-01-01T00:00:00Z"),
  random: (b) => b.fill(0x11),
  ...o,
});
const build = (o: NetworkCreateOptions, cx = ctx()) => buildNetwork(o, cx);
const fails = (o: NetworkCreateOptions, message: string | RegExp, cx = ctx()) =>
  assert.throws(() => build(o, cx), (e) => {
    assert.ok(e instanceof PodError, String(e));
    assert.equal(e.exitCode, 125);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });

Deno.test("create: podman's defaults (bridge, free subnet and bridge name, gateway, DNS on)", () => {
  assert.deepEqual(build({ name: "foo" }), {
    name: "foo",
    id: "a".repeat(64),
    driver: "bridge",
    network_interface: "podman2", // podman1 is a host interface
    created: "2026-01-01T00:00:00Z", // Go drops the zero fraction
    subnets: [{ subnet: "10.89.0.0/24", gateway: "10.89.0.1" }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: true,
    ipam_options: { driver: "host-local" },
  });
  const foo = build({ name: "foo" });
  const bar = build({ name: "bar" }, ctx([foo]));
  assert.equal(bar.subnets![0].subnet, "10.89.1.0/24", "next free subnet");
  assert.equal(bar.network_interface, "podman3", "next free bridge");
  assert.equal(build({}, ctx([foo])).name, "podman3", "no name: the free device name");
  // dual stack; an IPv6-only subnet stays IPv6-only
  const v6 = build({ name: "v6", ipv6: true });
  assert.deepEqual(v6.subnets, [
    { subnet: "10.89.0.0/24", gateway: "10.89.0.1" },
    { subnet: "fd11:1111:1111:1111::/64", gateway: "fd11:1111:1111:1111::1" },
  ]);
  assert.equal(v6.ipv6_enabled, true);
  const only6 = build({ name: "o6", subnets: ["fd00:2::/64"] });
  assert.deepEqual(only6.subnets, [{ subnet: "fd00:2::/64", gateway: "fd00:2::1" }]);
  assert.equal(only6.ipv6_enabled, true);
  // internal without DNS: no gateway; labels, options, lease range
  const x = build({
    name: "x",
    subnets: ["10.100.0.0/16"],
    ipRanges: ["10.100.2.0/24"],
    internal: true,
    disableDns: true,
    labels: { a: "b" },
    options: { mtu: "1400", isolate: "1" },
  });
  assert.deepEqual(x.subnets, [{
    subnet: "10.100.0.0/16",
    lease_range: { start_ip: "10.100.2.1", end_ip: "10.100.2.255" },
  }]);
  assert.deepEqual([x.internal, x.dns_enabled, x.labels, x.options], [true, false, { a: "b" }, {
    mtu: "1400",
    isolate: "true",
  }]);
  assert.deepEqual(
    build({
      name: "r",
      subnets: ["10.101.0.0/24"],
      gateways: ["10.101.0.254"],
      ipRanges: ["10.101.0.10-10.101.0.20"],
    })
      .subnets,
    [{
      subnet: "10.101.0.0/24",
      gateway: "10.101.0.254",
      lease_range: { start_ip: "10.101.0.10", end_ip: "10.101.0.20" },
    }],
  );
  const none = build({ name: "n", ipamDriver: "none" });
  assert.equal(none.subnets, undefined);
  assert.equal(none.dns_enabled, false);
  const mac = build({
    name: "m",
    driver: "macvlan",
    subnets: ["192.168.250.0/24"],
    options: { parent: "eth0" },
  });
  assert.deepEqual([mac.network_interface, mac.dns_enabled, mac.options], ["eth0", false, undefined]);
  assert.equal(build({ name: "foo", ignore: true }, ctx([foo])), foo, "--ignore returns the existing one");
});

Deno.test("create: invalid input is one line, exit 125, podman's words", () => {
  const foo = build({ name: "foo", subnets: ["10.99.0.0/24"] });
  fails({ name: "foo" }, "network name foo already used: network already exists", ctx([foo]));
  fails({ name: "podman" }, "network name podman already used: network already exists");
  fails({ name: "bad/name" }, /^network name bad\/name invalid: names must match/);
  fails({ name: "x", subnets: ["10.99.0.0/33"] }, "invalid CIDR address: 10.99.0.0/33");
  fails({ name: "x", subnets: ["bad"] }, "invalid CIDR address: bad");
  fails(
    { name: "x", subnets: ["10.99.0.128/25"] },
    "subnet 10.99.0.128/25 is already used on the host or by another config",
    ctx([foo]),
  );
  fails(
    { name: "x", subnets: ["10.88.1.0/24"] },
    "subnet 10.88.1.0/24 is already used on the host or by another config",
  );
  fails({ name: "x", subnets: ["192.0.2.0/25"] }, /already used on the host/, undefined);
  fails({ name: "x", subnets: ["10.120.0.0/24", "10.120.0.0/25"] }, /10\.120\.0\.0\/25 is already used/);
  fails(
    { name: "x", subnets: ["10.100.0.0/24"], gateways: ["10.101.0.1"] },
    "gateway 10.101.0.1 not in subnet 10.100.0.0/24",
  );
  fails(
    { name: "x", subnets: ["10.100.0.0/24"], gateways: ["nope"] },
    /invalid string being converted to IP address: nope/,
  );
  fails({ name: "x", gateways: ["10.0.0.1"] }, "cannot set gateway or range without subnet");
  fails({ name: "x", ipRanges: ["10.0.0.0/28"] }, "cannot set gateway or range without subnet");
  fails(
    { name: "x", subnets: ["10.120.0.0/24"], ipRanges: ["10.121.0.0/28"] },
    "lease range start ip 10.121.0.1 not in subnet 10.120.0.0/24",
  );
  fails(
    { name: "x", subnets: ["10.120.0.0/24"], gateways: ["10.120.0.1", "10.120.0.2"] },
    "cannot set more gateways than subnets",
  );
  fails({ name: "x", driver: "foo" }, "unsupported driver foo: invalid argument");
  fails({ name: "x", driver: "macvlan" }, /macvlan driver needs at least one subnet/);
  fails(
    { name: "x", driver: "macvlan", subnets: ["192.168.1.0/24"], options: { parent: "nope" } },
    "parent interface nope does not exist",
  );
  fails(
    { name: "x", driver: "macvlan", subnets: ["192.168.1.0/24"], options: { mode: "foo" } },
    'unknown macvlan mode "foo"',
  );
  fails({ name: "x", options: { foo: "bar" } }, "unsupported bridge network option foo");
  fails({ name: "x", options: { mtu: "abc" } }, 'strconv.Atoi: parsing "abc": invalid syntax');
  fails({ name: "x", options: { vlan: "5000" } }, "vlan ID 5000 must be between 0 and 4094");
  fails({ name: "x", interfaceName: "podman0" }, "bridge name podman0 already in use");
  fails({ name: "x", interfaceName: "averyveryverylongname" }, /bridge name averyveryverylongname invalid/);
  fails({ name: "x", ipamDriver: "dhcp" }, 'unsupported ipam driver "dhcp"');
  fails(
    { name: "x", ipamDriver: "none", subnets: ["10.1.0.0/24"] },
    "none ipam driver is set but subnets are given",
  );
});

Deno.test("lookup: name first, then a unique id prefix", () => {
  const a = { ...defaultNetwork(), name: "x", id: "ab".repeat(32) };
  const b = { ...defaultNetwork(), name: "y", id: "ac".repeat(32) };
  const named = { ...defaultNetwork(), name: "a", id: "bb".repeat(32) };
  assert.equal(findNetworkIn([a, b], "y"), b);
  assert.equal(findNetworkIn([a, b, named], "a"), named, "a name before an id prefix");
  assert.equal(findNetworkIn([a, b], "abab"), a);
  assert.equal(findNetworkIn([a, b], "zz"), undefined);
  assert.throws(() => findNetworkIn([a, b], "a"), /more than one result for network ID a/);
});

Deno.test("host routes: /proc/net/route (little endian) and ipv6_route, default routes left out", () => {
  const v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
    "br0\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
  assert.deepEqual(parseRouteTable(v4).map(formatCidr), ["192.0.2.0/24", "10.89.0.0/16"]);
  const v6 = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 " +
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n" +
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 " +
    "fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n";
  assert.deepEqual(parseIpv6RouteTable(v6).map(formatCidr), ["fd00::/64"]);
});

Deno.test("ls/prune filters: name and id regexps, driver, labels (all must match), until, dangling", () => {
  const now = Date.parse("2026-01-10T00:00:00Z");
  const net = (o: Partial<NetworkConfig>, containers = 0) => ({
    config: { ...defaultNetwork(new Date(now - 3600_000)), name: "foo", id: "f00d".repeat(16), ...o },
    containers,
  });
  const f = (vals: string[], n: ReturnType<typeof net>, kind: "ls" | "prune" = "ls") =>
    parseNetworkFilters(vals, kind, now)(n);
  assert.equal(f([], net({})), true);
  assert.equal(f(["name=^fo"], net({})), true);
  assert.equal(f(["name=^ba", "name=oo$"], net({})), true, "one key: OR");
  assert.equal(f(["name=bar"], net({})), false);
  assert.equal(f(["id=^f00d"], net({})), true);
  assert.equal(f(["driver=macvlan"], net({})), false);
  assert.equal(f(["label=a", "label=b=2"], net({ labels: { a: "1", b: "2" } })), true);
  assert.equal(f(["label=a", "label=c"], net({ labels: { a: "1", b: "2" } })), false, "labels: AND");
  assert.equal(f(["label!=a"], net({ labels: { a: "1" } })), false);
  assert.equal(f(["until=30m"], net({})), true, "created an hour ago");
  assert.equal(f(["until=2h"], net({})), false);
  assert.equal(f(["dangling=true"], net({})), true);
  assert.equal(f(["dangling=true"], net({}, 1)), false);
  assert.equal(f(["dangling=true"], net({ name: "podman" })), false, "the default network is never dangling");
  assert.equal(f(["dangling=false"], net({ name: "podman" })), true);
  assert.throws(() => f(["dangling=maybe"], net({})), /invalid dangling filter value "maybe"/);
  assert.throws(
    () => f(["bogus=1"], net({})),
    (e) => e instanceof PodError && e.message === 'invalid filter "bogus"',
  );
  assert.throws(() => f(["name=x"], net({}), "prune"), /invalid filter "name"/);
});
