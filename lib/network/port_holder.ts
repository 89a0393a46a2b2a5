/**
 * Rootful published ports go through netavark's iptables DNAT rules, which bind nothing: like podman's
 * conmon, a small perl process holds each host port bound while the container runs, so a port another
 * program (or container) uses is refused and nothing else can take it meanwhile. Ended by pid at teardown.
 * @module
 */

import { PodError } from "../errors.ts";
import type { PortMapping } from "../store/container_net.ts";
import { expandPorts } from "./ports.ts";

/** argv: `<proto> <ip> <port>` triples; prints `ok` or `err <proto> <addr> <port> <error>`, then holds them. */
const HOLDER_PL = String.raw`
use Socket; $0 = 'pod-port-holder'; $SIG{HUP} = 'IGNORE'; my @s;
while (@ARGV) { my ($p, $ip, $port) = splice(@ARGV, 0, 3); my $six = $ip =~ /:/;
  my $fam = $six ? AF_INET6 : AF_INET; my $type = $p eq 'udp' ? SOCK_DGRAM : SOCK_STREAM;
  socket(my $fh, $fam, $type, 0) or do { print "err $p $ip $port socket: $!\n"; exit 1 };
  setsockopt($fh, SOL_SOCKET, SO_REUSEADDR, 1) if $p eq 'tcp';
  my $addr = $six ? pack_sockaddr_in6($port, Socket::inet_pton(AF_INET6, $ip)) : pack_sockaddr_in($port, inet_aton($ip));
  bind($fh, $addr) or do { print "err $p $ip $port $!\n"; exit 1 };
  if ($p eq 'tcp') { listen($fh, 1) or do { print "err $p $ip $port $!\n"; exit 1 } }
  push @s, $fh }
$| = 1; print "ok\n"; close STDOUT; open(STDOUT, '>', '/dev/null');
sleep 3600 while 1;
`;

/** Binds every host port of `ports`; resolves to the holder's pid (0 when there are none). */
export async function holdPorts(ports: PortMapping[]): Promise<number> {
  const args = expandPorts(ports).filter((p) => p.proto !== "sctp").flatMap((p) => [
    p.proto,
    p.hostIp || "0.0.0.0",
    String(p.host),
  ]);
  if (!args.length) return 0;
  const child = new Deno.Command("setsid", {
    args: ["perl", "-e", HOLDER_PL, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  child.unref();
  const line = (await new Response(child.stdout).text()).trim();
  if (line === "ok") return child.pid;
  try {
    Deno.kill(child.pid, "SIGKILL");
  } catch { /* gone */ }
  const m = /^err (\w+) (\S+) (\d+) (.*)$/.exec(line);
  if (!m) throw new PodError("cannot hold the published ports (is perl installed?)");
  const reason = /in use/i.test(m[4]) ? "address already in use" : m[4].toLowerCase();
  throw new PodError(
    `cannot listen on the ${m[1].toUpperCase()} port: listen ${m[1]} ${m[2]}:${m[3]}: bind: ${reason}`,
  );
}
