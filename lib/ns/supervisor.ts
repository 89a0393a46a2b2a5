/**
 * The detached-container supervisor: a small perl program (no resident Deno per container) started in its
 * own session. It runs the container's `unshare` command with stdout/stderr on pipes, writes podman's
 * k8s-file log (`<RFC3339Nano> stdout F <line>`, `P` for a partial line) and, when the command ends,
 * the exit code and finish time atomically as JSON to the exit file (killed by signal N → 128+N).
 * It prints the command's pid and its own on its stdout first, then closes it.
 *
 * Cost per detached container (measured on Debian 12, perl 5.36): the perl supervisor ~6.3 MB VmRSS,
 * plus util-linux `unshare` (the pid namespace's parent) ~1.9 MB.
 * @module
 */

/**
 * The perl source; argv: `<logPath> <exitPath> <tty 0|1> <stdin fifo or ""> <command…>`. With a tty it opens
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
my ($log, $exitp, $tty, $inp, @cmd) = @ARGV;
my $hook = delete $ENV{POD_EXIT_HOOK} // '';
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
  if (!defined $status) { $status = $? if waitpid($pid, 1) == $pid }
  elsif ($n <= 0) { last }
}
if (!defined $status) { waitpid($pid, 0); $status = $? }
my $code = ($status & 127) ? 128 + ($status & 127) : ($status >> 8);
system('timeout', '60', '/bin/sh', $hook) if $hook ne '' && -e $hook;
my $tmp = "$exitp.tmp$$";
open(my $ef, '>', $tmp) or die; print $ef '{"exitCode":' . $code . ',"finishedAt":"' . ts() . 'Z"}' . "\n";
close $ef; rename($tmp, $exitp);
if ($inp ne '') { unlink $inp; unlink "$inp-size" if $tty }
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
): string[] {
  return ["setsid", "perl", "-e", SUPERVISOR_PL, logPath, exitPath, tty ? "1" : "0", stdinFifo, ...command];
}

/** The exit file the supervisor writes. */
export interface ExitRecord {
  exitCode: number;
  finishedAt: string;
}
