/**
 * The detached-container supervisor: a small perl program (no resident Deno per container) started in its
 * own session. It runs the container's `unshare` command with stdout/stderr on pipes, writes podman's
 * k8s-file log (`<RFC3339Nano> stdout F <line>`, `P` for a partial line) and, when the command ends,
 * the exit code and finish time atomically as JSON to the exit file (killed by signal N → 128+N; with
 * `POD_CGROUP`, whether the memory limit killed a process), then removes the container's cgroup.
 * It prints the command's pid and its own on its stdout first, then closes it.
 *
 * It is the only process pod leaves beside a detached container: with a pid namespace, unshare's `sh` forks the
 * init and exits, and the supervisor (a child subreaper) reaps the init itself. It loads no perl module (syscall
 * numbers instead of POSIX/Fcntl/Time::HiRes) and parses the health/deadline timers only when they are set.
 * Cost per idle container (Debian 12, perl 5.36; `scripts/bench_idle.ts`): was perl 1.33 MiB private + sh 0.11;
 * now perl alone ~0.7 MiB private (perl's own floor, `perl -e 'sleep 9'`, is 0.44), conmon 0.33.
 * @module
 */

import type { CgroupSpec } from "./cgroup.ts";

/**
 * Syscall numbers the supervisor uses through perl's `syscall` built-in instead of the POSIX, Fcntl and
 * Time::HiRes modules (each of which costs a supervisor 0.3–2 MB of private memory): clock_gettime, setsid,
 * prctl, mknodat, close_range. Zero on other architectures: the supervisor then loads the modules.
 */
export function supervisorSyscalls(arch: string = Deno.build.arch): [number, number, number, number, number] {
  if (arch === "x86_64") return [228, 112, 157, 259, 436];
  if (arch === "aarch64") return [113, 157, 167, 33, 436];
  return [0, 0, 0, 0, 0];
}

/**
 * The perl source (the core; {@link SUPERVISOR_TIMERS_PL} is added when a health check or a deadline is set);
 * argv: `<logPath> <exitPath> <tty 0|1> <stdin fifo or ""> <exit hook> <health> <deadline> <forks 0|1>
 * <command…>`; the deadline, `<seconds>\x1f<argv…>` or empty, is started once that long after the start
 * (`--timeout`: `pod kill`).
 * The exit hook (an argv joined with `\x1f`, or empty) is started in its own session once the exit record is
 * written (`pod container cleanup`: the restart policy); the health argument, `<seconds>\x1f<argv…>`, starts
 * that argv (`pod healthcheck run`) every so many seconds while the container runs, one at a time. With a tty it opens
 * a pty master (`/dev/ptmx`, unlocked with TIOCSPTLCK, numbered with TIOCGPTN; numeric ioctls, as
 * `sys/ioctl.ph` may be missing), logs what the container writes to it as stdout and passes the slave's path
 * on in `POD_TTY` (stage 2 makes it the container's controlling terminal). With a stdin fifo (`-i`) it makes
 * that fifo, keeps it open for reading and writing (so writers may come and go: `pod attach`) and passes what
 * arrives to the pty master, or without a tty to a pipe that is the container's stdin; the fifo is removed
 * when the container ends. With both, a second fifo `<stdin fifo>-size` takes `<rows> <cols>` lines that
 * resize the pty (TIOCSWINSZ; the kernel sends the container SIGWINCH). `POD_EXIT_HOOK` in its environment (not
 * passed on) names a shell script it runs, if it exists then, when the command ended and before the exit record
 * is written (the container's network teardown).
 *
 * `forks` 1: the command (unshare's `sh`, see unshare.ts `reportPid`) forks the container's init, writes its pid
 * to fd 4 and exits; the supervisor, a child subreaper (PR_SET_CHILD_SUBREAPER), then waits for that pid itself —
 * no shell stays resident beside it. Only perl built-ins are used (numeric flags, syscall numbers): no modules.
 */
export const SUPERVISOR_PL = String.raw`
my ($log, $exitp, $tty, $inp, $hook, $hc, $dl, $fk, @cmd) = @ARGV;
# fds >= 3 pod's caller left inheritable (time -o FILE, a CI runner's pipes) are not passed on, and the pid
# pipe below is fds 3 and 4 (close_range, or a loop over /proc/self/fd where the syscall is unknown)
if (!$CR || syscall($CR, 3, 0xffffffff, 0) != 0) { opendir(my $d, '/proc/self/fd');
  my @fds = grep { /^\d+$/ && $_ >= 3 } readdir($d); closedir($d);
  for (@fds) { open(my $f, '<&=', $_) and close($f) } }
pipe(my $pr, my $pw) or die "pipe: $!"; # fd 3, 4: the forked init's pid, from unshare's sh
my ($lmax); ($log, $lmax) = split /\x1f/, $log; $lmax //= 0; # --log-opt max-size: rotated to $log.1
my $cgroup = delete $ENV{POD_CGROUP}; # cgroups (issue 13): "<oom events file>\n<dir>\n…", see cgroupEnv
my ($evp, $evh, $evt) = delete @ENV{qw(POD_EV_PATH POD_EV_HEAD POD_EV_TAIL)};
my $nethook = delete $ENV{POD_EXIT_HOOK} // ''; # net (issue 12): network-cleanup.sh
my @hook = split /\x1f/, $hook; my $hpid = 0;
sub now { if (!$SC) { require Time::HiRes; my ($s, $us) = Time::HiRes::gettimeofday(); return ($s, $us * 1000) }
  my $b = "\0" x 16; syscall($SC, 0, $b); unpack('q2', $b) }
sub fnow { my ($s, $ns) = now(); $s + $ns / 1e9 }
sub spawn { my @c = @_; my $p = fork(); return 0 unless defined $p;
  if ($p == 0) { if ($SS) { syscall($SS) } else { require POSIX; POSIX::setsid() }
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null');
    open(STDERR, '>', '/dev/null'); exec { $c[0] } @c; exit 127 }
  $p }
$SIG{PIPE} = 'IGNORE'; $SIG{HUP} = 'IGNORE'; $SIG{INT} = 'IGNORE';
$SIG{CHLD} = sub { }; # wakes select: the init is reaped (no zombie) the moment it ends
syscall($SP, 36, 1, 0, 0, 0) if $fk && $SP; # PR_SET_CHILD_SUBREAPER: the forked init becomes our child
my ($or, $ow, $er, $ew, $in, $ir, $iw, $rz);
sub fifo { my $p = shift; unlink $p;
  if ($SM) { syscall($SM, -100, $p, 0010600, 0) == 0 or die "mkfifo $p: $!" }
  else { require POSIX; POSIX::mkfifo($p, 0600) or die "mkfifo $p: $!" }
  sysopen(my $f, $p, 2 | 04000) or die "$p: $!"; $f } # O_RDWR | O_NONBLOCK
if ($inp ne '') {
  $in = fifo($inp);
  if ($tty) { $rz = fifo("$inp-size") } else { pipe($ir, $iw) or die "pipe: $!" }
}
if ($tty) {
  sysopen($or, '/dev/ptmx', 2 | 0400) or die "/dev/ptmx: $!"; # O_RDWR | O_NOCTTY
  my $z = pack('i', 0); ioctl($or, 0x40045431, $z) or die "TIOCSPTLCK: $!";
  my $n = pack('I', 0); ioctl($or, 0x80045430, $n) or die "TIOCGPTN: $!";
  $ENV{POD_TTY} = '/dev/pts/' . unpack('I', $n);
} else { pipe($or, $ow) or die "pipe: $!"; pipe($er, $ew) or die "pipe: $!" }
open(my $lf, '>>', $log) or die "$log: $!";
my $pid = fork(); defined $pid or die "fork: $!";
if ($pid == 0) {
  $SIG{$_} = 'DEFAULT' for qw(PIPE HUP INT);
  close $or; close $lf; close $in if $in; close $iw if $iw; close $rz if $rz; close $pr;
  if ($ir) { open(STDIN, '<&', $ir); close $ir } else { open(STDIN, '<', '/dev/null') }
  if ($tty) { open(STDOUT, '>', $ENV{POD_TTY}); open(STDERR, '>&', \*STDOUT) }
  else { close $er; open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew); close $ow; close $ew }
  if ($fk) { fileno($pw) == 4 or die "pid pipe is fd " . fileno($pw); fcntl($pw, 2, 0) } # F_SETFD: no cloexec
  exec { $cmd[0] } @cmd; print STDERR "$cmd[0]: $!\n"; exit 127;
}
close $pw;
if (!$tty) { close $ow; close $ew }
close $ir if $ir;
my $to = $in ? ($tty ? $or : $iw) : undef; my $pend = ''; # where input from the fifo goes, and what waits
my $rbuf = ''; # "<rows> <cols>" lines from the size fifo, applied to the pty with TIOCSWINSZ
syswrite(STDOUT, "$pid $$\n"); close STDOUT; open(STDOUT, '>', '/dev/null');
sub ts { my ($s, $ns) = now(); my @t = gmtime($s);
  sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%09d", $t[5]+1900, $t[4]+1, $t[3], $t[2], $t[1], $t[0], $ns) }
my %name = (fileno($or) => 'stdout'); my %fh = (fileno($or) => $or);
if (!$tty) { $name{fileno($er)} = 'stderr'; $fh{fileno($er)} = $er }
sub emit { my ($fd, $data) = @_; my $t = ts() . '+00:00'; my $s = $name{$fd}; my $out = '';
  while ($data =~ /\G([^\n]*)\n/gc) { $out .= "$t $s F $1\n" }
  my $rest = substr($data, pos($data) // 0); $out .= "$t $s P $rest\n" if length $rest;
  if ($lmax && -s $lf && (-s $lf) + length($out) > $lmax) { close $lf; rename($log, "$log.1");
    open($lf, '>>', $log) or die "$log: $!" }
  syswrite($lf, $out) }
my ($status, $cpid, %early); # the init's wait status; its pid when forked; children reaped before it was known
sub reap { my ($fl, $w) = @_; while (($w = waitpid(-1, $fl)) > 0) { my $st = $?;
  if ($w == $pid) { $pid = -1; my $l = '';
    if ($fk && sysread($pr, $l, 64) && $l =~ /^(\d+)/) { $cpid = $1; $status = delete $early{$cpid} }
    else { $status = $st } }
  elsif (defined $cpid && $w == $cpid) { $status = $st }
  elsif ($w == $hpid) { $hpid = 0 }
  elsif ($fk && !defined $cpid) { $early{$w} = $st }
  return if defined $status } }
while (%fh) {
  my $rin = ''; vec($rin, $_, 1) = 1 for keys %fh;
  my $win = '';
  if ($to && !defined $status) { if ($pend eq '') { vec($rin, fileno($in), 1) = 1 } else { vec($win, fileno($to), 1) = 1 } }
  vec($rin, fileno($rz), 1) = 1 if $rz && !defined $status;
  my $n = select(my $rout = $rin, my $wout = $win, undef, defined $status ? 0.05 : 0.25);
  if ($n > 0) { for my $fd (keys %fh) { next unless vec($rout, $fd, 1);
    my $r = sysread($fh{$fd}, my $data, 65536);
    if (!$r) { delete $fh{$fd}; next } emit($fd, $data) }
    if ($to && $pend eq '' && vec($rout, fileno($in), 1)) { sysread($in, $pend, 65536) }
    # at most 512 bytes once writable: never blocks (input backs up in the fifo instead)
    if ($to && $pend ne '' && vec($wout, fileno($to), 1)) { my $w = syswrite($to, $pend, 512);
      if (defined $w) { substr($pend, 0, $w) = '' } else { undef $to } }
    if ($rz && vec($rout, fileno($rz), 1) && sysread($rz, my $d, 512)) { $rbuf .= $d;
      while ($rbuf =~ s/^([^\n]*)\n//) { my $l = $1;
        ioctl($or, 0x5414, pack('S4', $1, $2, 0, 0)) if $l =~ /^(\d{1,5}) (\d{1,5})$/ }
      $rbuf = '' if length $rbuf > 64 } }
  if (!defined $status) { reap(1); timers() if !defined $status && defined &timers }
  elsif ($n == 0 || ($n < 0 && $! + 0 != 4)) { last } # a timeout (or an error but EINTR): drained
}
reap(0) if !defined $status;
my $code = ($status & 127) ? 128 + ($status & 127) : ($status >> 8);
system('timeout', '60', '/bin/sh', $nethook) if $nethook ne '' && -e $nethook;
my $tmp = "$exitp.tmp$$";
my ($oom, @cg) = ('', defined $cgroup ? split(/\n/, $cgroup) : ());
my $ev = shift @cg;
if ($ev && open(my $f, '<', $ev)) { local $/; my $t = <$f>; $oom = ',"oomKilled":true' if $t =~ /^oom_kill [1-9]/m }
# the cgroup goes before the exit record: a start right after it (restart) makes it anew, not before this rmdir
for (1..100) { @cg = grep { -d $_ && !rmdir($_) } @cg; last unless @cg; select(undef, undef, undef, 0.02) }
open(my $ef, '>', $tmp) or die;
print $ef '{"exitCode":' . $code . ',"finishedAt":"' . ts() . 'Z"' . $oom . "}\n";
close $ef; rename($tmp, $exitp);
if ($evp && open(my $vf, '>>', $evp)) { my $t = ts(); $t =~ s/0+$//; $t =~ s/\.$//; $t .= 'Z';
  my $x = $code ? "\"ContainerExitCode\":$code," : ''; my $l = '';
  $l .= "{$x$evh,\"Status\":\"$_\",\"Time\":\"$t\"$evt\n" for qw(died cleanup);
  syswrite($vf, $l); close $vf }
if ($inp ne '') { unlink $inp; unlink "$inp-size" if $tty }
spawn(@hook) if @hook;
`;

/**
 * The health check timer and the deadline (`--timeout`), added to {@link SUPERVISOR_PL} only when one is set:
 * a supervisor without them parses none of this.
 */
export const SUPERVISOR_TIMERS_PL = String.raw`
my ($dsec, @dcmd) = split /\x1f/, $dl; my $dat = $dsec ? fnow() + $dsec : 0;
my ($hint, @hcmd) = split /\x1f/, $hc; my $hnext = $hint ? fnow() + $hint : 0;
sub timers { my $t = fnow();
  if ($hint && !$hpid && $t >= $hnext) { $hpid = spawn(@hcmd); $hnext = $t + $hint }
  if ($dat && $t >= $dat) { spawn(@dcmd); $dat = 0 } }
`;

/** The supervisor's whole source: the syscall numbers, the timers when used, the core. */
export function supervisorSource(timers: boolean, arch: string = Deno.build.arch): string {
  const [sc, ss, sp, sm, cr] = supervisorSyscalls(arch);
  const head = `my ($SC, $SS, $SP, $SM, $CR) = (${sc}, ${ss}, ${sp}, ${sm}, ${cr});`;
  if (!timers) return head + SUPERVISOR_PL;
  // the timers' variables are set after the core's @ARGV line, before its loop runs
  const at = SUPERVISOR_PL.indexOf("\n$SIG{PIPE}");
  return head + SUPERVISOR_PL.slice(0, at) + SUPERVISOR_TIMERS_PL + SUPERVISOR_PL.slice(at);
}

/**
 * The command line that starts a supervisor for `command` (in a new session via util-linux `setsid`);
 * `tty`: the container gets a pty the supervisor keeps (podman's conmon does the same); `stdinFifo`: the
 * container's input comes through this fifo (made by the supervisor) for `pod attach`; `forks`: `command` forks
 * the container's init, reports its pid on fd 4 and exits (unshare.ts `reportPid`).
 */
export function supervisorCommand(
  logPath: string,
  exitPath: string,
  command: string[],
  tty = false,
  stdinFifo = "",
  extra: SupervisorExtras = {},
  forks = false,
): string[] {
  const hook = (extra.exitHook ?? []).join("\x1f");
  const health = extra.health ? [String(extra.health.seconds), ...extra.health.command].join("\x1f") : "";
  const deadline = extra.deadline
    ? [String(extra.deadline.seconds), ...extra.deadline.command].join("\x1f")
    : "";
  return [
    "setsid",
    "perl",
    "-e",
    supervisorSource(!!extra.health || !!extra.deadline),
    extra.logMaxSize ? `${logPath}\x1f${extra.logMaxSize}` : logPath,
    exitPath,
    tty ? "1" : "0",
    stdinFifo,
    hook,
    health,
    deadline,
    forks ? "1" : "0",
    ...command,
  ];
}

/** What the supervisor does besides logging: an exit hook, a health check timer. */
export interface SupervisorExtras {
  /** Started (in its own session) once the exit record is written. */
  exitHook?: string[];
  /** Started every `seconds` while the container runs (the next one only after the last ended). */
  health?: { seconds: number; command: string[] };
  /** Started once, `seconds` after the start, if the container still runs (`--timeout`: a kill). */
  deadline?: { seconds: number; command: string[] };
  /** `--log-opt max-size=` in bytes: the log is rotated (to `<log>.1`) before it would grow past it. */
  logMaxSize?: number;
}

/**
 * Where and what the supervisor appends when the command ends (`POD_EV_*` in its environment, removed before
 * the container's command runs): two lines (`died`, `cleanup`) of `{["ContainerExitCode":N,]<head>,"Status":…,
 * "Time":…<tail>` — lib/store/events.ts makes head and tail.
 */
export interface SupervisorEvents {
  /** The event log (appended with one write). */
  path: string;
  /** The JSON fields before `Status` (`"ID":…,"Image":…,"Name":…`). */
  head: string;
  /** The rest after `Time`, closing brace included (`,"Type":"container","Attributes":{…}}`). */
  tail: string;
}

/** The exit file the supervisor writes. */
export interface ExitRecord {
  exitCode: number;
  finishedAt: string;
  /** cgroups: the memory limit killed a process of the container. */
  oomKilled?: boolean;
}

/**
 * cgroups (issue 13): the supervisor's `POD_CGROUP`: the file whose `oom_kill N` says whether the memory limit
 * killed a process, then the cgroup's directories, removed once the container has ended.
 */
export function cgroupEnv(spec: CgroupSpec | undefined): Record<string, string> | undefined {
  if (!spec) return undefined;
  const mem = spec.version === 2
    ? `${spec.dirs.unified}/memory.events`
    : spec.dirs.memory
    ? `${spec.dirs.memory}/memory.oom_control`
    : "";
  return { POD_CGROUP: [mem, ...Object.values(spec.dirs)].join("\n") };
}
