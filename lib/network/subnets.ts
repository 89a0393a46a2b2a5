/**
 * IP addresses and CIDR subnets as netavark's network files hold them, and podman's subnet allocation: the
 * first free `/24` from `10.89.0.0` upwards (the default network is `10.88.0.0/16`), and for IPv6 a random
 * RFC 4193 `fdXX:…::/64`, never one that intersects a subnet in use. Pure: no I/O.
 * @module
 */

import { UsageError } from "../errors.ts";

/** An address: its family and its value as one big integer. */
export interface IpAddr {
  /** 4 or 6. */
  family: 4 | 6;
  /** The address as a number (32 or 128 bits). */
  value: bigint;
}

/** A subnet, normalized to its network address. */
export interface Cidr extends IpAddr {
  /** Prefix length. */
  prefix: number;
}

const bits = (f: 4 | 6): number => (f === 4 ? 32 : 128);

function parseV4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    // Go's net.ParseIP: decimal, no leading zeros, 0..255
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split("::").length > 2) return undefined;
  let tail4: bigint | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail4 = parseV4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const group = (g: string) => (g === "" ? [] : g.split(":"));
  const a = group(head);
  const b = rest === undefined ? [] : group(rest);
  const n = a.length + b.length;
  if (rest === undefined ? n !== 8 : n > 7) return undefined;
  const all = [...a, ...Array(8 - n).fill("0"), ...b];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

/** Parses an IPv4 or IPv6 address (Go's `net.ParseIP` rules); undefined when it is not one. */
export function parseIp(s: string): IpAddr | undefined {
  if (s.includes(":")) {
    const v = parseV6(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** An address as text: dotted quad, or RFC 5952 IPv6 (lower case, the longest zero run as `::`). */
export function formatIp(a: IpAddr): string {
  if (a.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join(".");
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

function mask(c: { family: 4 | 6; prefix: number }): bigint {
  const n = BigInt(bits(c.family));
  return ((1n << BigInt(c.prefix)) - 1n) << (n - BigInt(c.prefix));
}

/** Parses `ADDR/PREFIX`, normalized to the network address; undefined when it is not a CIDR. */
export function tryParseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > bits(ip.family)) return undefined;
  const c = { family: ip.family, prefix: Number(p), value: 0n };
  c.value = ip.value & mask(c);
  return c;
}

/** Parses a CIDR or throws podman's `invalid CIDR address: X` (a usage error, exit 125). */
export function parseCidr(s: string): Cidr {
  const c = tryParseCidr(s);
  if (!c) throw new UsageError(`invalid CIDR address: ${s}`);
  return c;
}

/** `10.89.0.0/24`. */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c)}/${c.prefix}`;
}

/** Whether `ip` is inside `c`. */
export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  return ip.family === c.family && (ip.value & mask(c)) === c.value;
}

/** Whether two subnets share an address (one contains the other's network address). */
export function cidrsIntersect(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && (cidrContains(a, b) || cidrContains(b, a));
}

/** The first usable address (network + 1; the address itself for a /32 or /128): podman's default gateway. */
export function firstIp(c: Cidr): IpAddr {
  return { family: c.family, value: c.prefix === bits(c.family) ? c.value : c.value + 1n };
}

/** The last address of the subnet (its broadcast address for IPv4), as podman's `LastIPInSubnet`. */
export function lastIp(c: Cidr): IpAddr {
  const all = (1n << BigInt(bits(c.family))) - 1n;
  return { family: c.family, value: c.value | (all & ~mask(c)) };
}

/** The next subnet of the same size; undefined past the end of the address space. */
export function nextSubnet(c: Cidr): Cidr | undefined {
  const step = 1n << BigInt(bits(c.family) - c.prefix);
  const value = c.value + step;
  if (value >= 1n << BigInt(bits(c.family))) return undefined;
  return { ...c, value };
}

/** The first subnet podman hands out after the default network's `10.88.0.0/16`. */
export const FIRST_FREE_IPV4: Cidr = { family: 4, value: (10n << 24n) | (89n << 16n), prefix: 24 };

/**
 * The first `/24` from 10.89.0.0 that intersects none of `used` (podman's `GetFreeIPv4NetworkSubnet`), staying
 * inside 10.0.0.0/8; throws when every one is taken.
 */
export function freeIPv4Subnet(used: Cidr[]): Cidr {
  const ten: Cidr = { family: 4, value: 10n << 24n, prefix: 8 };
  for (let c: Cidr | undefined = FIRST_FREE_IPV4; c && cidrContains(ten, c); c = nextSubnet(c)) {
    const candidate = c;
    if (!used.some((u) => cidrsIntersect(u, candidate))) return c;
  }
  throw new UsageError("could not find free subnet from subnet pools");
}

/**
 * A random unique-local `/64` (`fd` + 56 random bits, RFC 4193, as podman) that intersects none of `used`.
 * `random` fills a byte array (crypto.getRandomValues by default; tests pass their own).
 */
export function freeIPv6Subnet(
  used: Cidr[],
  random: (b: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
): Cidr {
  for (let i = 0; i < 10000; i++) {
    const b = random(new Uint8Array(8));
    b[0] = 0xfd;
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    const c: Cidr = { family: 6, value: v << 64n, prefix: 64 };
    if (!used.some((u) => cidrsIntersect(u, c))) return c;
  }
  throw new UsageError("failed to get random ipv6 subnet");
}
