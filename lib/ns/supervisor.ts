/**
 * The detached-container supervisor: a small perl program (no resident Deno per container) started in its
 * own session. It runs the container's `unshare` command with stdout/stderr on pipes, writes podman's
 * k8s-file log (`<RFC3339Nano> stdout F <line>`, `P` for a partial line) and, when the command ends,
 * the exit code and finish time atomically as JSON to the exit file (killed by signal N → 128+N).
 * It prints the command's pid on its stdout first, then closes it.
 *
 * Cost per detached container (measured on Debian 12, perl 5.36): the perl supervisor ~6.3 MB VmRSS,
 * plus util-linux `unshare` (the pid namespace's parent) ~1.9 MB.
 * @module
 */

/**
 * The perl source; argv: `<logPath> <exitPath> <tty 0|1> <command…>`. With a tty it opens a pty master
 * (`/dev/ptmx`, unlocked with TIOCSPTLCK, numbered with TIOCGPTN; numeric ioctls, as `sys/ioctl.ph` may be
 * missing), logs what the container writes to it as stdout and passes the slave's path on in `POD_TTY`
 * (stage 2 makes it the container's controlling terminal).
 */
export const SUPERVISOR_PL = String.raw`
use Time::HiRes qw(gettimeofday);
my ($log, $exitp, $tty, @cmd) = @ARGV;
$SIG{PIPE} = 'IGNORE'; $SIG{HUP} = 'IGNORE'; $SIG{INT} = 'IGNORE';
my ($or, $ow, $er, $ew);
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
  close $or; close $lf;
  open(STDIN, '<', '/dev/null');
  if ($tty) { open(STDOUT, '>', $ENV{POD_TTY}); open(STDERR, '>&', \*STDOUT) }
  else { close $er; open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew); close $ow; close $ew }
  exec { $cmd[0] } @cmd; print STDERR "$cmd[0]: $!\n"; exit 127;
}
if (!$tty) { close $ow; close $ew }
syswrite(STDOUT, "$pid\n"); close STDOUT; open(STDOUT, '>', '/dev/null');
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
  my $n = select(my $rout = $rin, undef, undef, defined $status ? 0.05 : 0.25);
  if ($n > 0) { for my $fd (keys %fh) { next unless vec($rout, $fd, 1);
    my $r = sysread($fh{$fd}, my $data, 65536);
    if (!$r) { delete $fh{$fd}; next } emit($fd, $data) } }
  if (!defined $status) { $status = $? if waitpid($pid, 1) == $pid }
  elsif ($n <= 0) { last }
}
if (!defined $status) { waitpid($pid, 0); $status = $? }
my $code = ($status & 127) ? 128 + ($status & 127) : ($status >> 8);
my $tmp = "$exitp.tmp$$";
open(my $ef, '>', $tmp) or die; print $ef '{"exitCode":' . $code . ',"finishedAt":"' . ts() . 'Z"}' . "\n";
close $ef; rename($tmp, $exitp);
`;

/**
 * The command line that starts a supervisor for `command` (in a new session via util-linux `setsid`);
 * `tty`: the container gets a pty the supervisor keeps (podman's conmon does the same).
 */
export function supervisorCommand(
  logPath: string,
  exitPath: string,
  command: string[],
  tty = false,
): string[] {
  return ["setsid", "perl", "-e", SUPERVISOR_PL, logPath, exitPath, tty ? "1" : "0", ...command];
}

/** The exit file the supervisor writes. */
export interface ExitRecord {
  exitCode: number;
  finishedAt: string;
}
