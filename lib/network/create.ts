/**
 * `network create`'s rules, as podman 4 applies them before it writes a network file: name, driver,
 * subnets (given ones validated, a free one allocated otherwise), gateways, lease ranges, bridge name, driver
 * options.
 * Pure: what the host and the other networks use comes in {@link CreateContext}.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { goTimeJson, NETWORK_NAME_RE, type NetworkConfig, type NetworkSubnet } from "./config.ts";
import {
  type Cidr,
  cidrContains,
  cidrsIntersect,
  firstIp,
  formatCidr,
  formatIp,
  freeIPv4Subnet,
  freeIPv6Subnet,
  lastIp,
  parseCidr,
  parseIp,
  tryParseCidr,
} from "./subnets.ts";

/** What `network create` takes (its flags, as data). */
export interface NetworkCreateOptions {
  /** Name; without one the bridge's free `podmanN` name is used, as podman does. */
  name?: string;
  /** `-d`: `bridge` (default) or `macvlan`. */
  driver?: string;
  /** `--subnet`, repeatable (an IPv4 and an IPv6 one for dual stack). */
  subnets?: string[];
  /** `--gateway`, the n-th for the n-th subnet. */
  gateways?: string[];
  /** `--ip-range` (`CIDR` or `START-END`), the n-th for the n-th subnet. */
  ipRanges?: string[];
  /** `--internal`: no route out. */
  internal?: boolean;
  /** `--disable-dns`. */
  disableDns?: boolean;
  /** `--ipv6`: dual stack (an IPv6 subnet is allocated when none is given). */
  ipv6?: boolean;
  /** `--label`. */
  labels?: Record<string, string>;
  /** `-o`: driver options. */
  options?: Record<string, string>;
  /** `--interface-name`: the bridge's name, or a macvlan's parent interface. */
  interfaceName?: string;
  /** `--ipam-driver`: `host-local` (default) or `none`. */
  ipamDriver?: string;
  /** `--ignore`: an existing network of that name is returned instead of an error. */
  ignore?: boolean;
}

/** What a new network must not collide with. */
export interface CreateContext {
  /** The networks that exist (the default one included). */
  existing: NetworkConfig[];
  /** Subnets the host routes. */
  hostSubnets: Cidr[];
  /** The host's interface names. */
  hostInterfaces: string[];
  /** The new network's id (64 hex). */
  id: string;
  /** Now. */
  now: Date;
  /** Random bytes for IPv6 subnets (tests pass their own). */
  random?: (b: Uint8Array) => Uint8Array;
}

/** podman's error for a name that exists (`EXISTS`, exit 125). */
export function networkExists(name: string): PodError {
  return new PodError(`network name ${name} already used: network already exists`, { code: "EXISTS" });
}

const MACVLAN_MODES = ["bridge", "private", "vepa", "passthru"];

function goBool(key: string, v: string): string {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return "true";
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return "false";
  throw new UsageError(
    `invalid value "${v}" for option ${key}: strconv.ParseBool: parsing "${v}": invalid syntax`,
  );
}

function goInt(v: string): number {
  if (!/^[+-]?[0-9]+$/.test(v)) throw new UsageError(`strconv.Atoi: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** Checks (and normalizes, as podman) a bridge's `-o` options. */
function bridgeOptions(o: Record<string, string>): Record<string, string> {
  const out = { ...o };
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case "mtu":
        if (v !== "" && goInt(v) < 0) throw new UsageError(`mtu ${v} is less than zero`);
        break;
      case "vlan":
        if (v !== "") {
          const n = goInt(v);
          if (n < 0 || n > 4094) throw new UsageError(`vlan ID ${n} must be between 0 and 4094`);
        }
        break;
      case "isolate":
        out[k] = goBool(k, v);
        break;
      default:
        throw new UsageError(`unsupported bridge network option ${k}`);
    }
  }
  return out;
}

/** Checks a macvlan's `-o` options (`parent` was moved to the interface). */
function macvlanOptions(o: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(o)) {
    if (k === "mode") {
      if (!MACVLAN_MODES.includes(v)) throw new UsageError(`unknown macvlan mode "${v}"`);
    } else if (k === "mtu") {
      if (v !== "" && goInt(v) < 0) throw new UsageError(`mtu ${v} is less than zero`);
    } else throw new UsageError(`unsupported macvlan network option ${k}`);
  }
  return o;
}

/** `--ip-range`: a CIDR (its first to its last address, as podman) or `START-END`. */
function leaseRange(text: string): { start: string; end: string } {
  const dash = text.indexOf("-");
  if (dash > 0 && !text.includes("/")) {
    const s = parseIp(text.slice(0, dash));
    const e = parseIp(text.slice(dash + 1));
    if (!s || !e || s.family !== e.family || s.value > e.value) {
      throw new UsageError(`invalid IP range: ${text}`);
    }
    return { start: formatIp(s), end: formatIp(e) };
  }
  const c = parseCidr(text);
  return { start: formatIp(firstIp(c)), end: formatIp(lastIp(c)) };
}

/** The free `podmanN` (N ≥ 1): not a bridge or name of another network, not a host interface. */
function freeBridgeName(ctx: CreateContext): string {
  const taken = new Set([
    ...ctx.existing.filter((n) => n.driver === "bridge").map((n) => n.network_interface ?? ""),
    ...ctx.existing.map((n) => n.name),
    ...ctx.hostInterfaces,
  ]);
  for (let i = 1;; i++) if (!taken.has(`podman${i}`)) return `podman${i}`;
}

/** The subnets of every other bridge network and of the host: what a new bridge subnet must avoid. */
export function usedSubnets(ctx: Pick<CreateContext, "existing" | "hostSubnets">): Cidr[] {
  const out = [...ctx.hostSubnets];
  for (const n of ctx.existing) {
    for (const s of n.subnets ?? []) {
      const c = tryParseCidr(s.subnet);
      if (c) out.push(c);
    }
  }
  return out;
}

/**
 * The network `network create` writes, or the existing one with `ignore`. Throws podman's one-line errors
 * (exit 125): invalid name, existing name, unsupported driver or option, bad CIDR, gateway or range outside
 * its subnet, a subnet already used by another network or the host.
 */
export function buildNetwork(o: NetworkCreateOptions, ctx: CreateContext): NetworkConfig {
  const driver = o.driver || "bridge";
  const subnets = o.subnets ?? [];
  const gateways = o.gateways ?? [];
  const ranges = o.ipRanges ?? [];
  if (o.name !== undefined && (!NETWORK_NAME_RE.test(o.name) || o.name.length > 253)) {
    throw new UsageError(
      `network name ${o.name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`,
    );
  }
  for (const g of gateways) {
    if (!parseIp(g)) {
      throw new UsageError(
        `invalid argument "${g}" for "--gateway" flag: invalid string being converted to IP address: ${g}`,
      );
    }
  }
  if (subnets.length === 0 && (gateways.length || ranges.length)) {
    throw new UsageError("cannot set gateway or range without subnet");
  }
  if (gateways.length > subnets.length) throw new UsageError("cannot set more gateways than subnets");
  if (ranges.length > subnets.length) throw new UsageError("cannot set more ranges than subnets");
  const given: { cidr: Cidr; text: string; gateway?: string; range?: { start: string; end: string } }[] =
    subnets
      .map((s, i) => ({
        cidr: parseCidr(s),
        text: s,
        gateway: gateways[i],
        range: ranges[i] !== undefined ? leaseRange(ranges[i]) : undefined,
      }));

  if (o.name !== undefined) {
    const old = ctx.existing.find((n) => n.name === o.name);
    if (old) {
      if (o.ignore) return old;
      throw networkExists(o.name);
    }
  }
  const ipam = o.ipamDriver || "host-local";
  if (ipam !== "host-local" && ipam !== "none") throw new UsageError(`unsupported ipam driver "${ipam}"`);
  if (ipam === "none" && given.length) throw new UsageError("none ipam driver is set but subnets are given");

  const options = { ...(o.options ?? {}) };
  let iface = o.interfaceName;
  let dns = !o.disableDns;
  if (driver === "bridge") {
    // docker's spellings, as podman maps them
    if (options["com.docker.network.bridge.name"] !== undefined) {
      iface ??= options["com.docker.network.bridge.name"];
      delete options["com.docker.network.bridge.name"];
    }
    if (options["com.docker.network.driver.mtu"] !== undefined) {
      options.mtu ??= options["com.docker.network.driver.mtu"];
      delete options["com.docker.network.driver.mtu"];
    }
    if (iface !== undefined) {
      if (ctx.existing.some((n) => n.driver === "bridge" && n.network_interface === iface)) {
        throw new UsageError(`bridge name ${iface} already in use`);
      }
      if (!NETWORK_NAME_RE.test(iface) || iface.length > 15) {
        throw new UsageError(
          `bridge name ${iface} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 15 characters`,
        );
      }
    } else iface = freeBridgeName(ctx);
    Object.assign(options, bridgeOptions(options));
  } else if (driver === "macvlan") {
    if (options.parent !== undefined) {
      iface ??= options.parent;
      delete options.parent;
    }
    if (iface !== undefined && !ctx.hostInterfaces.includes(iface)) {
      throw new UsageError(`parent interface ${iface} does not exist`);
    }
    if (ipam === "host-local" && given.length === 0) {
      throw new UsageError(
        "macvlan driver needs at least one subnet specified, DHCP is not yet supported with netavark",
      );
    }
    macvlanOptions(options);
    dns = false; // netavark has no DNS on macvlan (podman turns it off)
  } else {
    throw new UsageError(`unsupported driver ${driver}: invalid argument`);
  }

  const name = o.name ?? freeBridgeName(ctx);

  // the subnets: given, else allocated (bridge, host-local IPAM); dual stack with --ipv6
  const used = driver === "bridge" ? usedSubnets(ctx) : [];
  const out: NetworkSubnet[] = [];
  const internal = !!o.internal;
  const addGateway = !internal || dns;
  for (const s of given) {
    if (used.some((u) => cidrsIntersect(u, s.cidr))) {
      throw new UsageError(`subnet ${formatCidr(s.cidr)} is already used on the host or by another config`);
    }
    const sub: NetworkSubnet = { subnet: formatCidr(s.cidr) };
    if (s.gateway !== undefined) {
      const g = parseIp(s.gateway)!;
      if (!cidrContains(s.cidr, g)) {
        throw new UsageError(`gateway ${s.gateway} not in subnet ${formatCidr(s.cidr)}`);
      }
      sub.gateway = formatIp(g);
    } else if (addGateway) sub.gateway = formatIp(firstIp(s.cidr));
    if (s.range) {
      for (const [what, ip] of [["start", s.range.start], ["end", s.range.end]]) {
        if (!cidrContains(s.cidr, parseIp(ip)!)) {
          throw new UsageError(`lease range ${what} ip ${ip} not in subnet ${formatCidr(s.cidr)}`);
        }
      }
      sub.lease_range = { start_ip: s.range.start, end_ip: s.range.end };
    }
    used.push(s.cidr); // two subnets of one network must not overlap either
    out.push(sub);
  }
  if (driver === "bridge" && ipam === "host-local") {
    const has = (f: 4 | 6) => given.some((s) => s.cidr.family === f);
    const add = (c: Cidr) => {
      used.push(c);
      out.push({ subnet: formatCidr(c), ...(addGateway ? { gateway: formatIp(firstIp(c)) } : {}) });
    };
    if (given.length === 0 || (o.ipv6 && !has(4))) add(freeIPv4Subnet(used));
    if (o.ipv6 && !has(6)) add(freeIPv6Subnet(used, ctx.random));
  }
  if (ipam === "none") dns = false;

  const labels = o.labels ?? {};
  return {
    name,
    id: ctx.id,
    driver,
    ...(iface !== undefined ? { network_interface: iface } : {}),
    created: goTimeJson(ctx.now),
    ...(out.length ? { subnets: out } : {}),
    ipv6_enabled: out.some((s) => s.subnet.includes(":")),
    internal,
    dns_enabled: dns,
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(Object.keys(options).length ? { options } : {}),
    ipam_options: { driver: ipam },
  };
}
