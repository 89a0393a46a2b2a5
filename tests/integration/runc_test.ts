/**
 * `--runtime runc` end to end as root: create, start (runc's state lists it, the init is runc's child), exec,
 * logs, stop, rm (runc's state and every mount gone), a foreground run's exit code, 127 for a missing command,
 * podman's settings in the bundle (seccomp 2, masked paths, read-only root with its tmpfs, --init, --sysctl,
 * --device), a restart policy; rootless: a warning, and pod's own runtime runs it.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { errorLine, type TempPodHome } from "../helpers/pod.ts";

const RUNC = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!RUNC) console.log("runc_test: runc missing (apt-get install runc): skipped");

async function inspect(h: TempPodHome, name: string, format: string): Promise<string> {
  const r = await h.pod(["inspect", "--format", format, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function runcList(h: TempPodHome): Promise<string> {
  const out = await new Deno.Command(RUNC!, { args: ["--root", `${h.home}/runc`, "list", "-q"] }).output();
  return new TextDecoder().decode(out.stdout);
}

function mountsUnder(dir: string): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((l) => l.includes(dir));
}

async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for: ${what}`);
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
        const parent = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ")[1];
        // runc ran it and exited (`run --detach`): pod's supervisor is the init's parent, nothing else stays
        assert.match(Deno.readTextFileSync(`/proc/${parent}/cmdline`), /^perl\0-e\0/);
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
    }));
}
