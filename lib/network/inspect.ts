/**
 * The networking parts of `inspect` as podman shows them: `NetworkSettings` (address, gateway, MAC, `Ports`,
 * `Networks` per network) and `HostConfig.NetworkMode`/`PortBindings`.
 * @module
 */

import type { ContainerConfig } from "../store/containers.ts";
import { helperAlive, type NetState, readNetState } from "./setup.ts";
import { portBindings } from "./ports.ts";
import { slirpAddresses } from "./slirp.ts";

function network(c: ContainerConfig, st: NetState | undefined, name: string) {
  const status = st?.status?.[name];
  const iface = Object.values(status?.interfaces ?? {})[0];
  const sub = iface?.subnets?.find((s) => !s.ipnet.includes(":"));
  const attach = c.net?.network.networks?.[name] ?? {};
  return {
    EndpointID: "",
    Gateway: sub?.gateway ?? "",
    IPAddress: sub ? sub.ipnet.split("/")[0] : "",
    IPPrefixLen: sub ? Number(sub.ipnet.split("/")[1]) : 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    MacAddress: iface?.mac_address ?? "",
    NetworkID: name,
    DriverOpts: null,
    IPAMConfig: null,
    Links: null,
    Aliases: [c.id.slice(0, 12), ...(attach.aliases ?? [])],
  };
}

/** `HostConfig.NetworkMode`: podman's names. */
export function networkMode(c: ContainerConfig): string {
  if (c.namespaces.net === "host") return "host";
  const n = c.net?.network;
  if (!n) return "none";
  if (n.mode === "other") return n.args[0];
  return n.mode;
}

/** `NetworkSettings` of a container (`running`: its network is up, so the live addresses are shown). */
export async function networkSettings(
  root: string,
  c: ContainerConfig,
  running: boolean,
  sandboxKey: string,
): Promise<Record<string, unknown>> {
  const st = running ? await readNetState(root, c.id) : undefined;
  const mode = c.net?.network.mode;
  const names = Object.keys(c.net?.network.networks ?? {});
  const nets = Object.fromEntries(names.map((n) => [n, network(c, st, n)]));
  const first = names.length ? nets[names[0]] : undefined;
  const slirp = mode === "slirp4netns" && running ? slirpAddresses(c.net?.network.slirp?.cidr) : undefined;
  return {
    EndpointID: "",
    Gateway: first?.Gateway ?? slirp?.gateway ?? "",
    IPAddress: first?.IPAddress ?? slirp?.ip ?? "",
    IPPrefixLen: first?.IPPrefixLen ?? (slirp ? 24 : 0),
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    MacAddress: first?.MacAddress ?? "",
    Bridge: "",
    SandboxID: "",
    HairpinMode: false,
    LinkLocalIPv6Address: "",
    LinkLocalIPv6PrefixLen: 0,
    Ports: portBindings(c.net?.ports ?? []),
    SandboxKey: sandboxKey,
    ...(names.length ? { Networks: nets } : {}),
  };
}

/**
 * A running container whose network helper (slirp4netns, pasta) has died: inspect's `State.Error` says so (the
 * container keeps running, without a network).
 */
export async function networkProblem(
  root: string,
  c: ContainerConfig,
  running: boolean,
): Promise<string | undefined> {
  if (!running || !c.net) return undefined;
  const st = await readNetState(root, c.id);
  if (!st?.helperPid || helperAlive(st)) return undefined;
  if (st.rootless) {
    return `the rootless network namespace's slirp4netns (pid ${st.helperPid}) ended: no way out`;
  }
  return `${st.mode} (pid ${st.helperPid}) ended: the container has no network`;
}
