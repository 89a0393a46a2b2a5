/**
 * `exec` with the container's security settings: `perl -e SCRIPT …`, one helper process (nsenter alone would
 * give the exec'd process every capability and no seccomp filter). Perl is single-threaded, so unlike Deno it
 * may `setns` into a user namespace; it is in perl-base (Essential in Debian) and is already the supervisor's
 * language. The program opens the container's namespaces and root (`/proc/PID/ns/*`, `/proc/PID/root`) while
 * still in the host's mount namespace, marks itself non-dumpable (the fork below inherits it, so no process of
 * the container can ptrace it or open its descriptors through `/proc` while it still holds the host's
 * capabilities), joins the user namespace first, then mnt, uts, ipc, net and pid, and forks (a process joins
 * a pid namespace only through its children). The parent waits and exits as the child did (killing itself
 * with the child's signal, as nsenter does); the child takes the container's root (`fchdir` to the root
 * opened before, `chroot .`) and does what stage 2 does before `execve`: bounding capabilities, seccomp filter
 * (the BPF program libseccomp made for the container, lib/container/seccomp.ts; before the ids change, or
 * last with no_new_privs), ids, ambient capabilities of a non-root user's `--cap-add`, no_new_privs, then
 * `exec` with execvp's PATH search in the container's PATH: podman's 127/126 message when it fails.
 *
 * Before, util-linux `nsenter` joined the user and pid namespaces, forked and exec'd perl: one exec (a dynamic
 * binary) more on every `pod exec`.
 *
 * Descriptors pod inherited beyond stdin, stdout and stderr are closed first (`close_range`), as runc does: a
 * caller's pipe or file must not reach into the container (but fds 3..3+N-1 with `--preserve-fds N`).
 *
 * The container's environment is passed as arguments, never as the helper's environment (an image's
 * `PERL5OPT`/`PERL5DB` would run code on the host before the namespaces are joined): perl runs with an empty
 * environment (but for `POD_CGROUP_PROCS`, the container's cgroup, opened first and joined by the process that runs
 * the command, after any fork; {@link helperEnv}) and sets
 * the command's.
 *
 * Perl's arguments: pid, namespaces to join (`user,mnt,…,pid`), syscall numbers, uid, gid, cwd, BPF file (or
 * empty), kept capabilities (numbers), ambient ones, no_new_privs (0/1), env count, env…, command….
 * @module
 */

import { PodError } from "../errors.ts";
import { CAPABILITY_NAMES } from "./spec.ts";

/** The security part of an exec: what stage 2 applies to the container's own process. */
export interface ExecSecurity {
  /** Bounding set (`CAP_` names). */
  capabilities: string[];
  /** Host path of the container's BPF filter; absent: unconfined. */
  seccomp?: string;
  /** `PR_SET_NO_NEW_PRIVS`. */
  noNewPrivileges?: boolean;
  /** A non-root user's `--cap-add` capabilities (`CAP_` names). */
  ambient?: string[];
  /** cgroups (issue 13): the container's `cgroup.procs` files, which the process joins (see {@link helperEnv}). */
  cgroupProcs?: string[];
  /** runtime3 (issue 13): `exec --preserve-fds N`: fds 3..3+N-1 are not closed (`POD_PRESERVE_FDS`). */
  preserveFds?: number;
  /** exec5 (issue 16): the compiled helper (exec_helper_c.ts) to run in place of perl, same arguments. */
  helper?: string;
}

/**
 * The helpers' environment: empty but for `POD_CGROUP_PROCS` (the container's cgroup.procs files, one a line),
 * which perl writes `0` to before it leaves the host's mount namespace, so the exec'd process counts against
 * the container's limits.
 */
export function helperEnv(sec: ExecSecurity | undefined): string[] {
  const env = sec?.cgroupProcs?.length ? [`POD_CGROUP_PROCS=${sec.cgroupProcs.join("\n")}`] : [];
  if (sec?.preserveFds) env.push(`POD_PRESERVE_FDS=${sec.preserveFds}`);
  return env;
}

/** setns, prctl, capset, setgroups, setresgid, setresuid. */
const SYSCALLS = Deno.build.arch === "aarch64" ? "268,167,91,159,149,147" : "308,157,126,116,119,117";

const SCRIPT = String.raw`
my ($pid, $nss, $nrs, $uid, $gid, $cwd, $bpf, $keep, $amb, $nnp, $nenv, @rest) = @ARGV;
my ($SETNS, $PRCTL, $CAPSET, $SETGROUPS, $SETRESGID, $SETRESUID) = map { $_ + 0 } split /,/, $nrs;
($uid, $gid, $nnp) = ($uid + 0, $gid + 0, $nnp + 0);
my @env = splice @rest, 0, $nenv;
my @cmd = @rest;
sub fail { print STDERR "Error: $_[0]\n"; exit($_[1] // 125) }
syscall($PRCTL, 4, 0, 0, 0, 0);
syscall(436, 3 + (($ENV{POD_PRESERVE_FDS} // 0) + 0), 0xffffffff, 0);
my @ns;
for my $n (split /,/, $nss) {
  open(my $f, '<', "/proc/$pid/ns/$n") or fail("exec: open /proc/$pid/ns/$n: $!");
  push @ns, [$n, $f];
}
opendir(my $root, "/proc/$pid/root") or fail("exec: open /proc/$pid/root: $!");
my @cg;
for my $p (grep { length } split /\n/, ($ENV{POD_CGROUP_PROCS} // '')) {
  sysopen(my $f, $p, 1) or fail("exec: cannot enter the container's cgroup ($p): $!");
  push @cg, [$p, $f];
}
my $prog = '';
if ($bpf ne '') {
  open(my $b, '<:raw', $bpf) or fail("exec: seccomp filter $bpf: $!");
  local $/;
  $prog = <$b>;
  close $b;
}
my $last = 40;
if (open(my $c, '<', '/proc/sys/kernel/cap_last_cap')) { $last = <$c> + 0 }
for (@ns) { syscall($SETNS, fileno($_->[1]), 0) == 0 or fail("exec: setns $_->[0]: $!"); close $_->[1] }
my $child = $nss =~ /\bpid\b/ ? fork : 0;
defined $child or fail("exec: fork: $!");
if ($child) {
  closedir $root;
  waitpid($child, 0);
  my $sig = $? & 127;
  if ($sig) { kill $sig, $$; exit(128 + $sig) }
  exit($? >> 8);
}
for (@cg) { syswrite($_->[1], '0') or fail("exec: cannot enter the container's cgroup ($_->[0]): $!"); close $_->[1] }
chdir($root) or fail("exec: fchdir: $!");
chroot('.') or fail("exec: chroot: $!");
closedir $root;
chdir($cwd) or fail("chdir to \`$cwd\`: No such file or directory", 126);
my %keep = map { $_ => 1 } split /,/, $keep;
for my $c (0 .. $last) {
  next if $keep{$c};
  syscall($PRCTL, 24, $c, 0, 0, 0) == 0 or $! == 22 or fail("exec: PR_CAPBSET_DROP $c: $!");
}
sub seccomp {
  my $fprog = pack('S x6 P' . length($prog), length($prog) / 8, $prog);
  syscall($PRCTL, 22, 2, $fprog, 0, 0) == 0 or fail("exec: seccomp: $!");
}
seccomp() if $prog ne '' && !$nnp;
my @amb = map { $_ + 0 } grep { length } split /,/, $amb;
@amb = () if $uid == 0;
if (@amb) { syscall($PRCTL, 8, 1, 0, 0, 0) == 0 or fail("exec: PR_SET_KEEPCAPS: $!") }
syscall($SETGROUPS, 0, 0);
syscall($SETRESGID, $gid, $gid, $gid) == 0 or fail("exec: setresgid $gid: $!");
syscall($SETRESUID, $uid, $uid, $uid) == 0 or fail("exec: setresuid $uid: $!");
if (@amb) {
  my @d = (0) x 6;
  for my $c (@amb) { my $i = ($c >> 5) * 3; my $bit = 1 << ($c & 31); $d[$i] |= $bit; $d[$i + 1] |= $bit; $d[$i + 2] |= $bit }
  my $hdr = pack('L L', 0x20080522, 0);
  my $data = pack('L6', @d);
  syscall($CAPSET, $hdr, $data) == 0 or fail("exec: capset: $!");
  for my $c (@amb) { syscall($PRCTL, 47, 2, $c, 0, 0) == 0 or fail("exec: PR_CAP_AMBIENT_RAISE $c: $!") }
}
if ($nnp) { syscall($PRCTL, 38, 1, 0, 0, 0) == 0 or fail("exec: PR_SET_NO_NEW_PRIVS: $!") }
seccomp() if $prog ne '' && $nnp;
%ENV = ();
for (@env) { my $i = index($_, '='); $ENV{$i < 0 ? $_ : substr($_, 0, $i)} = $i < 0 ? '' : substr($_, $i + 1) }
exec { $cmd[0] } @cmd;
my $c = $cmd[0];
fail("$c: permission denied: OCI permission denied", 126) if $! != 2;
fail($c =~ m{/} ? "$c: no such file or directory: OCI runtime attempted to invoke a command that was not found"
  : "$c: executable file not found in \$PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found", 127);
`;

function capNumbers(names: string[]): string {
  return names.map((n) => CAPABILITY_NAMES.indexOf(n.toUpperCase().replace(/^CAP_/, "")))
    .filter((n) => n >= 0).join(",");
}

/**
 * The command line (`perl -e SCRIPT …`, or `HELPER …` with `sec.helper`, the compiled one) that runs `p.args` with `p.env` in the container whose init is `pid`,
 * joining `namespaces` (`/proc/PID/ns` names; `user` is joined first and `pid` last, whatever their order here).
 * `perl` is the program's name as given (`posix_spawnp` finds it in PATH) unless `perlPath` is set.
 */
export function execHelperCommand(
  pid: number,
  namespaces: string[],
  p: { uid: number; gid: number; cwd: string; env: string[]; args: string[] },
  sec: ExecSecurity,
  perlPath = "perl",
): string[] {
  const order = ["user", "mnt", "uts", "ipc", "net", "cgroup", "time", "pid"];
  const ns = [...namespaces].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return [
    ...(sec.helper ? [sec.helper] : [perlPath, "-e", SCRIPT]),
    "--",
    String(pid),
    ns.join(","),
    SYSCALLS,
    String(p.uid),
    String(p.gid),
    p.cwd || "/",
    sec.seccomp ?? "",
    capNumbers(sec.capabilities),
    capNumbers(sec.ambient ?? []),
    sec.noNewPrivileges ? "1" : "0",
    String(p.env.length),
    ...p.env,
    ...p.args,
  ];
}

/** The one line naming what to install when perl is missing. */
export function perlMissing(): PodError {
  return new PodError(`perl not found: install perl ("apt-get install perl-base")`);
}
