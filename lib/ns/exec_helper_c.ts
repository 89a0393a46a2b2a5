/**
 * The exec helper in C: lib/ns/exec_helper.ts's perl program, the same arguments, steps, messages and exit
 * codes, built once per store with the host's C compiler (`cc`) into `<store>/helpers/exec-helper-<key>` (a
 * static binary when the C library allows it). Perl's start-up (loading and relocating libperl, compiling the
 * program: ~5 ms wall, 7–20 ms CPU on a 2-core VM) was most of what `pod exec` adds over Deno's own start;
 * this program starts in well under a millisecond (issue 16).
 *
 * Without a compiler (or when it fails, or the program cannot run from the store, e.g. a noexec mount: a marker
 * file `<key>.failed` keeps later execs from trying again),
 * or with `POD_EXEC_HELPER=perl`, exec keeps using perl. The key is a hash of the source and the architecture:
 * a changed program gets a new file. The binary is written to a temp name and renamed: concurrent first execs
 * each build one and the last rename wins, every one of them whole.
 * @module
 */

import { hostBinary } from "./helpers_check.ts";

/** The program (C99 with GNU extensions), argument for argument the perl one. */
export const EXEC_HELPER_C = String
  .raw`/* pod's exec helper: lib/ns/exec_helper.ts's perl program in C, with the same arguments and messages. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* handoff (POD_EXEC_HANDOFF=1): this process was pod exec itself; it forks the command and stays its parent */
static int handoff, ev_root = -1;
static const char *ev_head, *ev_tail;
static char ev_started[64];
static double ev_max = 1 << 20;
static volatile sig_atomic_t child_pid;

/* Go's RFC3339Nano of now, UTC, trailing zeros of the fraction cut */
static void rfc3339nano(char *out, size_t n) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
  for (size_t e = strlen(frac); e > 1 && frac[e - 1] == '0';) frac[--e] = 0;
  snprintf(out + k, n - k, "%sZ", frac[1] ? frac : "");
}

/* the exec and exec_died lines in one O_APPEND write, rotating a full log (store/events.ts appendEventLines) */
static void write_events(int code) {
  if (ev_root < 0) return;
  char now[64], cec[32] = "";
  rfc3339nano(now, sizeof now);
  if (code) snprintf(cec, sizeof cec, "\"ContainerExitCode\":%d,", code);
  char *buf = NULL;
  const int len = asprintf(&buf, "{%s,\"Status\":\"exec\",\"Time\":\"%s\"%s\n{%s%s,\"Status\":\"exec_died\",\"Time\":\"%s\"%s\n",
                           ev_head, ev_started, ev_tail, cec, ev_head, now, ev_tail);
  if (len < 0) return;
  const char *log = "events/events.log";
  for (int attempt = 0; attempt < 2; attempt++) {
    int f = openat(ev_root, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0) {
      if (errno != ENOENT || attempt || (mkdirat(ev_root, "events", 0700) != 0 && errno != EEXIST)) return;
      continue;
    }
    struct stat st, now_st;
    if (fstat(f, &st) == 0 && st.st_size > 0 && (double)st.st_size + len > ev_max) {
      if (fstatat(ev_root, log, &now_st, 0) == 0 && now_st.st_ino == st.st_ino) {
        renameat(ev_root, log, ev_root, "events/events.log.1");
      }
      close(f);
      if ((f = openat(ev_root, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) return;
    }
    if (write(f, buf, (size_t)len) < 0) {}
    close(f);
    return;
  }
}

static void fail(int code, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dprintf(2, "Error: %s\n", buf);
  if (handoff && !child_pid) write_events(code); /* the parent, before the command was forked */
  _exit(code);
}

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* whether the comma-separated list holds the word w */
static int in_list(const char *list, const char *w) {
  size_t n = strlen(w);
  for (const char *p = list;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && !strncmp(p, w, n)) return 1;
    if (!e) return 0;
    p = e + 1;
  }
}

/* the numbers of a comma-separated list (empty items skipped) */
static int numbers(const char *list, long *out, int max) {
  int n = 0;
  for (const char *p = list; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end != p && n < max) out[n++] = v;
    p = *end ? end + 1 : end;
  }
  return n;
}

struct fprog {
  unsigned short len;
  void *filter;
};

int main(int argc, char **argv) {
  if (argc < 14 || strcmp(argv[1], "--")) fail(125, "exec helper: bad arguments");
  const char *pid = argv[2], *nss = argv[3], *cwd = argv[7], *bpf = argv[8];
  long nr[6];
  if (numbers(argv[4], nr, 6) != 6) fail(125, "exec helper: bad syscall numbers");
  const long SETNS = nr[0], PRCTL = nr[1], CAPSET = nr[2], SETGROUPS = nr[3], SETRESGID = nr[4],
             SETRESUID = nr[5];
  const long uid = atol(argv[5]), gid = atol(argv[6]);
  const int nnp = atoi(argv[11]), nenv = atoi(argv[12]);
  if (nenv < 0 || 13 + nenv >= argc) fail(125, "exec helper: bad arguments");
  char **env = argv + 13, **cmd = argv + 13 + nenv;

  syscall(PRCTL, 4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0);
  const char *keepfds = getenv("POD_PRESERVE_FDS");
  syscall(436 /* close_range */, 3 + (keepfds ? atoi(keepfds) : 0), 0xffffffffu, 0);
  int devnull = -1;
  if ((handoff = getenv("POD_EXEC_HANDOFF") != NULL)) {
    /* opened on the host, before the namespaces change: the command's stdin and the store's event log */
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0 && devnull < 3) { /* pod started with stdin closed: keep it off 0-2 (dup2 to 0 later) */
      const int moved = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
      close(devnull);
      devnull = moved;
    }
    if (devnull < 0) fail(125, "exec: open /dev/null: %s", strerror(errno));
    const char *store = getenv("POD_EXEC_EVENTS_ROOT"), *max = getenv("POD_EVENTS_MAX_SIZE");
    ev_head = getenv("POD_EXEC_EVENT_HEAD"), ev_tail = getenv("POD_EXEC_EVENT_TAIL");
    if (max) {
      char *end;
      const double v = strtod(max, &end);
      if (end != max && !*end && v > 0) ev_max = v;
    }
    rfc3339nano(ev_started, sizeof ev_started);
    if (store && ev_head && ev_tail) ev_root = open(store, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }

  int nsfd[8], nns = 0;
  const char *nsname[8];
  char *names = strdup(nss);
  for (char *save = NULL, *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
    char path[256];
    snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, n);
    if (nns == 8) fail(125, "exec: too many namespaces");
    nsfd[nns] = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd[nns] < 0) fail(125, "exec: open %s: %s", path, strerror(errno));
    nsname[nns++] = n;
  }
  char rootpath[256];
  snprintf(rootpath, sizeof rootpath, "/proc/%s/root", pid);
  int root = open(rootpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(125, "exec: open %s: %s", rootpath, strerror(errno));
  /* the container's cgroups, opened here (host paths) and joined by the process that runs the command, after
     any fork: the waiting parent stays out of them, and a full pids limit cannot refuse that fork */
  const char *procs = getenv("POD_CGROUP_PROCS");
  int cgfd[16], ncg = 0;
  const char *cgname[16];
  if (procs) {
    char *copy = strdup(procs);
    for (char *save = NULL, *p = strtok_r(copy, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
      if (ncg == 16) fail(125, "exec: too many cgroups");
      cgfd[ncg] = open(p, O_WRONLY | O_CLOEXEC);
      if (cgfd[ncg] < 0) fail(125, "exec: cannot enter the container's cgroup (%s): %s", p, strerror(errno));
      cgname[ncg++] = p;
    }
  }
  char *prog = NULL;
  size_t proglen = 0;
  if (*bpf) {
    int b = open(bpf, O_RDONLY | O_CLOEXEC);
    if (b < 0) fail(125, "exec: seccomp filter %s: %s", bpf, strerror(errno));
    for (size_t cap = 0;;) {
      if (proglen == cap && !(prog = realloc(prog, cap = cap ? cap * 2 : 16384))) fail(125, "exec: out of memory");
      ssize_t r = read(b, prog + proglen, cap - proglen);
      if (r < 0) fail(125, "exec: seccomp filter %s: %s", bpf, strerror(errno));
      if (r == 0) break;
      proglen += (size_t)r;
    }
    close(b);
  }
  int last = 40;
  FILE *lc = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (lc) {
    if (fscanf(lc, "%d", &last) != 1) last = 0;
    fclose(lc);
  }
  for (int i = 0; i < nns; i++) {
    if (syscall(SETNS, nsfd[i], 0) != 0) fail(125, "exec: setns %s: %s", nsname[i], strerror(errno));
    close(nsfd[i]);
  }
  if (handoff) {
    /* the command in a child of its own, in a session of its own, stdin /dev/null, every signal default and
       unblocked (as posix_spawn gave the helper before); this process forwards signals, waits, logs, exits */
    sigset_t fwd, none;
    sigemptyset(&fwd);
    sigemptyset(&none);
    for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaddset(&fwd, FORWARDED[i]);
    sigprocmask(SIG_BLOCK, &fwd, NULL);
    pid_t child = fork();
    if (child < 0) fail(125, "exec: fork: %s", strerror(errno));
    if (child == 0) {
      struct sigaction dfl;
      memset(&dfl, 0, sizeof dfl);
      dfl.sa_handler = SIG_DFL;
      /* as posix_spawn left the helper: glibc's own 32 and 33 ignored (its sigaction refuses them: the
         kernel's struct is handler, flags, restorer, mask on x86_64 and aarch64), every other default */
      for (int sig = 1; sig < 65; sig++) {
        if (sig != 32 && sig != 33) {
          sigaction(sig, &dfl, NULL);
          continue;
        }
        unsigned long ign[4] = {(unsigned long)SIG_IGN, 0, 0, 0};
        syscall(SYS_rt_sigaction, sig, ign, NULL, 8);
      }
      sigprocmask(SIG_SETMASK, &none, NULL);
      handoff = 0;
      if (setsid() < 0 || dup2(devnull, 0) != 0) fail(125, "exec: setsid: %s", strerror(errno));
    } else {
      child_pid = child;
      close(root);
      struct sigaction fw;
      memset(&fw, 0, sizeof fw);
      fw.sa_handler = forward;
      fw.sa_flags = SA_RESTART;
      for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaction(FORWARDED[i], &fw, NULL);
      sigprocmask(SIG_SETMASK, &none, NULL);
      int st = 0;
      while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
      const int code = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
      write_events(code);
      _exit(code);
    }
  } else if (in_list(nss, "pid")) {
    pid_t child = fork();
    if (child < 0) fail(125, "exec: fork: %s", strerror(errno));
    if (child > 0) {
      close(root);
      int st = 0;
      while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
      if (WIFSIGNALED(st)) {
        kill(getpid(), WTERMSIG(st));
        _exit(128 + WTERMSIG(st));
      }
      _exit(WEXITSTATUS(st));
    }
  }
  for (int i = 0; i < ncg; i++) {
    if (write(cgfd[i], "0", 1) != 1) {
      fail(125, "exec: cannot enter the container's cgroup (%s): %s", cgname[i], strerror(errno));
    }
    close(cgfd[i]);
  }
  if (fchdir(root) != 0) fail(125, "exec: fchdir: %s", strerror(errno));
  if (chroot(".") != 0) fail(125, "exec: chroot: %s", strerror(errno));
  close(root);
  if (chdir(cwd) != 0) fail(126, "chdir to \x60%s\x60: No such file or directory", cwd);
  long keep[64];
  const int nkeep = numbers(argv[9], keep, 64);
  for (int c = 0; c <= last; c++) {
    int kept = 0;
    for (int i = 0; i < nkeep; i++) kept |= keep[i] == c;
    if (kept) continue;
    if (syscall(PRCTL, 24 /* PR_CAPBSET_DROP */, c, 0, 0, 0) != 0 && errno != EINVAL) {
      fail(125, "exec: PR_CAPBSET_DROP %d: %s", c, strerror(errno));
    }
  }
  struct fprog fp = {(unsigned short)(proglen / 8), prog};
  if (proglen && !nnp && syscall(PRCTL, 22 /* PR_SET_SECCOMP */, 2, &fp, 0, 0) != 0) {
    fail(125, "exec: seccomp: %s", strerror(errno));
  }
  long amb[64];
  const int namb = uid == 0 ? 0 : numbers(argv[10], amb, 64);
  if (namb && syscall(PRCTL, 8 /* PR_SET_KEEPCAPS */, 1, 0, 0, 0) != 0) {
    fail(125, "exec: PR_SET_KEEPCAPS: %s", strerror(errno));
  }
  syscall(SETGROUPS, 0, 0);
  if (syscall(SETRESGID, gid, gid, gid) != 0) fail(125, "exec: setresgid %ld: %s", gid, strerror(errno));
  if (syscall(SETRESUID, uid, uid, uid) != 0) fail(125, "exec: setresuid %ld: %s", uid, strerror(errno));
  if (namb) {
    unsigned int hdr[2] = {0x20080522, 0}, data[6] = {0};
    for (int i = 0; i < namb; i++) {
      if (amb[i] < 0 || amb[i] > 63) continue;
      const int at = (int)(amb[i] >> 5) * 3;
      const unsigned int bit = 1u << (amb[i] & 31);
      data[at] |= bit, data[at + 1] |= bit, data[at + 2] |= bit;
    }
    if (syscall(CAPSET, hdr, data) != 0) fail(125, "exec: capset: %s", strerror(errno));
    for (int i = 0; i < namb; i++) {
      if (syscall(PRCTL, 47 /* PR_CAP_AMBIENT */, 2 /* RAISE */, amb[i], 0, 0) != 0) {
        fail(125, "exec: PR_CAP_AMBIENT_RAISE %ld: %s", amb[i], strerror(errno));
      }
    }
  }
  if (nnp && syscall(PRCTL, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0) != 0) {
    fail(125, "exec: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  }
  if (proglen && nnp && syscall(PRCTL, 22 /* PR_SET_SECCOMP */, 2, &fp, 0, 0) != 0) {
    fail(125, "exec: seccomp: %s", strerror(errno));
  }
  /* the command's environment: KEY=value (a word without = is KEY=), the last of a key wins */
  char **envp = calloc((size_t)nenv + 1, sizeof *envp);
  int m = 0;
  for (int i = 0; i < nenv; i++) {
    const char *eq = strchr(env[i], '=');
    const size_t klen = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
    char *e = eq ? env[i] : NULL;
    if (!e && asprintf(&e, "%s=", env[i]) < 0) fail(125, "exec: out of memory");
    int j = 0;
    while (j < m && !(strncmp(envp[j], e, klen + 1) == 0)) j++;
    envp[j] = e;
    if (j == m) m++;
  }
  environ = envp;
  execvp(cmd[0], cmd);
  if (errno != ENOENT) fail(126, "%s: permission denied: OCI permission denied", cmd[0]);
  if (strchr(cmd[0], '/')) {
    fail(127, "%s: no such file or directory: OCI runtime attempted to invoke a command that was not found", cmd[0]);
  }
  fail(127, "%s: executable file not found in $PATH: No such file or directory: OCI runtime attempted to invoke a "
       "command that was not found", cmd[0]);
}
`;

async function cacheKey(): Promise<string> {
  const bytes = new TextEncoder().encode(`${Deno.build.arch}\n${EXEC_HELPER_C}`);
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function compile(cc: string, out: string, flags: string[]): Promise<boolean> {
  try {
    const p = new Deno.Command(cc, {
      args: ["-O2", ...flags, "-x", "c", "-o", out, "-"],
      stdin: "piped",
      stdout: "null",
      stderr: "null",
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C" },
      clearEnv: true,
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(EXEC_HELPER_C));
    await w.close();
    return (await p.status).success;
  } catch {
    return false;
  }
}

/**
 * The path of the compiled exec helper in `dir` (built now when missing), or undefined: use perl (no `cc`,
 * it failed before, or `POD_EXEC_HELPER=perl`).
 */
export async function execHelperBinary(dir: string): Promise<string | undefined> {
  const want = Deno.env.get("POD_EXEC_HELPER");
  if (want === "perl") return undefined;
  const file = `${dir}/exec-helper-${await cacheKey()}`;
  try {
    if (Deno.statSync(file).isFile) return file;
  } catch { /* not built yet */ }
  try {
    Deno.statSync(`${file}.failed`);
    return undefined;
  } catch { /* not tried yet */ }
  const cc = hostBinary("cc") ?? hostBinary("gcc");
  if (!cc) return undefined;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  try {
    if (!(await compile(cc, tmp, ["-static"])) && !(await compile(cc, tmp, []))) {
      await Deno.writeTextFile(`${file}.failed`, "").catch(() => {});
      return undefined;
    }
    await Deno.chmod(tmp, 0o755);
    // it must run from here (a store on a noexec mount cannot): without arguments it exits 125
    let probe: Deno.CommandOutput | undefined;
    try {
      probe = await new Deno.Command(tmp, { stdout: "null", stderr: "null", clearEnv: true }).output();
    } catch { /* cannot run: EACCES */ }
    if (probe?.code !== 125) {
      await Deno.writeTextFile(`${file}.failed`, "").catch(() => {});
      return undefined;
    }
    await Deno.rename(tmp, file);
    return file;
  } catch {
    return undefined;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
