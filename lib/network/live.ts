/**
 * `network connect` / `disconnect` on a running container (bridge networks; rootless in the rootless netns): one more netavark
 * `setup` (or `teardown`) for just that network in the container's pinned network namespace. The container's
 * `network-opts.json` (what its teardown script hands netavark) is kept equal to every network it is on, so
 * its end removes the new interface and rules too; `network.json` gets the address.
 * @module
 */

import { PodError } from "../errors.ts";
import type { NetworkAttachment } from "../store/container_net.ts";
import { withLock } from "../store/lock.ts";
import { storePaths } from "../store/paths.ts";
import type { NetworkConfig } from "./config.ts";
import { allocateIp, netavarkArgv, netavarkFailure, netavarkSetup, type NetavarkStatus } from "./netavark.ts";
import { netFiles, type NetState, readNetState, usedIps } from "./setup.ts";

/** netavark's options document (the parts read here). */
interface OptsDoc {
  container_id: string;
  container_name: string;
  port_mappings: unknown;
  networks: Record<string, unknown>;
  network_info: Record<string, NetworkConfig>;
}

async function bridgeState(
  root: string,
  id: string,
  name: string,
): Promise<{ state: NetState; opts: OptsDoc }> {
  const state = await readNetState(root, id);
  const f = netFiles(root, id);
  let opts: OptsDoc | undefined;
  try {
    opts = JSON.parse(await Deno.readTextFile(f.opts));
  } catch {
    opts = undefined;
  }
  if (state?.mode !== "bridge" || !state.nsPath || !opts) {
    throw new PodError(
      `container ${name} has no bridge network set up: stop it first (the change applies at its next start)`,
      {
        code: "STATE",
      },
    );
  }
  return { state, opts };
}

/**
 * The netavark argv for `verb` on a container's network state: the host's (root), or inside the store's
 * rootless netns (net2, rootless bridge).
 */
async function argvFor(root: string, state: NetState, verb: "setup" | "teardown"): Promise<string[]> {
  if (!state.rootless) return netavarkArgv(root, verb, state.nsPath!);
  const rl = await import("./rootless_netns.ts");
  const st = rl.readRootlessNetns(root);
  if (!st) throw new PodError("the rootless network namespace is not running", { code: "STATE" });
  return rl.rootlessNetavarkArgv(root, st, verb, state.nsPath!);
}

/** Runs netavark's `setup` for the networks of `doc` in the container's pinned netns; its status. */
export async function netavarkSetupFor(
  root: string,
  state: NetState,
  doc: unknown,
): Promise<Record<string, NetavarkStatus>> {
  if (!state.rootless) return await netavarkSetup(root, state.nsPath!, doc);
  const rl = await import("./rootless_netns.ts");
  const st = rl.readRootlessNetns(root);
  if (!st) throw new PodError("the rootless network namespace is not running", { code: "STATE" });
  return await rl.rootlessNetavarkSetup(root, st, state.nsPath!, doc) as Record<string, NetavarkStatus>;
}

/** Runs netavark's `teardown` for the networks of `doc` in the container's pinned netns. */
export async function netavarkTeardownFor(root: string, state: NetState, doc: unknown): Promise<void> {
  const argv = await argvFor(root, state, "teardown");
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(doc)));
  await w.close();
  const out = await child.output();
  if (!out.success) {
    const dec = new TextDecoder();
    const text = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    throw new PodError(`netavark: ${netavarkFailure(text, /syslog/)}`);
  }
}

/**
 * Attaches running container `id` (named `name`) to `net` with `attach` (its interface name set); resolves
 * to its address there and the network's name servers (aardvark-dns).
 */
export async function liveConnect(
  root: string,
  id: string,
  name: string,
  net: NetworkConfig,
  attach: NetworkAttachment & { interface_name: string },
): Promise<{ ip: string; dns: string[] }> {
  const { state, opts } = await bridgeState(root, id, name);
  const f = netFiles(root, id);
  let ip = "";
  await withLock(storePaths(root).lock, async () => {
    const used = await usedIps(root, id);
    for (const mine of Object.values(state.ips ?? {})) used.get(net.name)?.add(mine);
    ip = allocateIp(net, used.get(net.name) ?? new Set(), attach.static_ips);
    state.ips = { ...(state.ips ?? {}), [net.name]: ip };
    await Deno.writeTextFile(f.state, JSON.stringify(state));
  });
  const entry = {
    static_ips: [ip],
    aliases: net.dns_enabled ? [...(attach.aliases ?? []), id.slice(0, 12)] : attach.aliases ?? [],
    interface_name: attach.interface_name,
    ...(attach.static_mac ? { static_mac: attach.static_mac } : {}),
  };
  // the published ports are forwarded on every network (as netavark does for several at once), so the
  // teardown of the whole options document finds what it removes
  const one = { ...opts, networks: { [net.name]: entry }, network_info: { [net.name]: net } };
  const all: OptsDoc = {
    ...opts,
    networks: { ...opts.networks, [net.name]: entry },
    network_info: { ...opts.network_info, [net.name]: net },
  };
  await Deno.writeTextFile(f.opts, JSON.stringify(all), { mode: 0o600 });
  try {
    const status = await netavarkSetupFor(root, state, one);
    state.status = { ...(state.status ?? {}), ...status };
    await Deno.writeTextFile(f.state, JSON.stringify(state));
  } catch (e) {
    await Deno.writeTextFile(f.opts, JSON.stringify(opts), { mode: 0o600 });
    await netavarkTeardownFor(root, state, one).catch(() => {});
    const back = { ...(state.ips ?? {}) };
    delete back[net.name];
    await Deno.writeTextFile(f.state, JSON.stringify({ ...state, ips: back }));
    throw e;
  }
  return { ip, dns: state.status?.[net.name]?.dns_server_ips ?? [] };
}

/** Detaches running container `id` (named `name`) from `net`; resolves to what it had there. */
export async function liveDisconnect(
  root: string,
  id: string,
  name: string,
  net: NetworkConfig,
): Promise<{ ip?: string; dns: string[] }> {
  const { state, opts } = await bridgeState(root, id, name);
  const f = netFiles(root, id);
  const entry = opts.networks[net.name];
  if (entry) {
    const one = { ...opts, networks: { [net.name]: entry }, network_info: { [net.name]: net } };
    await netavarkTeardownFor(root, state, one);
    const networks = { ...opts.networks };
    const info = { ...opts.network_info };
    delete networks[net.name];
    delete info[net.name];
    await Deno.writeTextFile(f.opts, JSON.stringify({ ...opts, networks, network_info: info }), {
      mode: 0o600,
    });
  }
  const ips = { ...(state.ips ?? {}) };
  const status = { ...(state.status ?? {}) };
  delete ips[net.name];
  delete status[net.name];
  await Deno.writeTextFile(f.state, JSON.stringify({ ...state, ips, status }));
  return { ip: state.ips?.[net.name], dns: state.status?.[net.name]?.dns_server_ips ?? [] };
}

/**
 * `network reload` of running container `id`: its bridge networks torn down and set up again from its
 * options document (same addresses; the firewall rules and port forwarding made anew, as podman's reload).
 * A container without bridge networks (slirp4netns, pasta, none) has nothing to reload.
 */
export async function liveReload(root: string, id: string, name: string): Promise<void> {
  const state = await readNetState(root, id);
  if (state?.mode !== "bridge") return;
  const { opts } = await bridgeState(root, id, name);
  await netavarkTeardownFor(root, state, opts).catch(() => {}); // rules already flushed: nothing to remove
  state.status = await netavarkSetupFor(root, state, opts);
  await Deno.writeTextFile(netFiles(root, id).state, JSON.stringify(state));
}
