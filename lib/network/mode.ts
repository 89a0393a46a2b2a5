/**
 * `--network` as podman reads it: `none`, `host`, `private` (the default), `bridge`, `slirp4netns[:opts]`,
 * `pasta[:args]`, and networks by name (`--network a --network b`, `name:ip=…,alias=…,mac=…`). The default is
 * podman 4's: slirp4netns rootless, the `podman` bridge network as root. `container:…` and `ns:…` are
 * recorded for the namespace code and get nothing from here.
 * @module
 */

import { UsageError } from "../errors.ts";
import { DEFAULT_NETWORK_NAME as DEFAULT_NETWORK } from "./config.ts";
import { isIP } from "./ports.ts";
import type { NetworkAttachment, NetworkSpec } from "../store/container_net.ts";

export type { NetworkAttachment, NetworkSpec };

const SLIRP_OPTS = [
  "allow_host_loopback",
  "mtu",
  "cidr",
  "port_handler",
  "enable_ipv6",
  "outbound_addr",
  "outbound_addr6",
];

function boolOpt(v: string, what: string): string {
  if (v !== "true" && v !== "false") {
    throw new UsageError(`invalid value "${v}" for ${what}: use true or false`);
  }
  return v;
}

function slirpOptions(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list.split(",").filter(Boolean)) {
    const eq = kv.indexOf("=");
    const k = eq < 0 ? kv : kv.slice(0, eq);
    const v = eq < 0 ? "" : kv.slice(eq + 1);
    if (!SLIRP_OPTS.includes(k)) throw new UsageError(`unknown option for slirp4netns: "${k}"`);
    if (k === "allow_host_loopback" || k === "enable_ipv6") out[k] = boolOpt(v, `slirp4netns ${k}`);
    else if (k === "mtu") {
      if (!/^\d+$/.test(v) || Number(v) < 68 || Number(v) > 65521) {
        throw new UsageError(`invalid value "${v}" for slirp4netns mtu: 68-65521`);
      }
      out[k] = v;
    } else if (k === "cidr") {
      const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(v);
      if (!m || !isIP(m[1]) || Number(m[2]) > 25) {
        throw new UsageError(`invalid value "${v}" for slirp4netns cidr`);
      }
      out[k] = v;
    } else if (k === "port_handler") {
      if (v !== "slirp4netns" && v !== "rootlesskit") {
        throw new UsageError(`unknown port_handler for slirp4netns: "${v}" (use slirp4netns or rootlesskit)`);
      }
      out[k] = v;
    } else out[k] = v;
  }
  return out;
}

function attachment(name: string, opts: string): NetworkAttachment {
  const a: NetworkAttachment = {};
  for (const kv of opts.split(",").filter(Boolean)) {
    const eq = kv.indexOf("=");
    const k = kv.slice(0, eq < 0 ? kv.length : eq);
    const v = eq < 0 ? "" : kv.slice(eq + 1);
    if (k === "ip" || k === "ip6") {
      if (!isIP(v)) throw new UsageError(`invalid IP address "${v}" for network ${name}`);
      (a.static_ips ??= []).push(v);
    } else if (k === "alias") (a.aliases ??= []).push(v);
    else if (k === "mac") a.static_mac = v;
    else if (k === "interface_name") a.interface_name = v;
    else throw new UsageError(`unknown option for network ${name}: "${k}"`);
  }
  return a;
}

/**
 * Reads the `--network` values (none: the default for `rootless`), with `--ip`, `--mac-address` and
 * `--network-alias` applied to the (first) network.
 */
export function parseNetwork(
  values: string[],
  rootless: boolean,
  extra: { ip?: string[]; mac?: string; aliases?: string[] } = {},
): NetworkSpec {
  const vals = values.filter((v) => v !== "");
  const args = [...vals];
  const first = vals[0] ?? "private";
  const kind = first.split(":")[0];
  let spec: NetworkSpec;
  const single = (what: string) => {
    if (vals.length > 1) throw new UsageError(`--network ${what} cannot be combined with other networks`);
  };
  if (kind === "container" || kind === "ns") {
    single(kind);
    return { mode: "other", args };
  }
  if (first === "none" || first === "host") {
    single(first);
    spec = { mode: first, args };
  } else if (first === "private" || first === "default" || first === "bridge") {
    single(first);
    // rootless `bridge`: the default network in the store's rootless netns (net2, as podman 4)
    spec = rootless && first !== "bridge"
      ? { mode: "slirp4netns", slirp: {}, args }
      : { mode: "bridge", networks: { [DEFAULT_NETWORK]: {} }, args };
  } else if (kind === "slirp4netns") {
    single(kind);
    spec = { mode: "slirp4netns", slirp: slirpOptions(first.slice(kind.length + 1)), args };
  } else if (kind === "pasta") {
    single(kind);
    const rest = first.slice(kind.length + 1);
    spec = { mode: "pasta", pastaArgs: rest ? rest.split(",") : [], args };
  } else {
    const networks: Record<string, NetworkAttachment> = {};
    for (const v of vals) {
      const colon = v.indexOf(":");
      const name = colon < 0 ? v : v.slice(0, colon);
      if (["none", "host", "private", "bridge", "slirp4netns", "pasta", "container", "ns"].includes(name)) {
        throw new UsageError(`--network ${name} cannot be combined with other networks`);
      }
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new UsageError(`invalid network name "${name}"`);
      networks[name] = attachment(name, colon < 0 ? "" : v.slice(colon + 1));
    }
    spec = { mode: "bridge", networks, args };
  }
  const firstNet = spec.networks ? Object.values(spec.networks)[0] : undefined;
  if (extra.ip?.length || extra.mac || extra.aliases?.length) {
    if (!firstNet) {
      throw new UsageError(
        `--ip, --mac-address and --network-alias need a bridge network (not ${spec.mode})`,
      );
    }
    for (const ip of extra.ip ?? []) {
      if (!isIP(ip)) throw new UsageError(`invalid IP address "${ip}" for --ip`);
      (firstNet.static_ips ??= []).push(ip);
    }
    if (extra.mac) firstNet.static_mac = extra.mac;
    if (extra.aliases?.length) (firstNet.aliases ??= []).push(...extra.aliases);
  }
  return spec;
}
