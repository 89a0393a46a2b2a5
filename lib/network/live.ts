/**
 * `network connect` / `disconnect` on a running container (root, bridge networks): one more netavark
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
import { allocateIp, netavarkArgv, netavarkSetup } from "./netavark.ts";
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

/** Runs `netavark teardown` for the networks of `doc` in `nsPath`. */
async function netavarkTeardown(root: string, nsPath: string, doc: unknown): Promise<void> {
  const argv = netavarkArgv(root, "teardown", nsPath);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(doc)));
  await w.close();
  const out = await child.output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").filter(Boolean).slice(-1)[0];
    throw new PodError(`netavark: ${(err ?? `exit code ${out.code}`).replace(/^\[[^\]]*\]\s*/, "")}`);
  }
}

/** Attaches running container `id` (named `name`) to `net` with `attach` (its interface name set). */
export async function liveConnect(
  root: string,
  id: string,
  name: string,
  net: NetworkConfig,
  attach: NetworkAttachment & { interface_name: string },
): Promise<void> {
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
    const status = await netavarkSetup(root, state.nsPath!, one);
    state.status = { ...(state.status ?? {}), ...status };
    await Deno.writeTextFile(f.state, JSON.stringify(state));
  } catch (e) {
    await Deno.writeTextFile(f.opts, JSON.stringify(opts), { mode: 0o600 });
    await netavarkTeardown(root, state.nsPath!, one).catch(() => {});
    const back = { ...(state.ips ?? {}) };
    delete back[net.name];
    await Deno.writeTextFile(f.state, JSON.stringify({ ...state, ips: back }));
    throw e;
  }
}

/** Detaches running container `id` (named `name`) from `net`. */
export async function liveDisconnect(
  root: string,
  id: string,
  name: string,
  net: NetworkConfig,
): Promise<void> {
  const { state, opts } = await bridgeState(root, id, name);
  const f = netFiles(root, id);
  const entry = opts.networks[net.name];
  if (entry) {
    const one = { ...opts, networks: { [net.name]: entry }, network_info: { [net.name]: net } };
    await netavarkTeardown(root, state.nsPath!, one);
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
}
