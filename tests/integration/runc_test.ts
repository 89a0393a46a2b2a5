/**
 * `--runtime runc` end to end as root: create, start (runc's state lists it, the init is runc's child), exec,
 * logs, stop, rm (runc's state and every mount gone), a foreground run's exit code, 127 for a missing command,
 * podman's settings in the bundle (seccomp 2, masked paths, read-only root with its tmpfs, --init, --sysctl,
 * --device), a restart policy; rootless: a warning, and pod's own runtime runs it.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { inspectFormat as inspect, until } from "../helpers/poll.ts";
import { errorLine, type TempPodHome } from "../helpers/pod.ts";

const RUNC = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!RUNC) console.log("runc_test: runc missing (apt-get install runc): skipped");
/** conmon (issue 13): the supervisor of detached runc containers when installed; pod's perl one otherwise. */
const CONMON = (() => {
  try {
    return Deno.statSync("/usr/bin/conmon").isFile;
  } catch {
    return false;
  }
})();
if (RUNC && !CONMON) console.log("runc_test: conmon missing (apt-get install conmon): conmon steps skipped");

/** Whether `pid` is a live (not zombie) process. */
function alive(pid: string): boolean {
  try {
    return !/^\S+ \(.*\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** The parent of the container's init and its command line. */
function parentOf(pid: string): { ppid: string; cmd: string } {
  const ppid = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ")[1];
  return { ppid, cmd: Deno.readTextFileSync(`/proc/${ppid}/cmdline`) };
}

async function runcList(h: TempPodHome): Promise<string> {
  const out = await new Deno.Command(RUNC!, { args: ["--root", `${h.home}/runc`, "list", "-q"] }).output();
  return new TextDecoder().decode(out.stdout);
}

function mountsUnder(dir: string): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((l) => l.includes(dir));
}

if (RUNC) {
  await testRootAndRootless("runtime runc", (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      if (mode === "rootless") {
        await t.step("rootless: a warning, and pod's own runtime runs the container", async () => {
          const r = await h.pod(["run", "--rm", "--runtime", "runc", img.ref, "echo", "ran"]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "ran\n");
          assert.match(
            r.stderr,
            /--runtime runc: pod runs rootless and user-namespaced containers with its own/,
          );
        });
        return;
      }

      await t.step("create, start, exec, logs, stop, rm: runc runs it, nothing is left", async () => {
        const c = await h.pod([
          "create",
          "--name",
          "r1",
          "--runtime",
          "runc",
          img.ref,
          "sh",
          "-c",
          "echo started; trap 'echo term; exit 0' TERM; while true; do sleep 0.1; done",
        ]);
        assert.equal(c.code, 0, c.stderr);
        const id = c.stdout.trim();
        assert.equal((await h.pod(["start", "r1"])).code, 0);
        assert.equal(await inspect(h, "r1", "{{.OCIRuntime}} {{.State.Status}}"), "runc running");
        assert.match(await runcList(h), new RegExp(id));
        const pid = await inspect(h, "r1", "{{.State.Pid}}");
        const { ppid: parent, cmd } = parentOf(pid);
        // runc created it and exited: conmon (issue 13; else pod's supervisor) is the init's parent, nothing else
        assert.match(cmd, CONMON ? /^\/usr\/bin\/conmon\0/ : /^perl\0-e\0/);
        const kids = Deno.readTextFileSync(`/proc/${parent}/task/${parent}/children`).trim().split(" ");
        assert.deepEqual(kids, [pid]);
        const ex = await h.pod(["exec", "r1", "sh", "-c", "echo in-exec; grep Seccomp: /proc/self/status"]);
        assert.equal(ex.code, 0, ex.stderr);
        assert.match(ex.stdout, /in-exec\nSeccomp:\s+2/);
        await until("the log", async () => (await h.pod(["logs", "r1"])).stdout.includes("started"));
        assert.equal((await h.pod(["stop", "r1"])).code, 0);
        assert.equal(await inspect(h, "r1", "{{.State.Status}} {{.State.ExitCode}}"), "exited 0");
        assert.match((await h.pod(["logs", "r1"])).stdout, /started\nterm/);
        assert.equal((await h.pod(["rm", "r1"])).code, 0);
        assert.doesNotMatch(await runcList(h), new RegExp(id));
        assert.deepEqual(mountsUnder(h.home), []);
      });

      await t.step("foreground: the container's exit code; podman's settings in the bundle", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          "--runtime",
          "runc",
          "--init",
          "--read-only",
          "--sysctl",
          "kernel.shmmni=999",
          "--device",
          "/dev/null:/dev/xnull",
          img.ref,
          "sh",
          "-c",
          "grep Seccomp: /proc/self/status; cat /proc/sys/kernel/shmmni; echo x > /dev/xnull && echo dev; " +
          "head -c 9 /proc/1/cmdline; echo; touch /tmp/a && echo tmp; touch /a 2>/dev/null || echo ro; " +
          "grep -c ' /proc/keys ' /proc/self/mountinfo; exit 5",
        ]);
        assert.equal(r.code, 5, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.replace(/\s+/g, " ")), [
          "Seccomp: 2",
          "999",
          "dev",
          "/run/podm",
          "tmp",
          "ro",
          "1",
        ]);
        const nf = await h.pod(["run", "--rm", "--runtime", "runc", img.ref, "nosuchcmd"]);
        assert.equal(nf.code, 127);
        assert.match(errorLine(nf.stderr), /nosuchcmd: executable file not found/);
        assert.deepEqual(mountsUnder(h.home), []);
      });

      await t.step("--runtime PATH that does not exist: one line, 125", async () => {
        const r = await h.pod(["run", "--rm", "--runtime", "/nonexistent/runc", img.ref, "true"]);
        assert.equal(r.code, 125);
        assert.equal(
          errorLine(r.stderr),
          'Error: OCI runtime "/nonexistent/runc" not found: no such file or directory',
        );
      });

      await t.step("a restart policy under runc", async () => {
        const r = await h.pod([
          "run",
          "-d",
          "--name",
          "r2",
          "--runtime",
          "runc",
          "--restart",
          "on-failure:1",
          img.ref,
          "sh",
          "-c",
          "exit 4",
        ]);
        assert.equal(r.code, 0, r.stderr);
        await until("the restart", async () =>
          (await inspect(h, "r2", "{{.RestartCount}} {{.State.Status}} {{.State.Restarting}}")) ===
            "1 exited false");
        assert.equal(await inspect(h, "r2", "{{.State.ExitCode}}"), "4");
      });

      await t.step({
        name: "conmon supervises: exit codes, a kill, a restart policy, --conmon-pidfile",
        ignore: !CONMON,
        fn: async () => {
          const pidfile = `${h.home}/conmon.pid`;
          const r = await h.pod([
            "run",
            "-d",
            "--name",
            "c1",
            "--runtime",
            "runc",
            "--conmon-pidfile",
            pidfile,
            img.ref,
            "sh",
            "-c",
            "echo out; echo err >&2; read x < /dev/null; while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7",
          ]);
          assert.equal(r.code, 0, r.stderr);
          const { ppid, cmd } = parentOf(await inspect(h, "c1", "{{.State.Pid}}"));
          assert.match(cmd, /^\/usr\/bin\/conmon\0/);
          assert.equal(Deno.readTextFileSync(pidfile).trim(), ppid);
          assert.equal(await inspect(h, "c1", "{{.State.ConmonPid}}"), ppid);
          // it runs until let go (not a fixed time a loaded machine can outlast before the checks above)
          assert.equal((await h.pod(["exec", "c1", "touch", "/tmp/go"])).code, 0);
          assert.equal((await h.pod(["wait", "c1"])).stdout.trim(), "7");
          assert.equal(await inspect(h, "c1", "{{.State.Status}} {{.State.ExitCode}}"), "exited 7");
          assert.notEqual(await inspect(h, "c1", "{{.State.FinishedAt}}"), "0001-01-01 00:00:00 +0000 UTC");
          const logs = await h.pod(["logs", "c1"]);
          assert.equal(logs.stdout, "out\n");
          assert.equal(logs.stderr, "err\n");
          // started again: a new exit code, not the last one
          assert.equal((await h.pod(["start", "c1"])).code, 0);
          assert.equal((await h.pod(["wait", "c1"])).stdout.trim(), "7");
          assert.equal((await h.pod(["logs", "c1"])).stdout, "out\nout\n");
          // killed by a signal: 128+9, as podman
          assert.equal(
            (await h.pod(["run", "-d", "--name", "c2", "--runtime", "runc", img.ref, "sleep", "100"])).code,
            0,
          );
          assert.equal((await h.pod(["kill", "c2"])).code, 0);
          assert.equal((await h.pod(["wait", "c2"])).stdout.trim(), "137");
          // the restart policy through conmon's exit command
          const p = await h.pod([
            "run",
            "-d",
            "--name",
            "c3",
            "--runtime",
            "runc",
            "--restart",
            "on-failure:2",
            img.ref,
            "sh",
            "-c",
            "exit 3",
          ]);
          assert.equal(p.code, 0, p.stderr);
          await until("two restarts", async () =>
            (await inspect(h, "c3", "{{.RestartCount}} {{.State.Status}} {{.State.Restarting}}")) ===
              "2 exited false");
          assert.equal(await inspect(h, "c3", "{{.State.ExitCode}}"), "3");
          // --rm: gone once it ended
          const rm = await h.pod(["run", "-d", "--rm", "--name", "c4", "--runtime", "runc", img.ref, "true"]);
          assert.equal(rm.code, 0, rm.stderr);
          await h.pod(["wait", "c4"]);
          await until("c4 removed", async () =>
            !(await h.pod(["ps", "-a", "-q"])).stdout.includes(rm.stdout.trim()));
          assert.equal((await h.pod(["rm", "-f", "c1", "c2", "c3"])).code, 0);
          assert.deepEqual(mountsUnder(h.home), []);
        },
      });

      await t.step({
        name: "conmon: restart, and rm -f of a --restart always container leaves no process",
        ignore: !CONMON,
        fn: async () => {
          const r = await h.pod([
            "run",
            "-d",
            "--name",
            "c5",
            "--runtime",
            "runc",
            "--restart",
            "always",
            img.ref,
            "sleep",
            "1000",
          ]);
          assert.equal(r.code, 0, r.stderr);
          const id = r.stdout.trim();
          const first = parentOf(await inspect(h, "c5", "{{.State.Pid}}")).ppid;
          assert.equal((await h.pod(["restart", "-t", "0", "c5"])).code, 0);
          assert.equal(await inspect(h, "c5", "{{.State.Status}}"), "running");
          const second = parentOf(await inspect(h, "c5", "{{.State.Pid}}")).ppid;
          assert.notEqual(second, first); // a new conmon for the new start; the first one ended
          await until("the first conmon gone", () =>
            Promise.resolve(!alive(first)));
          assert.equal((await h.pod(["rm", "-f", "-t", "0", "c5"])).code, 0);
          await until("conmon gone", () =>
            Promise.resolve(!alive(second)));
          // the exit command (pod container cleanup) found no container: nothing restarted it
          await new Promise((res) =>
            setTimeout(res, 1500)
          );
          const left = new TextDecoder().decode(
            (await new Deno.Command("pgrep", { args: ["-f", id] }).output()).stdout,
          );
          assert.equal(left, "");
          assert.doesNotMatch(await runcList(h), new RegExp(id));
          assert.deepEqual(mountsUnder(h.home), []);
        },
      });

      await t.step("POD_SUPERVISOR=perl: pod's own supervisor, the same exit code", async () => {
        const env = { POD_SUPERVISOR: "perl" };
        const r = await h.pod([
          "run",
          "-d",
          "--name",
          "p1",
          "--runtime",
          "runc",
          img.ref,
          "sh",
          "-c",
          "sleep 1; exit 6",
        ], {
          env,
        });
        assert.equal(r.code, 0, r.stderr);
        const pid = await inspect(h, "p1", "{{.State.Pid}}");
        if (pid !== "0") {
          assert.match(parentOf(pid).cmd, /^perl\0-e\0/);
        }
        assert.equal((await h.pod(["wait", "p1"])).stdout.trim(), "6");
        assert.equal((await h.pod(["rm", "p1"])).code, 0);
      });
    }));
}
