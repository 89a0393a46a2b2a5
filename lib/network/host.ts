/**
 * What the host already uses, so a new network does not collide with it: the subnets of its routes
 * (`/proc/net/route`, `/proc/net/ipv6_route`: every interface's connected subnet and every routed one, the
 * default routes excepted) and its interface names (`/sys/class/net`). Read in the caller's network
 * namespace; a file that cannot be read counts as empty.
 * @module
 */

import { type Cidr, formatCidr } from "./subnets.ts";
import { debug } from "../log.ts";

async function readOr(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    debug(`reading ${path}: ${e instanceof Error ? e.message : e}`);
    return "";
  }
}

/** Host-byte-order (little endian) hex of /proc/net/route as a number. */
function le32(hex: string): bigint {
  const v = parseInt(hex, 16) >>> 0;
  return BigInt(((v & 0xff) << 24 >>> 0) + ((v >>> 8 & 0xff) << 16) + ((v >>> 16 & 0xff) << 8) + (v >>> 24));
}

/** The IPv4 subnets of `/proc/net/route`'s text, default routes left out. */
export function parseRouteTable(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^[0-9A-Fa-f]{8}$/.test(f[1]) || !/^[0-9A-Fa-f]{8}$/.test(f[7])) continue;
    const mask = le32(f[7]);
    let prefix = 0;
    for (let m = mask; m & 0x80000000n; m = (m << 1n) & 0xffffffffn) prefix++;
    if (prefix === 0) continue;
    out.push({ family: 4, value: le32(f[1]) & mask, prefix });
  }
  return out;
}

/** The IPv6 subnets of `/proc/net/ipv6_route`'s text, default routes left out. */
export function parseIpv6RouteTable(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || !/^[0-9a-fA-F]{32}$/.test(f[0]) || !/^[0-9a-fA-F]{2}$/.test(f[1])) continue;
    const prefix = parseInt(f[1], 16);
    if (prefix === 0 || prefix > 128) continue;
    out.push({ family: 6, value: BigInt(`0x${f[0]}`), prefix });
  }
  return out;
}

/** The subnets the host routes (its interfaces' and any routed ones), IPv4 and IPv6. */
export async function hostSubnets(): Promise<Cidr[]> {
  const [v4, v6] = await Promise.all([readOr("/proc/net/route"), readOr("/proc/net/ipv6_route")]);
  const out = [...parseRouteTable(v4), ...parseIpv6RouteTable(v6)];
  debug(`host subnets: ${out.map(formatCidr).join(" ")}`);
  return out;
}

/** The names of the host's network interfaces. */
export async function hostInterfaces(): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir("/sys/class/net"))).map((e) => e.name);
  } catch {
    return [];
  }
}
