/**
 * A container's network at start and its teardown. Before the launch, {@link prepareNetwork} allocates
 * addresses (bridge) and says what /etc/hosts and /etc/resolv.conf get; once stage 2 has made the namespaces
 * and waits for its process, {@link setupNetwork} starts slirp4netns/pasta or runs netavark for its pid and
 * writes `containers/<id>/network-cleanup.sh`, the teardown as a shell script: the supervisor of a detached
 * container runs it when the container ends (before its exit record), and {@link teardownNetwork} runs it
 * from `stop`, `rm`, a foreground run's end or the next start (idempotent; it removes itself).
 * `containers/<id>/network.json` holds the state (addresses, helper pid, netns path) while it is set up.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug, traceTime } from "../log.ts";
import type { ContainerConfig } from "../store/containers.ts";
import { containerPaths } from "../store/container_paths.ts";
import { interfaceNames } from "../store/container_networks.ts";
import { withLock } from "../store/lock.ts";
import { storePaths } from "../store/paths.ts";
import { loadNetwork, type NetworkConfig } from "./config.ts";
import { shQuote } from "../ns/sh_quote.ts";
import {
  allocateIp,
  gatewayOf,
  lockedScriptHead,
  netavarkOptions,
  netavarkSetup,
  type NetavarkStatus,
  netavarkTeardownScript,
  netRunDir,
  newNetns,
  pinNetnsLocked,
  subnetRange,
  withNetavarkLock,
} from "./netavark.ts";
import { checkHostPorts, expandPorts } from "./ports.ts";

/** What the container's /etc/hosts and /etc/resolv.conf get from its network. */
export interface NetFacts {
  /** The container's address (first network). */
  ip?: string;
  /** Its gateway. */
  gateway?: string;
  /** Name servers (empty: the host's). */
  nameservers: string[];
  /** Search domains to add. */
  search: string[];
  /** The address of `host.containers.internal`. */
  hostGateway?: string;
  /** net2: rootless bridge networks, the user namespace the container joins (the rootless netns's). */
  joinUser?: string;
  /** run6: root bridge, what {@link setupNetwork} would read again (the configs, the addresses). */
  bridge?: PreparedBridge;
}

/** run6: a root bridge network's configs and addresses as {@link prepareNetwork} allocated them. */
export interface PreparedBridge {
  /** The configs of the container's networks. */
  configs: NetworkConfig[];
  /** Its address on each (network.json's `ips`). */
  ips: Record<string, string>;
}

/** The state of a set-up network (`network.json`). */
export interface NetState {
  /** The mode. */
  mode: string;
  /** Addresses per network (bridge). */
  ips?: Record<string, string>;
  /** slirp4netns/pasta pid. */
  helperPid?: number;
  /** The pinned network namespace (bridge). */
  nsPath?: string;
  /** netavark's answer (bridge). */
  status?: Record<string, NetavarkStatus>;
  /** net2: rootless bridge, in the store's rootless network namespace. */
  rootless?: boolean;
  /** net3: the port holder's pid (root bridge with published ports), ended first by a handed-off teardown. */
  holderPid?: number;
}

/** The network files of a container: its dir, network.json, the teardown script, netavark's options. */
export function netFiles(root: string, id: string) {
  const dir = containerPaths(root, id).dir;
  return {
    dir,
    state: `${dir}/network.json`,
    cleanup: `${dir}/network-cleanup.sh`,
    opts: `${dir}/network-opts.json`,
  };
}

/** True when the container gets its network from a helper or netavark at start. */
export function needsNetworkSetup(c: ContainerConfig): boolean {
  const mode = c.net?.network.mode;
  if (c.namespaces.net !== "private") return false;
  // bridge with every network disconnected (`network disconnect`): a netns of its own with loopback only
  return mode === "slirp4netns" || mode === "pasta" ||
    mode === "bridge" && Object.keys(c.net?.network.networks ?? {}).length > 0;
}

/** The path of the teardown script the supervisor runs when the container ends. */
export function networkCleanupPath(root: string, id: string): string {
  return netFiles(root, id).cleanup;
}

/** Reads a container's network state (undefined when not set up). */
export function readNetState(root: string, id: string): Promise<NetState | undefined> {
  return Promise.resolve(readNetStateSync(root, id)); // one small file: sync (run10)
}

/** {@link readNetState}, sync. */
function readNetStateSync(root: string, id: string): NetState | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(netFiles(root, id).state));
  } catch {
    return undefined;
  }
}

/** A non-loopback IPv4 address of the host (for `host.containers.internal`), if any. */
function hostAddress(): string | undefined {
  try {
    return Deno.networkInterfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."))
      ?.address;
  } catch {
    return undefined;
  }
}

/** Addresses the other containers of the store hold, per network (from their network.json). */
export async function usedIps(root: string, except: string): Promise<Map<string, Set<string>>> {
  const used = new Map<string, Set<string>>();
  // run10: sync reads (small files, one each; the async ones were a thread-pool trip per container)
  for (const e of Deno.readDirSync(`${root}/containers`)) {
    if (!/^[0-9a-f]{64}$/.test(e.name) || e.name === except) continue;
    const st = readNetStateSync(root, e.name);
    for (const [net, ip] of Object.entries(st?.ips ?? {})) {
      if (!used.has(net)) used.set(net, new Set());
      used.get(net)!.add(ip);
    }
  }
  // net3: removed containers whose teardown still runs (teardown_async.ts) keep their addresses meanwhile
  // run6: the module is loaded only when there are some (a stat is cheaper than a module on start's path)
  if (Deno.uid() === 0 && existsSync(`${netRunDir(root)}/pending`)) {
    const { pendingIps } = await import("./teardown_async.ts");
    for (const [net, ips] of await pendingIps(root)) {
      if (!used.has(net)) used.set(net, new Set());
      for (const ip of ips) used.get(net)!.add(ip);
    }
  }
  return used;
}

/**
 * Before the launch: tears down what a previous run left, checks the host ports, allocates the bridge
 * addresses (recorded in network.json under the store lock) and returns what the /etc files get.
 * Undefined when the container gets no network set up.
 */
export async function prepareNetwork(root: string, c: ContainerConfig): Promise<NetFacts | undefined> {
  if (!needsNetworkSetup(c)) return undefined;
  const net = c.net!;
  await runTeardown(root, c.id, false);
  const rootless = Deno.uid() !== 0;
  checkHostPorts(net.ports, rootless);
  if (net.network.mode === "slirp4netns") {
    // run10: slirp.ts (and port_holder.ts below) only where they are used: two modules fewer on a root bridge
    const a = (await import("./slirp.ts")).slirpAddresses(net.network.slirp?.cidr);
    const hostGateway = net.network.slirp?.allow_host_loopback === "true"
      ? a.gateway
      : hostAddress() ?? a.gateway;
    return { ip: a.ip, gateway: a.gateway, nameservers: [a.dns], search: [], hostGateway };
  }
  if (net.network.mode === "pasta") {
    return { ip: hostAddress(), nameservers: [], search: [], hostGateway: hostAddress() };
  }
  const configs: NetworkConfig[] = [];
  for (const name of Object.keys(net.network.networks ?? {})) configs.push(await loadNetwork(root, name));
  const f = netFiles(root, c.id);
  const ips: Record<string, string> = {};
  await withLock(storePaths(root).lock, async () => {
    const used = await usedIps(root, c.id);
    for (const cfg of configs) {
      ips[cfg.name] = allocateIp(
        cfg,
        used.get(cfg.name) ?? new Set(),
        net.network.networks![cfg.name].static_ips,
      );
    }
    const state: NetState = { mode: "bridge", ips, ...(rootless ? { rootless } : {}) };
    // run7: sync: the async write loads Deno's streams code on its first use (~6-10 ms)
    Deno.writeTextFileSync(f.state, JSON.stringify(state), { mode: 0o600 });
  });
  let joinUser: string | undefined;
  if (rootless) {
    const rl = await import("./rootless_netns.ts");
    const st = await rl.acquireRootlessNetns(root, c.id, c.userns.uidMap);
    // released by the teardown from now on, whatever happens next
    await writeScript(f.cleanup, [
      ...scriptHead(),
      rl.rootlessReleaseScript(root, st, c.id, undefined, []),
      `rm -f ${shQuote(f.state)} ${shQuote(f.opts)} "$0"`,
    ]);
    joinUser = `/proc/${st.pid}/ns/user`;
  }
  const first = configs[0];
  const sub = (first.subnets ?? []).find((s) => !s.subnet.includes(":"))!;
  const gateway = gatewayOf(sub);
  const dnsNets = configs.filter((n) => n.dns_enabled);
  return {
    ip: ips[first.name],
    gateway,
    nameservers: dnsNets.map((n) => gatewayOf((n.subnets ?? []).find((s) => !s.subnet.includes(":"))!)),
    search: dnsNets.length ? ["dns.podman"] : [],
    hostGateway: rootless ? hostAddress() ?? gateway : gateway,
    joinUser,
    ...(rootless ? {} : { bridge: { configs, ips } }),
  };
}

/**
 * Once stage 2 (`pid`) has made the container's namespaces: starts its network. On failure whatever was
 * started is torn down and a one-line PodError thrown. `prepared`: a root bridge's configs and addresses
 * from {@link prepareNetwork} (else read again from the store).
 */
export async function setupNetwork(
  root: string,
  c: ContainerConfig,
  pid: number,
  prepared?: PreparedBridge,
): Promise<void> {
  if (!needsNetworkSetup(c)) return;
  const net = c.net!;
  const f = netFiles(root, c.id);
  const t0 = performance.now();
  const runDir = `${f.dir}/run`;
  Deno.mkdirSync(runDir, { recursive: true, mode: 0o700 }); // run6: sync, one syscall
  // run10: a root bridge's script runs whole under the netavark lock (one `flock` process, not three)
  const rootBridge = net.network.mode === "bridge" && Deno.uid() === 0;
  const script = rootBridge ? lockedScriptHead() : scriptHead();
  const finish = [`rm -f ${shQuote(f.state)} ${shQuote(f.opts)} "$0"`];
  try {
    if (net.network.mode === "slirp4netns" || net.network.mode === "pasta") {
      const slirp = net.network.mode === "slirp4netns";
      const { startPasta, startSlirp } = await import("./slirp.ts");
      const h = slirp
        ? await startSlirp(pid, net.network.slirp ?? {}, net.ports, runDir, root)
        : await startPasta(pid, net.network.pastaArgs ?? [], net.ports, runDir);
      const name = slirp ? "slirp4netns" : "pasta";
      script.push(`grep -q ${name} /proc/${h.pid}/cmdline 2>/dev/null && kill ${h.pid}`);
      if (h.apiSocket) finish.push(`rm -f ${shQuote(h.apiSocket)}`);
      await writeScript(f.cleanup, [...script, ...finish]);
      await Deno.writeTextFile(f.state, JSON.stringify({ mode: net.network.mode, helperPid: h.pid }));
    } else if (Deno.uid() !== 0) {
      await setupRootlessBridge(root, c, pid, script, finish);
    } else {
      traceTime("net: setup begun");
      // run6: what prepareNetwork just allocated and wrote is taken as it is, not read again
      const state: NetState = prepared
        ? { mode: "bridge", ips: { ...prepared.ips } }
        : JSON.parse(await Deno.readTextFile(f.state));
      const holder = net.ports.length ? await (await import("./port_holder.ts")).holdPorts(net.ports) : 0;
      if (holder) {
        script.push(`grep -q pod-port-holder /proc/${holder}/cmdline 2>/dev/null && kill ${holder}`);
        await writeScript(f.cleanup, [...script, ...finish]);
      }
      const nets = [];
      const ifaces = interfaceNames(net.network.networks ?? {});
      for (const [name, attach] of Object.entries(net.network.networks ?? {})) {
        const config = prepared?.configs.find((n) => n.name === name) ?? await loadNetwork(root, name);
        nets.push({ config, attach, ips: [state.ips![name]], iface: ifaces[name] });
      }
      const opts = netavarkOptions(c.id, c.name, nets, net.ports);
      // run7: written at once, sync (an async write loads Deno's streams code: ~6-10 ms on its first use)
      Deno.writeTextFileSync(f.opts, JSON.stringify(opts), { mode: 0o600 });
      // net3: `pid` may be the `unshare` that is making the netns right now (start.ts onUnshared)
      const ino = await newNetns(pid);
      traceTime("net: netns made");
      // run10: pinned and set up under one hold of the netavark lock, taken here (no `flock` process)
      state.status = await withNetavarkLock(async () => {
        const nsPath = pinNetnsLocked(root, c.id, pid, ino);
        traceTime("net: netns pinned");
        script.push(netavarkTeardownScript(root, nsPath, f.opts));
        state.nsPath = nsPath;
        if (holder) state.holderPid = holder;
        await writeScript(f.cleanup, [...script, ...finish]);
        Deno.writeTextFileSync(f.state, JSON.stringify(state));
        traceTime("net: netavark spawned");
        return await netavarkSetup(root, nsPath, opts, true);
      });
      traceTime("net: netavark done");
      Deno.writeTextFileSync(f.state, JSON.stringify(state));
    }
    debug(
      `network of ${c.id.slice(0, 12)} (${net.network.mode}) set up in ${
        Math.round(performance.now() - t0)
      } ms`,
    );
  } catch (e) {
    await teardownNetwork(root, c.id);
    throw e;
  }
}

/** True when `path` exists (a symlink counts as itself). */
function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The first lines of network-cleanup.sh. */
function scriptHead(): string[] {
  return [
    "#!/bin/sh",
    "# tears down the container's network (written by pod; removes itself). One run at a time (the supervisor's",
    "# hook and `rm` may both start it): a later run waits for the lock and finds the script gone.",
    'exec 9<"$0" || exit 0',
    "flock 9",
    '[ -f "$0" ] || exit 0',
  ];
}

/**
 * net2: a rootless container's bridge networks, in the store's rootless netns (rootless_netns.ts): its netns
 * pinned there, netavark's setup run there, its ports forwarded into it by that netns's slirp4netns.
 */
async function setupRootlessBridge(
  root: string,
  c: ContainerConfig,
  pid: number,
  script: string[],
  finish: string[],
): Promise<void> {
  const rl = await import("./rootless_netns.ts");
  const net = c.net!;
  const f = netFiles(root, c.id);
  const st = rl.readRootlessNetns(root);
  if (!st) throw new PodError("the rootless network namespace ended while the container started");
  const state: NetState = JSON.parse(await Deno.readTextFile(f.state));
  const nets = [];
  const ifaces = interfaceNames(net.network.networks ?? {});
  for (const [name, attach] of Object.entries(net.network.networks ?? {})) {
    const config = await loadNetwork(root, name);
    nets.push({ config, attach, ips: [state.ips![name]], iface: ifaces[name] });
  }
  // slirp4netns takes the host address; inside the namespace the DNAT matches any address
  const ports = net.ports.map((p) => ({ ...p, host_ip: "" }));
  const opts = netavarkOptions(c.id, c.name, nets, ports);
  await Deno.writeTextFile(f.opts, JSON.stringify(opts), { mode: 0o600 });
  const nsPath = await rl.pinInRootlessNetns(root, st, c.id, pid);
  const release = (ids: number[]) => rl.rootlessReleaseScript(root, st, c.id, f.opts, ids);
  await writeScript(f.cleanup, [...script, release([]), ...finish]);
  state.nsPath = nsPath;
  state.helperPid = st.slirpPid; // inspect says so when the rootless netns's way out has ended
  state.status = await rl.rootlessNetavarkSetup(root, st, nsPath, opts) as Record<string, NetavarkStatus>;
  await Deno.writeTextFile(f.state, JSON.stringify(state));
  const ids = await (await import("./rootless_ports.ts")).addRootlessForwards(st, expandPorts(net.ports));
  if (ids.length) await writeScript(f.cleanup, [...script, release(ids), ...finish]);
}

// deno-lint-ignore require-await
async function writeScript(path: string, lines: string[]): Promise<void> {
  // run7: sync (one small file; the async write loads Deno's streams code on its first use)
  Deno.writeTextFileSync(path, lines.join("\n") + "\n", { mode: 0o700 });
}

/**
 * Tears a container's network down (no-op when there is none): runs its teardown script, then removes the
 * state. Safe to call again, and from several places. As root it first waits for the store's handed-off
 * teardowns but its own (net3, teardown_async.ts), so `stop`/`rm` return with the network as they left it.
 */
export async function teardownNetwork(root: string, id: string): Promise<void> {
  await runTeardown(root, id, true);
}

/** {@link teardownNetwork}; `afterPending`: root, after the store's handed-off teardowns are over. */
async function runTeardown(root: string, id: string, afterPending: boolean): Promise<void> {
  const f = netFiles(root, id);
  // run6: a container that never set a network up (a first start) has nothing to tear down or wait for
  if (!afterPending && !existsSync(f.cleanup) && !existsSync(f.state)) return;
  // net3: also when the supervisor already ran this one's: the store's network is as they all left it
  // run10: sync checks and removals (one syscall each; `run --rm`'s removal comes here after its hand-off)
  if (afterPending && Deno.uid() === 0 && existsSync(`${netRunDir(root)}/pending`)) {
    await (await import("./teardown_async.ts")).awaitPendingTeardowns(root, id);
  }
  if (existsSync(f.cleanup)) {
    try {
      const out = await new Deno.Command("sh", {
        args: [f.cleanup],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      })
        .output();
      const err = new TextDecoder().decode(out.stderr).trim();
      if (err) debug(`network teardown of ${id.slice(0, 12)}: ${err}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) debug(`network teardown of ${id.slice(0, 12)}: ${e}`);
    }
  }
  for (const path of [f.state, f.cleanup]) {
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
  }
}

/** False when the network helper (slirp4netns, pasta) of a set-up network has ended (inspect's state). */
export function helperAlive(state: NetState | undefined): boolean {
  if (!state?.helperPid) return true;
  try {
    return !/^\d+ \(.*\) [ZX]/.test(Deno.readTextFileSync(`/proc/${state.helperPid}/stat`));
  } catch {
    return false;
  }
}

/** The prefix length of an address on network `name` (inspect). */
export function prefixOf(net: NetworkConfig): number {
  const sub = (net.subnets ?? []).find((s) => !s.subnet.includes(":"));
  return sub ? subnetRange(sub.subnet).prefix : 0;
}
