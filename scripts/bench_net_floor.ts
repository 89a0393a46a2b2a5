/**
 * The floor of issue 12's root `run --rm IMG true` row (default network): netavark itself, driven exactly as
 * pod drives it, side by side with pod's and podman's `run --rm`, alternating in every round (who goes first
 * rotates too), medians of `--runs` rounds. Root only; never asserts.
 *
 *     deno run -A scripts/bench_net_floor.ts [--runs 15] [--before DIR]
 *
 * Measured per round:
 * - floor: `netavark setup` then `netavark teardown` of the `podman` default network (lib/network/netavark.ts
 *   `netavarkArgv`/`netavarkOptions`: the same argv and the same options JSON on stdin; run10: under the same
 *   lock, held by this script as pod holds it, `withNetavarkLock`, so no `flock` process is timed) for a network
 *   namespace this script makes with `ip netns add` under a random name (removed after, as is the script's
 *   netavark run dir);
 * - pod `run --rm IMG true` and podman's (`--ulimit`s as bench_net.ts, its own cgroup parent);
 * - with `--before DIR` (another checkout of pod, as bench_net.ts's), that pod's `run --rm` as well.
 *
 * Every command runs under a small perl subreaper (perl-base is in every Debian): its wall time is until the
 * command itself exits, and its CPU time (user+sys) is that of the whole process tree, detached helpers included
 * (podman's conmon and `container cleanup`, pod's handed-off teardown) — the wrapper waits for all of them, so
 * no round overlaps the previous round's leftovers.
 * @module
 */

import { startRegistry } from "../tests/helpers/registry.ts";
import { busybox } from "../tests/helpers/fixtures.ts";
import { defaultNetwork } from "../lib/network/config.ts";
import {
  allocateIp,
  netavarkArgv,
  netavarkOptions,
  netRunDir,
  runDirRemovalLine,
  withNetavarkLock,
} from "../lib/network/netavark.ts";
import { beforeEngine } from "./bench_net.ts";
import {
  argNum,
  argStr,
  type Cmd,
  type Engine,
  median,
  podEngine,
  podmanEngine,
  podmanRuntime,
} from "./bench_runtime.ts";

/** The subreaper: runs argv, reports the command's wall ms and the whole tree's user/sys ms on stderr. */
const REAPER = String.raw`
use POSIX (); use Time::HiRes qw(time);
my %nr = (x86_64 => 157, aarch64 => 167);
my $arch = (POSIX::uname())[4];
syscall($nr{$arch}, 36, 1, 0, 0, 0) == 0 or die "prctl(PR_SET_CHILD_SUBREAPER) on $arch: $!\n";
my $t0 = time;
my $pid = fork // die "fork: $!\n";
if (!$pid) { exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n"; }
my ($wall, $code);
while ((my $w = waitpid(-1, 0)) > 0) { if ($w == $pid) { $wall = time - $t0; $code = $? >> 8; } }
my (undef, undef, $cu, $cs) = times;
printf STDERR "REAPED %.3f %d %.3f %.3f\n", $wall * 1000, $code, $cu * 1000, $cs * 1000;
exit $code;
`;

/** One wrapped command's result. */
interface Sample {
  ms: number;
  cpu: number;
  code: number;
  stderr: string;
}

const dec = new TextDecoder();

/** Runs `c` under the subreaper; `input` on stdin. */
async function reaped(c: Cmd, input?: string): Promise<Sample> {
  const child = new Deno.Command("perl", {
    args: ["-e", REAPER, c.cmd, ...c.args],
    env: c.env,
    clearEnv: true,
    cwd: c.cwd,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const o = await child.output();
  const err = dec.decode(o.stderr);
  const m = /REAPED (\S+) (\S+) (\S+) (\S+)\n?$/.exec(err);
  if (!m) throw new Error(`${c.cmd} ${c.args.join(" ")}: no timing (${err.trim().slice(-500)})`);
  return { ms: Number(m[1]), code: Number(m[2]), cpu: Number(m[3]) + Number(m[4]), stderr: err };
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The floor side: a store root whose netavark run dir this script owns (netRunDir), a netns per round. */
class Floor {
  readonly id = crypto.randomUUID().slice(0, 8);
  constructor(readonly root: string) {}

  /** setup then teardown of one fresh netns; the netns is made and removed outside the timings. */
  async round(i: number): Promise<{ setup: Sample; teardown: Sample }> {
    const ns = `pnf-${this.id}-${i}`;
    const nsPath = `/run/netns/${ns}`;
    await sh(`ip netns add ${ns}`);
    try {
      const cid = Array.from(
        crypto.getRandomValues(new Uint8Array(32)),
        (b) => b.toString(16).padStart(2, "0"),
      )
        .join("");
      const config = defaultNetwork();
      const ip = allocateIp(config, new Set());
      const opts = netavarkOptions(cid, `floor-${this.id}-${i}`, [{
        config,
        attach: {},
        ips: [ip],
        iface: "eth0",
      }], []);
      // as netavark.ts netavarkSetup: its config dir and the lock file exist first
      await Deno.mkdir(`${netRunDir(this.root)}/netavark`, { recursive: true, mode: 0o700 });
      const input = JSON.stringify(opts);
      const run = (verb: "setup" | "teardown") => {
        const argv = netavarkArgv(this.root, verb, nsPath, true);
        return withNetavarkLock(() => reaped({ cmd: argv[0], args: argv.slice(1), env: { PATH } }, input));
      };
      const setup = await run("setup");
      if (setup.code !== 0) throw new Error(`netavark setup: ${setup.stderr.trim().slice(-500)}`);
      const teardown = await run("teardown");
      if (teardown.code !== 0) throw new Error(`netavark teardown: ${teardown.stderr.trim().slice(-500)}`);
      return { setup, teardown };
    } finally {
      await sh(`ip netns del ${ns}`);
    }
  }

  async cleanup(): Promise<void> {
    await sh(runDirRemovalLine(this.root) + "; true");
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

async function sh(script: string): Promise<void> {
  const o = await new Deno.Command("sh", { args: ["-c", script], stdout: "null", stderr: "piped" }).output();
  if (!o.success) throw new Error(`${script}: ${dec.decode(o.stderr).trim()}`);
}

/** podman's flags of bench_net.ts (its ulimits) and its own cgroup parent (podmanEngine's runFlags). */
function podmanFlags(e: Engine): string[] {
  return e.runFlags.filter((f) => f !== "--network=none");
}

function row(what: string, a: number, b: number, target?: number): string {
  const ratio = a / b;
  return what.padEnd(52) + a.toFixed(1).padStart(9) + b.toFixed(1).padStart(11) +
    ratio.toFixed(2).padStart(8) +
    (target === undefined ? "" : `  ≤ ${target} ${ratio <= target ? "met" : "MISSED"}`);
}

/** Runs the floor benchmark. */
export async function main(): Promise<void> {
  if (Deno.uid() !== 0) {
    console.log("bench_net_floor: skipped (root only: netavark's root bridge)");
    return;
  }
  for (const tool of ["perl", "podman", "ip"]) {
    const ok = (await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" }).output())
      .success;
    if (!ok) {
      console.log(`bench_net_floor: skipped (${tool} missing)`);
      return;
    }
  }
  const runs = argNum("runs", 15);
  const beforeDir = argStr("before", "");
  // each made inside the cleanup's reach: a failure half-way leaves no temp store or registry behind
  const made: { cleanup: () => Promise<void> }[] = [];
  const keep = <T extends { cleanup: () => Promise<void> }>(x: T): T => (made.unshift(x), x);
  const s = {
    setup: [] as number[],
    teardown: [] as number[],
    floor: [] as number[],
    floorCpu: [] as number[],
    pod: [] as number[],
    podCpu: [] as number[],
    podman: [] as number[],
    podmanCpu: [] as number[],
    before: [] as number[],
    beforeCpu: [] as number[],
  };
  try {
    const reg = await startRegistry({ logLevel: "error" });
    made.unshift({ cleanup: () => reg.stop() });
    const pe = keep(await podEngine(undefined));
    const me = keep(await podmanEngine(undefined, await podmanRuntime()));
    const floor = keep(new Floor(await Deno.makeTempDir({ prefix: "pod-net-floor-" })));
    const be = beforeDir ? keep(await beforeEngine(undefined, beforeDir)) : undefined;
    const img = await busybox(reg);
    const podRun = async () => await reaped(await pe.build(["run", "--rm", img.ref, "true"]));
    const podmanRun = async () =>
      await reaped(await me.build(["run", "--rm", ...podmanFlags(me), img.ref, "true"]));
    const check = (name: string, o: Sample, strict: boolean) => {
      // podman 4.3 now and then ends with 127 after its container ran (bench_net.ts): timed all the same
      if (o.code !== 0 && (strict || o.code !== 127)) {
        throw new Error(`${name} run --rm → ${o.code}: ${o.stderr.trim().slice(-800)}`);
      }
    };
    await reaped(await pe.build(["pull", "-q", img.ref]));
    if (be) await reaped(await be.build(["pull", "-q", img.ref]));
    await reaped(await me.build(["pull", "-q", "--tls-verify=false", img.ref]));
    check("pod", await podRun(), true); // warm-ups
    if (be) check("pod-before", await reaped(await be.build(["run", "--rm", img.ref, "true"])), true);
    check("podman", await podmanRun(), false);
    await floor.round(-1);
    const sides: (() => Promise<void>)[] = [
      async () => {
        const r = await floor.round(s.floor.length);
        s.setup.push(r.setup.ms);
        s.teardown.push(r.teardown.ms);
        s.floor.push(r.setup.ms + r.teardown.ms);
        s.floorCpu.push(r.setup.cpu + r.teardown.cpu);
      },
      async () => {
        const o = await podRun();
        check("pod", o, true);
        s.pod.push(o.ms);
        s.podCpu.push(o.cpu);
      },
      async () => {
        // podman's netavark takes no lock of pod's: one racing another's (other tests on this machine) on the
        // shared chains fails ("Chain already exists"): that round of podman's is run again
        let o = await podmanRun();
        for (let n = 0; n < 3 && o.code !== 0 && /already exists/.test(o.stderr); n++) o = await podmanRun();
        check("podman", o, false);
        s.podman.push(o.ms);
        s.podmanCpu.push(o.cpu);
      },
    ];
    if (be) {
      sides.push(async () => {
        const o = await reaped(await be.build(["run", "--rm", img.ref, "true"]));
        check("pod-before", o, true);
        s.before.push(o.ms);
        s.beforeCpu.push(o.cpu);
      });
    }
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]();
    }
  } finally {
    for (const x of made) await x.cleanup().catch((e) => console.error(`cleanup: ${e}`));
  }
  const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)])) as Record<
    keyof typeof s,
    number
  >;
  console.log(`\n== issue 12 floor, root, default network (${runs} rounds, medians) ==`);
  console.log("what".padEnd(52) + "ms".padStart(9) + "podman ms".padStart(11) + "ratio".padStart(8));
  console.log(row("pod run --rm true (wall)", m.pod, m.podman, 0.6));
  if (beforeDir) console.log(row("pod-before run --rm true (wall)", m.before, m.podman, 0.6));
  console.log(row("floor: netavark setup + teardown (wall)", m.floor, m.podman, 0.6));
  console.log(row("  netavark setup alone (wall)", m.setup, m.podman));
  console.log(row("  netavark teardown alone (wall)", m.teardown, m.podman));
  console.log(row("pod run --rm true (CPU user+sys, whole tree)", m.podCpu, m.podmanCpu));
  if (beforeDir) {
    console.log(row("pod-before run --rm true (CPU user+sys, whole tree)", m.beforeCpu, m.podmanCpu));
  }
  console.log(row("floor: netavark setup + teardown (CPU user+sys)", m.floorCpu, m.podmanCpu));
  // pod hands its teardown off (teardown_async.ts): on its wall-clock path only netavark's setup remains
  console.log(row("pod run --rm minus netavark setup (wall)", m.pod - m.setup, m.podman));
}

if (import.meta.main) await main();
