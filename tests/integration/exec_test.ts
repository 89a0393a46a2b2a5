/**
 * `pod exec`, root and rootless, through the one helper process (lib/ns/exec_helper.ts; as root it is started
 * straight into the container's pid namespace, lib/ns/exec_spawn.ts): exit status and a signal's 128+n, podman's
 * one-line 127/126 errors reported by the helper after chroot, the container's namespaces and seccomp filter,
 * no descriptor of the caller beyond stdin/stdout/stderr, signals sent to pod reaching the process, and a
 * plain exec started from the start's plan (lib/container/exec_fast.ts) exactly as the full path starts it.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { errorLine, isOneLineError, podCommand, type TempPodHome } from "../helpers/pod.ts";

const NAMESPACES = ["pid", "mnt", "net", "uts", "ipc", "user"];

/** `pod exec` started under `sh` with descriptor 7 open on /dev/null (not close-on-exec), as a caller may leave one. */
async function execWithExtraFd(h: TempPodHome, args: string[]): Promise<{ code: number; stdout: string }> {
  const c = await podCommand(["exec", ...args], { home: h.home, user: h.user?.name });
  const o = await new Deno.Command("sh", {
    args: ["-c", 'exec 7</dev/null; exec "$@"', "sh", c.cmd, ...c.args],
    env: c.env,
    clearEnv: true,
    cwd: c.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: o.code, stdout: new TextDecoder().decode(o.stdout) };
}

await testRootAndRootless("exec", (mode) =>
  busyboxSuite(mode, async ({ h, img }, t) => {
    const up = await h.pod(["run", "-d", "--name", "c", img.ref, "sh", "-c", "sleep 100000"]);
    assert.equal(up.code, 0, up.stderr);

    await t.step("exit status, a signal's 128+n, 127/126 and a missing -w as one-line errors", async () => {
      const ok = await h.pod(["exec", "-e", "X=a b", "c", "sh", "-c", 'echo "$X"; exit 7']);
      assert.equal(ok.code, 7, ok.stderr);
      assert.equal(ok.stdout, "a b\n");
      const killed = await h.pod(["exec", "c", "sh", "-c", "kill -TERM $$"]);
      assert.equal(killed.code, 143, killed.stderr);
      const missing = await h.pod(["exec", "c", "no-such-command"]);
      assert.equal(missing.code, 127);
      assert.ok(isOneLineError(missing.stderr), missing.stderr);
      assert.match(errorLine(missing.stderr), /no-such-command: executable file not found in \$PATH/);
      const denied = await h.pod(["exec", "c", "/etc/passwd"]);
      assert.equal(denied.code, 126);
      assert.match(errorLine(denied.stderr), /\/etc\/passwd: permission denied/);
      const wd = await h.pod(["exec", "-w", "/no/such/dir", "c", "pwd"]);
      assert.equal(wd.code, 126);
      assert.match(errorLine(wd.stderr), /chdir to `\/no\/such\/dir`/);
      const here = await h.pod([
        "exec",
        "-w",
        "/etc",
        "-u",
        "1000:1000",
        "c",
        "sh",
        "-c",
        "pwd; id -u; id -g",
      ]);
      assert.equal(here.code, 0, here.stderr);
      assert.equal(here.stdout, "/etc\n1000\n1000\n");
    });

    await t.step(
      "the container's namespaces and seccomp filter; only stdin/stdout/stderr inherited",
      async () => {
        const links = NAMESPACES.map((n) => `$(readlink /proc/self/ns/${n}) $(readlink /proc/1/ns/${n})`);
        const r = await h.pod([
          "exec",
          "c",
          "sh",
          "-c",
          `for l in ${links.map((l) => `"${l}"`).join(" ")}; do echo $l; done`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.equal(lines.length, NAMESPACES.length, r.stdout);
        for (const [i, l] of lines.entries()) {
          const [self, init] = l.split(" ");
          assert.ok(self && self === init, `${NAMESPACES[i]}: ${l}`);
        }
        const seccomp = await h.pod(["exec", "c", "grep", "^Seccomp:", "/proc/self/status"]);
        assert.match(seccomp.stdout, /Seccomp:\s+2/, seccomp.stderr);
        // the first exec kept the filter's path (run/exec.json); with the filter cache emptied, it is built again
        await Deno.remove(`${h.home}/seccomp`, { recursive: true });
        const rebuilt = await h.pod(["exec", "c", "grep", "^Seccomp:", "/proc/self/status"]);
        assert.match(rebuilt.stdout, /Seccomp:\s+2/, rebuilt.stderr);
        const fds = await execWithExtraFd(h, [
          "c",
          "sh",
          "-c",
          "test -e /proc/self/fd/7 && echo fd7 || echo none",
        ]);
        assert.equal(fds.code, 0);
        assert.equal(fds.stdout, "none\n", "a descriptor of the caller reached the container");
      },
    );

    await t.step(
      "a plain exec runs from the start's plan: same process settings, a stale plan unused",
      async () => {
        const id = (await h.pod(["inspect", "--format", "{{.Id}}", "c"])).stdout.trim();
        const planFile = `${h.home}/containers/${id}/run/exec_plan.json`;
        await Deno.remove(planFile).catch(() => {});
        // what the process gets: ids, capabilities, no_new_privs, seccomp, cgroups, namespaces
        const probe = [
          "sh",
          "-c",
          "grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp[a-z_]*|Sig(Blk|Ign)):' /proc/self/status; " +
          "cat /proc/self/cgroup; readlink /proc/self/fd/0; " +
          `for n in ${NAMESPACES.join(" ")}; do readlink /proc/self/ns/$n; done; echo "$PATH $HOME"; pwd`,
        ];
        const planned = /exec: started from the plan/;
        // glibc's own signals 32 and 33 are ignored or not as pod itself was started (posix_spawn ignores them
        // in its child) and no program can change them: left out of the comparison; SIGPIPE must be default
        const sigIgn = (out: string) => {
          const m = out.match(/^SigIgn:\s+([0-9a-f]+)$/m);
          assert.ok(m, out);
          const ign = BigInt(`0x${m[1]}`);
          assert.equal(ign & (1n << 12n), 0n, "SIGPIPE is ignored in the exec'd process");
          return out.replace(m[0], `SigIgn: ${(ign & ~(3n << 31n)).toString(16)}`);
        };
        const first = await h.pod(["--log-level", "debug", "exec", "c", ...probe]);
        assert.equal(first.code, 0, first.stderr);
        assert.doesNotMatch(first.stderr, planned, "the first exec of a start has no plan yet");
        assert.match(first.stdout, /CapBnd:\s+[0-9a-f]+\n[^]*Seccomp:\s+2\n[^]*\d+:[^\n]*:\/[^]*mnt:\[\d+\]/);
        assert.ok((await Deno.stat(planFile)).isFile, "the first plain exec kept no plan");
        const second = await h.pod(["--log-level", "debug", "exec", "c", ...probe]);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stderr, planned);
        assert.equal(
          sigIgn(second.stdout),
          sigIgn(first.stdout),
          "the planned exec differs from the full one",
        );
        // the planned exec's exit codes and its exec/exec_died events, as the full path's
        const log = `${h.home}/events/events.log`;
        const lastEvents = async () =>
          (await Deno.readTextFile(log)).trim().split("\n").slice(-2).map((l) => JSON.parse(l));
        for (const [cmd, want] of [["exit 3", 3], ["kill -KILL $$", 137], ["exit 0", 0]] as const) {
          const r = await h.pod(["--log-level", "debug", "exec", "c", "sh", "-c", cmd]);
          assert.match(r.stderr, planned);
          assert.equal(r.code, want, r.stderr);
          const [ex, died] = await lastEvents();
          assert.deepEqual([ex.Status, ex.ID, died.Status, died.ID, died.Name], [
            "exec",
            id,
            "exec_died",
            id,
            "c",
          ]);
          assert.equal(died.ContainerExitCode, want || undefined);
          assert.match(died.Time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
          assert.ok(Date.parse(died.Time) >= Date.parse(ex.Time) - 1, `${ex.Time} ${died.Time}`);
        }
        // a full log is rotated first (as lib/store/events.ts does); --events-backend none writes nothing
        const before = (await Deno.readTextFile(log)).length;
        const small = await h.pod(["--log-level", "debug", "exec", "c", "true"], {
          env: { POD_EVENTS_MAX_SIZE: String(before) },
        });
        assert.match(small.stderr, planned);
        assert.ok((await Deno.stat(`${log}.1`)).size >= before, "the full log was not rotated");
        assert.deepEqual((await lastEvents()).map((e) => e.Status), ["exec", "exec_died"]);
        assert.equal((await Deno.readTextFile(log)).trim().split("\n").length, 2);
        const off = await h.pod(["--events-backend", "none", "--log-level", "debug", "exec", "c", "true"]);
        assert.match(off.stderr, planned);
        assert.equal((await Deno.readTextFile(log)).trim().split("\n").length, 2, "events written with none");
        // an option other than -i goes the full way, with the same settings
        const full = await h.pod(["--log-level", "debug", "exec", "-e", "X=1", "c", ...probe]);
        assert.doesNotMatch(full.stderr, planned);
        assert.equal(sigIgn(full.stdout), sigIgn(first.stdout));
        const fail = await h.pod(["exec", "c", "no-such-command"]);
        assert.equal(fail.code, 127);
        assert.match(errorLine(fail.stderr), /no-such-command: executable file not found in \$PATH/);
        // a plan made for another start of the container is not used (and the exec still works)
        const plan = JSON.parse(await Deno.readTextFile(planFile));
        await Deno.writeTextFile(planFile, JSON.stringify({ ...plan, pidStart: (plan.pidStart ?? 0) + 1 }));
        const stale = await h.pod(["--log-level", "debug", "exec", "c", ...probe]);
        assert.equal(stale.code, 0, stale.stderr);
        assert.doesNotMatch(stale.stderr, planned, "a stale plan was used");
        assert.equal(sigIgn(stale.stdout), sigIgn(first.stdout));
        // renamed: the plan's name is no longer the container's (events name it by its new name)
        const again = await h.pod(["--log-level", "debug", "exec", "c", "true"]);
        assert.match(again.stderr, planned, "the full path did not renew the plan");
        assert.equal((await h.pod(["rename", "c", "c2"])).code, 0);
        try {
          const renamed = await h.pod(["--log-level", "debug", "exec", "c2", "true"]);
          assert.equal(renamed.code, 0, renamed.stderr);
          assert.doesNotMatch(renamed.stderr, planned, "a plan under the old name was used");
          const events = await h.pod([
            "events",
            "--stream=false",
            "--filter",
            "event=exec_died",
            "--format",
            "{{.Name}}",
          ]);
          assert.equal(events.stdout.trim().split("\n").at(-1), "c2", events.stdout + events.stderr);
        } finally {
          assert.equal((await h.pod(["rename", "c2", "c"])).code, 0);
        }
      },
    );

    await t.step("SIGTERM to pod reaches the exec'd process (a planned exec)", async () => {
      assert.equal((await h.pod(["exec", "c", "true"])).code, 0); // makes the plan
      const p = await h.startPod([
        "--log-level",
        "debug",
        "exec",
        "c",
        "sh",
        "-c",
        // bounded: a signal that never arrives fails the step instead of leaving a shell behind
        'trap "echo got-term; exit 3" TERM; touch /tmp/exec-ready; i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
      ]);
      let ready = false;
      for (let i = 0; i < 600 && !ready; i++) {
        ready = (await h.pod(["exec", "c", "test", "-e", "/tmp/exec-ready"])).code === 0;
      }
      assert.ok(ready, "the exec'd shell never started");
      p.kill("SIGTERM");
      const r = await p.done;
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, "got-term\n");
      assert.match(r.stderr, /exec: started from the plan/);
    });
  }));
