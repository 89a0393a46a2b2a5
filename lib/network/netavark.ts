/**
 * Rootful bridge networks through netavark, as podman drives it: pod allocates the addresses (IPAM), keeps
 * the container's network namespace alive with a bind mount under `/run/pod/net-<store hash>/netns/<id>`,
 * and runs `netavark --config <run dir> setup|teardown <netns>` with the network options JSON on stdin
 * (netavark makes the bridge, veth, routes, iptables NAT and port forwarding, and starts aardvark-dns for
 * networks with DNS).
 *
 * aardvark-dns: netavark starts it through `systemd-run` when `/run/systemd/system` exists, which fails
 * silently when systemd is not actually running (containers, some VMs); pod then runs netavark in a private
 * mount namespace with an empty tmpfs over `/run/systemd`, so netavark starts aardvark-dns itself.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug } from "../log.ts";
import { bindTogether, check, cstr, libc } from "../ns/libc.ts";
import { SPAWN_SYMBOLS, spawnProgram } from "../ns/spawn.ts";
import { sleepMs } from "../ns/sleep.ts";
import type { NetworkAttachment, PortMapping } from "../store/container_net.ts";
import type { NetworkConfig } from "./config.ts";
import { networkTool, shortHash, systemdDirWithoutSystemd } from "./helpers.ts";
import { shQuote } from "../ns/sh_quote.ts";

/** netavark's answer per network: `{interfaces: {eth0: {mac_address, subnets: [{ipnet, gateway}]}}, …}`. */
export interface NetavarkStatus {
  interfaces?: Record<string, { mac_address?: string; subnets?: { ipnet: string; gateway?: string }[] }>;
  dns_server_ips?: string[];
  dns_search_domains?: string[];
}

/** The run-time directory of a store's networking (root only): netavark's config dir and the netns mounts. */
export function netRunDir(root: string): string {
  return `/run/pod/net-${shortHash(root)}`;
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** An IPv4 subnet's first and last host address and prefix length. */
export function subnetRange(cidr: string): { first: number; last: number; prefix: number } {
  const [addr, len] = cidr.split("/");
  const prefix = Number(len);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToInt(addr) / size) * size;
  return { first: base + 1, last: base + size - 2, prefix };
}

/** The gateway of a subnet: the configured one, else the first address. */
export function gatewayOf(s: { subnet: string; gateway?: string }): string {
  return s.gateway ?? intToIp(subnetRange(s.subnet).first);
}

/**
 * A free IPv4 address of `net` not in `used` (a random one, so that another manager allocating from the
 * start of the same subnet is unlikely to collide), or the requested `want` (refused when taken).
 */
export function allocateIp(net: NetworkConfig, used: Set<string>, want?: string[]): string {
  const sub = (net.subnets ?? []).find((s) => !s.subnet.includes(":"));
  if (!sub) throw new PodError(`network ${net.name} has no IPv4 subnet`);
  const { first, last } = subnetRange(sub.subnet);
  const gw = gatewayOf(sub);
  const v4 = want?.find((w) => !w.includes(":"));
  if (v4) {
    const n = ipToInt(v4);
    if (n < first || n > last || v4 === gw) {
      throw new PodError(`requested ip address ${v4} is not in subnet ${sub.subnet} of network ${net.name}`);
    }
    if (used.has(v4)) {
      throw new PodError(`IPAM error: requested ip address ${v4} is already allocated to another container`);
    }
    return v4;
  }
  const span = last - first + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const ip = intToIp(first + ((start + i) % span));
    if (ip !== gw && !used.has(ip)) return ip;
  }
  throw new PodError(`IPAM error: failed to find free IP in network ${net.name}`);
}

/** The network options document netavark reads on stdin. */
export function netavarkOptions(
  id: string,
  name: string,
  nets: { config: NetworkConfig; attach: NetworkAttachment; ips: string[]; iface: string }[],
  ports: PortMapping[],
): unknown {
  return {
    container_id: id,
    container_name: name,
    port_mappings: ports.length ? ports : null,
    networks: Object.fromEntries(nets.map((n) => [n.config.name, {
      static_ips: n.ips,
      aliases: n.config.dns_enabled ? [...(n.attach.aliases ?? []), id.slice(0, 12)] : n.attach.aliases ?? [],
      interface_name: n.iface,
      ...(n.attach.static_mac ? { static_mac: n.attach.static_mac } : {}),
    }])),
    network_info: Object.fromEntries(nets.map((n) => [n.config.name, n.config])),
  };
}

/**
 * The argv of a netavark call (`setup`/`teardown`), hiding a systemd dir whose systemd is not running.
 * Under `flock -o` {@link NETAVARK_LOCK}, unless `locked`: the caller holds that lock already (run10).
 */
export function netavarkArgv(
  root: string,
  verb: "setup" | "teardown",
  nsPath: string,
  locked = false,
): string[] {
  const argv = [
    networkTool("netavark"),
    "--config",
    `${netRunDir(root)}/netavark`,
    "--rootless",
    "false",
    "--aardvark-binary",
    networkTool("aardvark-dns"),
    verb,
    nsPath,
  ];
  // one netavark at a time on this machine: every store's default network is the same bridge (podman0)
  const lock = locked ? [] : ["flock", "-o", NETAVARK_LOCK]; // -o: aardvark-dns must not inherit the lock
  if (!systemdDirWithoutSystemd()) return [...lock, ...argv];
  return [
    ...lock,
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    'mount -t tmpfs -o size=4k,mode=755 pod-no-systemd /run/systemd && exec "$@"',
    "sh",
    ...argv,
  ];
}

/**
 * Keeps the network namespace of `pid` alive at `<run dir>/netns/<id>` (a bind mount); returns its path.
 * `ino`: the namespace's inode it must be (see {@link newNetns}), checked on the pinned file.
 */
export async function pinNetns(root: string, id: string, pid: number, ino?: number): Promise<string> {
  // net3: under the lock a teardown removes the run dir with (runDirRemovalLine), then again it may run
  // after this process's (asynchronous teardowns, teardown_async.ts)
  return await withNetavarkLock(() => Promise.resolve(pinNetnsLocked(root, id, pid, ino)));
}

/** {@link pinNetns} by a caller that holds {@link NETAVARK_LOCK} ({@link withNetavarkLock}). */
export function pinNetnsLocked(root: string, id: string, pid: number, ino?: number): string {
  const dir = `${netRunDir(root)}/netns`;
  const path = `${dir}/${id}`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.mkdirSync(`${netRunDir(root)}/netavark`, { recursive: true, mode: 0o700 });
  Deno.writeTextFileSync(path, "", { mode: 0o600 });
  try {
    // run10: mount(2) itself: lib/ns/mounts.ts (the container mounts) is one module more on this path
    check(libc().mount(cstr(`/proc/${pid}/ns/net`), cstr(path), null, BigInt(MS_BIND), null), "mount", path);
  } catch (e) {
    // net5: the process ended first: no empty mount point is left for the run dir's removal to trip on
    Deno.removeSync(path);
    throw e;
  }
  if (ino !== undefined && Deno.statSync(path).ino !== ino) {
    throw new PodError(`the network namespace of process ${pid} changed while it was pinned`);
  }
  return path;
}

const MS_BIND = 4096;

/**
 * run10: runs `fn` holding {@link NETAVARK_LOCK} in this process (one `flock(2)`; the `flock` program cost a
 * process on `run`'s critical path). Deno opens files close-on-exec: netavark and the aardvark-dns it starts
 * never inherit the lock. Nothing in `fn` may take the lock again (a second open file would wait for this one).
 */
export async function withNetavarkLock<T>(fn: () => Promise<T>): Promise<T> {
  Deno.mkdirSync("/run/pod", { recursive: true, mode: 0o755 });
  const lock = Deno.openSync(NETAVARK_LOCK, { write: true, create: true });
  try {
    await lock.lock(true); // async: another netavark call may hold it
    return await fn();
  } finally {
    lock.close();
  }
}

/** The inode number of a `/proc/<pid>/ns/net` link's namespace (`net:[4026532381]`). */
function netnsIno(pid: number | "self"): number {
  return Number(/\[(\d+)\]/.exec(Deno.readLinkSync(`/proc/${pid}/ns/net`))![1]);
}

/**
 * net3: waits until process `pid` (an `unshare --net` being started) is in a network namespace other than
 * this process's, and resolves to that namespace's inode: a netns pinned before that would be the host's.
 * A process that ended (or 5 s without a new namespace) is a PodError.
 */
export async function newNetns(pid: number): Promise<number> {
  const own = netnsIno("self");
  for (let i = 0;; i++) {
    let ino: number;
    try {
      ino = netnsIno(pid);
    } catch {
      throw new PodError(`the container's process ${pid} ended before its network namespace was made`);
    }
    if (ino !== own) return ino;
    if (i >= 2500) throw new PodError(`process ${pid} made no network namespace in 5 s`);
    await sleepMs(2); // run7: not setTimeout (lib/ns/sleep.ts)
  }
}

/**
 * Runs `netavark setup` (options on stdin) under {@link NETAVARK_LOCK}, taken here unless `locked` (the
 * caller holds it: {@link withNetavarkLock}); resolves to its per-network status.
 */
export async function netavarkSetup(
  root: string,
  nsPath: string,
  opts: unknown,
  locked = false,
): Promise<Record<string, NetavarkStatus>> {
  if (!locked) return await withNetavarkLock(() => netavarkSetup(root, nsPath, opts, true));
  Deno.mkdirSync(`${netRunDir(root)}/netavark`, { recursive: true, mode: 0o700 });
  return await runNetavarkSetup(netavarkArgv(root, "setup", nsPath, true), opts) as Record<
    string,
    NetavarkStatus
  >;
}

/**
 * Runs a `netavark … setup` command line with `opts` as JSON on its stdin; resolves to its parsed stdout. A
 * failure is one line: netavark's last stderr line (less the lines `skip` matches), without its log prefix.
 */
export async function runNetavarkSetup(
  argv: string[],
  opts: unknown,
  skip?: RegExp,
): Promise<Record<string, unknown>> {
  const input = JSON.stringify(opts);
  const out = await runDirect(argv, input) ?? await runCommand(argv, input);
  const err = out.stderr.trim();
  if (out.code !== 0) throw new PodError(`netavark: ${netavarkFailure(out, skip)}`);
  if (err) debug(`netavark: ${err}`);
  return JSON.parse(out.stdout || "{}");
}

/**
 * Why a netavark call failed, in one line: netavark 1.4 prints its error as JSON on stdout (`{"error":"…"}`,
 * exit code 1) and only its log on stderr, so the JSON's message first, else stderr's last line (less the
 * lines `skip` matches, less its log prefix), else the exit code.
 */
export function netavarkFailure(out: ToolOutput, skip?: RegExp): string {
  try {
    const doc = JSON.parse(out.stdout);
    if (typeof doc?.error === "string" && doc.error.trim()) return doc.error.trim().split("\n")[0];
  } catch { /* not JSON: the log */ }
  const line = out.stderr.trim().split("\n").filter((l) => l && !skip?.test(l)).slice(-1)[0];
  return line ? line.replace(/^\[[^\]]*\]\s*/, "") : `exit code ${out.code}`;
}

/** What a finished netavark call gave. */
export interface ToolOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * run7: the call through `posix_spawn` (lib/ns/spawn.ts), its stdin and output through files in a temp dir
 * read after its exit: on `run`'s critical path a `Deno.Command` with piped stdio cost 9–30 ms of the main
 * thread (the first one loads Deno's process and streams code, then forks). Undefined when it cannot be
 * done that way (no FFI, …): the caller uses `Deno.Command`.
 */
async function runDirect(argv: string[], input: string): Promise<ToolOutput | undefined> {
  let dir: string | undefined;
  try {
    let spawned;
    try {
      dir = Deno.makeTempDirSync({ prefix: "pod-netavark-" });
      Deno.writeTextFileSync(`${dir}/in`, input, { mode: 0o600 });
      bindTogether(SPAWN_SYMBOLS);
      spawned = spawnProgram(argv[0], argv, {
        env: Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`),
        stdin: true, // the file below instead
        setsid: false,
        files: [
          { fd: 0, path: `${dir}/in`, mode: "read" },
          { fd: 1, path: `${dir}/out`, mode: "write" },
          { fd: 2, path: `${dir}/err`, mode: "write" },
        ],
      });
    } catch { /* no FFI, no temp dir, a missing program: Deno.Command says so */ }
    if (!spawned) return undefined;
    const code = await spawned.status;
    return { code, stdout: Deno.readTextFileSync(`${dir}/out`), stderr: Deno.readTextFileSync(`${dir}/err`) };
  } finally {
    try {
      if (dir) Deno.removeSync(dir, { recursive: true });
    } catch { /* gone already */ }
  }
}

/** The call through `Deno.Command`, the options on its piped stdin. */
async function runCommand(argv: string[], input: string): Promise<ToolOutput> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The machine-wide lock around netavark calls and the making/removal of a store's run dir. */
export const NETAVARK_LOCK = "/run/pod/netavark.lock";

/**
 * The shell lines that tear a netavark setup down (run by teardown, also from the supervisor), in a script
 * that holds {@link NETAVARK_LOCK} ({@link lockedScriptHead}).
 */
export function netavarkTeardownScript(root: string, nsPath: string, optsPath: string): string {
  return [...netavarkTeardownLines(root, nsPath, optsPath), runDirRemovalLocked(root)].join("\n");
}

/**
 * net3: netavark's teardown of the netns at `nsPath` (options from `optsPath`), then the netns unpinned. run10:
 * in a script that holds {@link NETAVARK_LOCK} on its fd 9 ({@link lockedScriptHead}): netavark runs without
 * `flock` and without that fd (an aardvark-dns it started must not keep the lock).
 */
export function netavarkTeardownLines(root: string, nsPath: string, optsPath: string): string[] {
  const argv = netavarkArgv(root, "teardown", nsPath, true).map(shQuote).join(" ");
  return [
    `${argv} < ${shQuote(optsPath)} >/dev/null 2>&1 9>&- || echo "netavark teardown failed" >&2`,
    `umount ${shQuote(nsPath)} 2>/dev/null; rm -f ${shQuote(nsPath)}`,
  ];
}

/**
 * run10: the first lines of a teardown script that runs whole under {@link NETAVARK_LOCK} (fd 9): one run
 * of it at a time (a later one finds it gone), serialized with every netavark call, pin and run dir removal,
 * with one `flock` process instead of one per step. Without /run/pod (a reboot: nothing pinned) it runs
 * unlocked (`command`: a failed redirection does not end the shell).
 */
export function lockedScriptHead(): string[] {
  return [
    "#!/bin/sh",
    `command exec 9>>${shQuote(NETAVARK_LOCK)} || exec 9>/dev/null`,
    "flock 9",
    '[ -f "$0" ] || exit 0',
  ];
}

/**
 * The store's last pinned netns gone (and with it its aardvark-dns), no teardown pending: its run dir goes
 * too — under {@link NETAVARK_LOCK}, which {@link pinNetns} holds while it pins, so a starting container's
 * netns dir is never removed under it.
 */
export function runDirRemovalLine(root: string): string {
  return `flock -o ${NETAVARK_LOCK} sh -c ${shQuote(runDirRemovalLocked(root))} 2>/dev/null`;
}

/**
 * run10: the run dir's removal in a script that holds {@link NETAVARK_LOCK} already ({@link runDirRemovalLine}
 * takes it with a `flock` of its own), in `sh` alone: a directory is empty (or missing) when its glob matches
 * nothing; then one `rm -rf` (pins and pending scripts are named by container id: no dot files).
 */
export function runDirRemovalLocked(root: string): string {
  const dir = shQuote(netRunDir(root));
  return `set -- ${dir}/netns/*; [ -e "$1" ] || { set -- ${dir}/pending/*; [ -e "$1" ] || rm -rf ${dir}; }`;
}
