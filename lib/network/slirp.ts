/**
 * Rootless user-mode networking: slirp4netns (podman 4's default) attached to the container's network
 * namespace by pid, configured with `--configure --mtu=65520 --disable-host-loopback`, its ports forwarded
 * through its API socket (`add_hostfwd`); or pasta (`pasta --config-net … PID`). Each helper runs in its own
 * session, outlives pod for a detached container, and is ended by pid at teardown.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug } from "../log.ts";
import { mkfifo } from "../ns/fs.ts";
import type { PortMapping } from "../store/container_net.ts";
import { networkTool } from "./helpers.ts";
import { expandPorts } from "./ports.ts";
import { slirpHasSeccomp } from "./slirp_features.ts";

/** A running helper. */
export interface HelperProcess {
  /** Its pid. */
  pid: number;
  /** slirp4netns: its API socket. */
  apiSocket?: string;
}

/** The addresses of a slirp4netns network (`cidr`, default 10.0.2.0/24). */
export function slirpAddresses(cidr = "10.0.2.0/24"): { ip: string; gateway: string; dns: string } {
  const base = cidr.split("/")[0].split(".").map(Number);
  const at = (n: number) => [base[0], base[1], base[2], base[3] + n].join(".");
  return { ip: at(100), gateway: at(2), dns: at(3) };
}

/** Refuses early, in one line, when the user cannot open /dev/net/tun (slirp4netns and pasta need it). */
export function checkTun(tool: string): void {
  if (Deno.uid() === 0) return;
  try {
    Deno.openSync("/dev/net/tun", { read: true, write: true }).close();
  } catch (e) {
    let mode = "";
    try {
      mode = ` (mode 0${((Deno.statSync("/dev/net/tun").mode ?? 0) & 0o777).toString(8)})`;
    } catch { /* missing */ }
    const why = e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Error
      ? e.message
      : e;
    throw new PodError(
      `${tool} cannot open /dev/net/tun${mode}: ${why}; ` +
        `as root run "chmod 0666 /dev/net/tun" (distributions ship it so), or use --network none or host`,
    );
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(path: string): string {
  try {
    const lines = Deno.readTextFileSync(path).trim().split("\n").filter((l) => !/^WARNING/.test(l));
    return lines.filter((l) => /error|fail|cannot|denied|no such|too long/i.test(l)).slice(-1)[0] ??
      lines.slice(-1)[0] ?? "";
  } catch {
    return "";
  }
}

/** Ends a helper by pid, if it is still the one started (its command line names it). */
export function endHelper(pid: number, name: string): void {
  try {
    if (!Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(name)) return;
    Deno.kill(pid, "SIGTERM");
  } catch { /* gone */ }
}

/**
 * Starts slirp4netns for the network namespace of `pid` (stage 2, paused before its exec); resolves once
 * it is configured (its ready fd), with its ports forwarded. On failure nothing is left running. `root`: the
 * store, whose cache says whether this slirp4netns takes `--enable-seccomp` (net9, slirp_features.ts).
 */
export async function startSlirp(
  pid: number,
  opts: Record<string, string>,
  ports: PortMapping[],
  runDir: string,
  root?: string,
): Promise<HelperProcess> {
  const bin = networkTool("slirp4netns");
  checkTun("slirp4netns");
  const api = await apiSocketPath(runDir);
  const ready = `${runDir}/slirp4netns.ready`;
  const log = `${runDir}/slirp4netns.log`;
  for (const f of [api, ready]) await Deno.remove(f).catch(() => {});
  mkfifo(ready, 0o600);
  const args = ["--configure", `--mtu=${opts.mtu ?? "65520"}`];
  if (opts.allow_host_loopback !== "true") args.push("--disable-host-loopback");
  if (opts.cidr) args.push(`--cidr=${opts.cidr}`);
  if (opts.enable_ipv6 === "true") args.push("--enable-ipv6");
  if (opts.outbound_addr) args.push(`--outbound-addr=${opts.outbound_addr}`);
  if (opts.outbound_addr6) args.push(`--outbound-addr6=${opts.outbound_addr6}`);
  // net9: as podman, the seccomp filter too when this slirp4netns has it (1.2 does)
  if (await slirpHasSeccomp(bin, root)) args.push("--enable-seccomp");
  args.push("--enable-sandbox", "--api-socket", api, "-r", "3", String(pid), "tap0");
  // its own session; the ready fd is a fifo (Deno passes no extra fds); output to a log file, never to pod's
  const child = new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      'r="$1"; l="$2"; shift 2; exec "$@" 3>"$r" >"$l" 2>&1',
      "sh",
      ready,
      log,
      bin,
      ...args,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  const helper: HelperProcess = { pid: child.pid, apiSocket: api };
  try {
    const f = await Deno.open(ready, { read: true });
    const buf = new Uint8Array(8);
    const timer = setTimeout(() => endHelper(child.pid, "slirp4netns"), 20_000);
    const n = await f.read(buf).finally(() => clearTimeout(timer));
    f.close();
    await Deno.remove(ready).catch(() => {});
    if (!n || buf[0] !== 0x31) {
      await sleep(20);
      throw new PodError(`slirp4netns failed: ${tail(log) || "it ended before the network was ready"}`);
    }
    for (const p of expandPorts(ports)) {
      if (p.proto === "sctp") throw new PodError("slirp4netns cannot forward sctp ports");
      const reply = await slirpApi(api, {
        execute: "add_hostfwd",
        arguments: { proto: p.proto, host_addr: p.hostIp || "0.0.0.0", host_port: p.host, guest_port: p.ctr },
      });
      if (reply.error) {
        const desc = String(reply.error.desc ?? JSON.stringify(reply.error));
        throw new PodError(
          `cannot listen on the ${p.proto.toUpperCase()} port ${p.host} (${
            p.hostIp || "0.0.0.0"
          }:${p.host}): ` +
            desc.replace(/^bad request: add_hostfwd: /, ""),
        );
      }
    }
    debug(`slirp4netns ${child.pid} ready for ${pid}`);
    return helper;
  } catch (e) {
    endHelper(child.pid, "slirp4netns");
    await Deno.remove(api).catch(() => {});
    throw e;
  }
}

/**
 * Where slirp4netns's API socket goes: in the container's run dir, unless that path is too long for a unix
 * socket (108 bytes), then in a 0700 dir of the user's under `$XDG_RUNTIME_DIR` or /tmp.
 */
async function apiSocketPath(runDir: string): Promise<string> {
  const own = `${runDir}/slirp4netns.sock`;
  if (own.length < 100) return own;
  const id = runDir.split("/").slice(-2)[0].slice(0, 16);
  const xdg = Deno.env.get("XDG_RUNTIME_DIR");
  for (const base of [xdg ? `${xdg}/pod` : "", `/tmp/pod-run-${Deno.uid()}`]) {
    if (!base || base.length > 70) continue;
    await Deno.mkdir(base, { recursive: true, mode: 0o700 }).catch(() => {});
    try {
      const st = await Deno.lstat(base);
      if (!st.isDirectory || st.uid !== Deno.uid() || ((st.mode ?? 0) & 0o077)) continue;
    } catch {
      continue;
    }
    return `${base}/slirp-${id}.sock`;
  }
  throw new PodError(`no short directory for slirp4netns's API socket (${own} is too long)`);
}

/** One request to slirp4netns's API socket; resolves to its JSON answer. */
export async function slirpApi(
  path: string,
  req: unknown,
): Promise<{ return?: unknown; error?: { desc?: string } }> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(JSON.stringify(req)));
    await conn.closeWrite();
    const text = await new Response(conn.readable).text();
    return JSON.parse(text);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the stream */ }
  }
}

/**
 * Starts pasta for the network namespace of `pid` (`--config-net`, the ports as `-t`/`-u` specs, then the
 * user's `pasta:` arguments); pasta goes to the background once it is set up and writes its pid file.
 */
export async function startPasta(
  pid: number,
  userArgs: string[],
  ports: PortMapping[],
  runDir: string,
): Promise<HelperProcess> {
  const bin = networkTool("pasta");
  checkTun("pasta");
  const pidFile = `${runDir}/pasta.pid`;
  const log = `${runDir}/pasta.log`;
  await Deno.remove(pidFile).catch(() => {});
  const args = ["--config-net", "-q", "-P", pidFile, "-l", log];
  const tcp = ports.filter((p) => p.protocol === "tcp");
  const udp = ports.filter((p) => p.protocol === "udp");
  const spec = (m: PortMapping) => {
    const r = (p: number) => m.range > 1 ? `${p}-${p + m.range - 1}` : `${p}`;
    return `${m.host_ip ? `${m.host_ip}/` : ""}${r(m.host_port)}:${r(m.container_port)}`;
  };
  if (!userArgs.some((a) => a === "-t" || a.startsWith("--tcp-ports"))) {
    args.push("-t", tcp.length ? tcp.map(spec).join(",") : "none");
  } else for (const m of tcp) args.push("-t", spec(m));
  if (!userArgs.some((a) => a === "-u" || a.startsWith("--udp-ports"))) {
    args.push("-u", udp.length ? udp.map(spec).join(",") : "none");
  } else for (const m of udp) args.push("-u", spec(m));
  if (!userArgs.some((a) => a === "-T" || a.startsWith("--tcp-ns"))) args.push("-T", "none");
  if (!userArgs.some((a) => a === "-U" || a.startsWith("--udp-ns"))) args.push("-U", "none");
  args.push(...userArgs, String(pid));
  const out = await new Deno.Command(bin, { args, stdin: "null", stdout: "null", stderr: "piped" }).output();
  let helperPid = 0;
  try {
    helperPid = Number(Deno.readTextFileSync(pidFile).trim());
  } catch { /* not written */ }
  if (!out.success || !helperPid) {
    if (helperPid) endHelper(helperPid, "pasta");
    const msg = new TextDecoder().decode(out.stderr).split("\n").filter((l) => l && !/syslog/.test(l));
    throw new PodError(`pasta failed: ${msg.slice(-1)[0] ?? tail(log) ?? `exit code ${out.code}`}`);
  }
  return { pid: helperPid };
}
