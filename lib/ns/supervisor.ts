/**
 * The detached-container supervisor: a small perl program (no resident Deno per container) started in its
 * own session. It runs the container's `unshare` command with stdout/stderr on pipes, writes podman's
 * k8s-file log (`<RFC3339Nano> stdout F <line>`, `P` for a partial line) and, when the command ends,
 * the exit code and finish time atomically as JSON to the exit file (killed by signal N → 128+N; with
 * `POD_CGROUP`, whether the memory limit killed a process), then removes the container's cgroup.
 * It prints the command's pid and its own on its stdout first, then closes it.
 *
 * Cost per detached container (measured on Debian 12, perl 5.36): the perl supervisor ~6.3 MB VmRSS,
 * plus util-linux `unshare` (the pid namespace's parent) ~1.9 MB.
 * @module
 */

import type { CgroupSpec } from "./cgroup.ts";

/**
 * The perl source; argv: `<logPath> <exitPath> <tty 0|1> <stdin fifo or ""> <exit hook> <health> <deadline>
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
 */
export const SUPERVISOR_PL = String.raw`
use Time::HiRes qw(gettimeofday);
my ($log, $exitp, $tty, $inp, $hook, $hc, $dl, @cmd) = @ARGV;
my ($lmax); ($log, $lmax) = split /\x1f/, $log; $lmax //= 0; # --log-opt max-size: rotated to $log.1
my $cgroup = delete $ENV{POD_CGROUP}; # cgroups (issue 13): "<oom events file>\n<dir>\n…", see cgroupEnv
my ($evp, $evh, $evt) = delete @ENV{qw(POD_EV_PATH POD_EV_HEAD POD_EV_TAIL)};
my $nethook = delete $ENV{POD_EXIT_HOOK} // ''; # net (issue 12): network-cleanup.sh
my ($dsec, @dcmd) = split /\x1f/, $dl; my $dat = $dsec ? Time::HiRes::time() + $dsec : 0;
my @hook = split /\x1f/, $hook; my ($hint, @hcmd) = split /\x1f/, $hc; my $hpid = 0;
my $hnext = $hint ? Time::HiRes::time() + $hint : 0;
sub spawn { my @c = @_; my $p = fork(); return 0 unless defined $p;
  if ($p == 0) { require POSIX; POSIX::setsid(); open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null');
    open(STDERR, '>', '/dev/null'); exec { $c[0] } @c; POSIX::_exit(127) }
  $p }
$SIG{PIPE} = 'IGNORE'; $SIG{HUP} = 'IGNORE'; $SIG{INT} = 'IGNORE';
my ($or, $ow, $er, $ew, $in, $ir, $iw, $rz);
sub fifo { my $p = shift; unlink $p; POSIX::mkfifo($p, 0600) or die "mkfifo $p: $!";
  sysopen(my $f, $p, Fcntl::O_RDWR() | Fcntl::O_NONBLOCK()) or die "$p: $!"; $f }
if ($inp ne '') {
  require POSIX; require Fcntl;
  $in = fifo($inp);
  if ($tty) { $rz = fifo("$inp-size") } else { pipe($ir, $iw) or die "pipe: $!" }
}
if ($tty) {
  require Fcntl;
  sysopen($or, '/dev/ptmx', Fcntl::O_RDWR() | Fcntl::O_NOCTTY()) or die "/dev/ptmx: $!";
  my $z = pack('i', 0); ioctl($or, 0x40045431, $z) or die "TIOCSPTLCK: $!";
  my $n = pack('I', 0); ioctl($or, 0x80045430, $n) or die "TIOCGPTN: $!";
  $ENV{POD_TTY} = '/dev/pts/' . unpack('I', $n);
} else { pipe($or, $ow) or die "pipe: $!"; pipe($er, $ew) or die "pipe: $!" }
open(my $lf, '>>', $log) or die "$log: $!";
my $pid = fork(); defined $pid or die "fork: $!";
if ($pid == 0) {
  $SIG{$_} = 'DEFAULT' for qw(PIPE HUP INT);
  close $or; close $lf; close $in if $in; close $iw if $iw; close $rz if $rz;
  if ($ir) { open(STDIN, '<&', $ir); close $ir } else { open(STDIN, '<', '/dev/null') }
  if ($tty) { open(STDOUT, '>', $ENV{POD_TTY}); open(STDERR, '>&', \*STDOUT) }
  else { close $er; open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew); close $ow; close $ew }
  exec { $cmd[0] } @cmd; print STDERR "$cmd[0]: $!\n"; exit 127;
}
if (!$tty) { close $ow; close $ew }
close $ir if $ir;
my $to = $in ? ($tty ? $or : $iw) : undef; my $pend = ''; # where input from the fifo goes, and what waits
my $rbuf = ''; # "<rows> <cols>" lines from the size fifo, applied to the pty with TIOCSWINSZ
syswrite(STDOUT, "$pid $$\n"); close STDOUT; open(STDOUT, '>', '/dev/null');
sub ts { my ($s, $us) = gettimeofday(); my @t = gmtime($s);
  sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06d000", $t[5]+1900, $t[4]+1, $t[3], $t[2], $t[1], $t[0], $us) }
my %name = (fileno($or) => 'stdout'); my %fh = (fileno($or) => $or);
if (!$tty) { $name{fileno($er)} = 'stderr'; $fh{fileno($er)} = $er }
sub emit { my ($fd, $data) = @_; my $t = ts() . '+00:00'; my $s = $name{$fd}; my $out = '';
  while ($data =~ /\G([^\n]*)\n/gc) { $out .= "$t $s F $1\n" }
  my $rest = substr($data, pos($data) // 0); $out .= "$t $s P $rest\n" if length $rest;
  if ($lmax && -s $lf && (-s $lf) + length($out) > $lmax) { close $lf; rename($log, "$log.1");
    open($lf, '>>', $log) or die "$log: $!" }
  syswrite($lf, $out) }
my $status;
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
  if ($hpid && waitpid($hpid, 1) != 0) { $hpid = 0 }
  if ($hint && !defined $status && !$hpid && Time::HiRes::time() >= $hnext) {
    $hpid = spawn(@hcmd); $hnext = Time::HiRes::time() + $hint }
  if ($dat && !defined $status && Time::HiRes::time() >= $dat) { spawn(@dcmd); $dat = 0 }
  if (!defined $status) { $status = $? if waitpid($pid, 1) == $pid }
  elsif ($n <= 0) { last }
}
if (!defined $status) { waitpid($pid, 0); $status = $? }
my $code = ($status & 127) ? 128 + ($status & 127) : ($status >> 8);
system('timeout', '60', '/bin/sh', $nethook) if $nethook ne '' && -e $nethook;
my $tmp = "$exitp.tmp$$";
my ($oom, @cg) = ('', defined $cgroup ? split(/\n/, $cgroup) : ());
my $ev = shift @cg;
if ($ev && open(my $f, '<', $ev)) { local $/; my $t = <$f>; $oom = ',"oomKilled":true' if $t =~ /^oom_kill [1-9]/m }
open(my $ef, '>', $tmp) or die;
print $ef '{"exitCode":' . $code . ',"finishedAt":"' . ts() . 'Z"' . $oom . "}\n";
close $ef; rename($tmp, $exitp);
for (1..100) { @cg = grep { -d $_ && !rmdir($_) } @cg; last unless @cg; select(undef, undef, undef, 0.02) }
if ($evp && open(my $vf, '>>', $evp)) { my $t = ts(); $t =~ s/0+$//; $t =~ s/\.$//; $t .= 'Z';
  my $x = $code ? "\"ContainerExitCode\":$code," : ''; my $l = '';
  $l .= "{$x$evh,\"Status\":\"$_\",\"Time\":\"$t\"$evt\n" for qw(died cleanup);
  syswrite($vf, $l); close $vf }
if ($inp ne '') { unlink $inp; unlink "$inp-size" if $tty }
spawn(@hook) if @hook;
`;

/**
 * The command line that starts a supervisor for `command` (in a new session via util-linux `setsid`);
 * `tty`: the container gets a pty the supervisor keeps (podman's conmon does the same); `stdinFifo`: the
 * container's input comes through this fifo (made by the supervisor) for `pod attach`.
 */
export function supervisorCommand(
  logPath: string,
  exitPath: string,
  command: string[],
  tty = false,
  stdinFifo = "",
  extra: SupervisorExtras = {},
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
    SUPERVISOR_PL,
    extra.logMaxSize ? `${logPath}\x1f${extra.logMaxSize}` : logPath,
    exitPath,
    tty ? "1" : "0",
    stdinFifo,
    hook,
    health,
    deadline,
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
