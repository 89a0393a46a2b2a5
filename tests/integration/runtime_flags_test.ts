/**
 * Issue 13's runtime flags, root and rootless: `--init` (catatonit as pid 1 at /run/podman-init: reaps orphans,
 * forwards the stop signal), `--device` (a node as root, a bind rootless), `--group-add` (gids, names,
 * `keep-groups` and its annotation), `--sysctl` (namespaced only), `--security-opt mask=/unmask=`,
 * `--read-only-tmpfs`, `--cidfile`/`--pidfile`/`--conmon-pidfile`, `--env-host`/`--env-merge`, `--tz`, `--timeout`,
 * and their inspect fields.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { inspectFormat as inspect, until } from "../helpers/poll.ts";
import { errorLine, isOneLineError, podCommand, type TempPodHome } from "../helpers/pod.ts";

const CATATONIT = ["/usr/libexec/podman/catatonit", "/usr/bin/catatonit"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!CATATONIT) {
  console.log("runtime_flags_test: catatonit missing (apt-get install catatonit): --init steps skipped");
}

/** `pod args` with the extra supplementary group 4242 given to pod itself (setpriv), captured. */
async function podWithGroup(h: TempPodHome, args: string[]): Promise<{ code: number; stdout: string }> {
  const c = await podCommand(args, { home: h.home, user: h.user?.name });
  let cmd: string, cargs: string[];
  if (c.cmd === "setpriv") {
    cmd = c.cmd;
    cargs = c.args.map((a) => a === "--init-groups" ? `--groups=${h.user!.gid},4242` : a);
  } else {
    cmd = "setpriv";
    cargs = ["--groups=0,4242", "--", c.cmd, ...c.args];
  }
  const out = await new Deno.Command(cmd, { args: cargs, env: c.env, clearEnv: true, cwd: c.cwd }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

await testRootAndRootless("runtime flags", (mode) =>
  busyboxSuite(mode, async ({ h, img }, t) => {
    await t.step({
      name: "--init: catatonit is pid 1, the command its child; orphans are reaped",
      ignore: !CATATONIT,
      fn: async () => {
        const r = await h.pod([
          "run",
          "--rm",
          "--init",
          img.ref,
          "sh",
          "-c",
          // an orphan (its parent sub-shell exits at once) is reparented to pid 1, which must reap it
          "(sleep 0.3 &); sleep 1; tr '\\0' ' ' < /proc/1/cmdline; echo; grep PPid /proc/$$/status; " +
          "cat /proc/[0-9]*/stat 2>/dev/null | grep -c ' Z ' || true",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const [cmdline, ppid, zombies] = r.stdout.trim().split("\n");
        assert.match(cmdline, /^\/run\/podman-init -- sh -c /);
        assert.match(ppid, /PPid:\s+1$/);
        assert.equal(zombies, "0");
        const ro = await h.pod(["run", "--rm", "--init", img.ref, "sh", "-c", "echo x > /run/podman-init"]);
        assert.notEqual(ro.code, 0, "the init binary is bound read-only");
      },
    });

    await t.step({
      name: "--init forwards the stop signal to the command; inspect HostConfig.Init",
      ignore: !CATATONIT,
      fn: async () => {
        const run = await h.pod([
          "run",
          "-d",
          "--name",
          "initsig",
          "--init",
          img.ref,
          "sh",
          "-c",
          "trap 'echo got-term; exit 7' TERM; echo ready; while true; do sleep 0.1; done",
        ]);
        assert.equal(run.code, 0, run.stderr);
        await until(
          "the trap is set",
          async () => (await h.pod(["logs", "initsig"])).stdout.includes("ready"),
        );
        assert.equal(await inspect(h, "initsig", "{{.HostConfig.Init}}"), "true");
        const stop = await h.pod(["stop", "-t", "20", "initsig"]);
        assert.equal(stop.code, 0, stop.stderr);
        assert.equal(await inspect(h, "initsig", "{{.State.ExitCode}}"), "7");
        assert.match((await h.pod(["logs", "initsig"])).stdout, /got-term/);
      },
    });

    await t.step("--init-path that does not exist: one line, 125", async () => {
      const r = await h.pod(["run", "--rm", "--init", "--init-path", "/nonexistent/init", img.ref, "true"]);
      assert.equal(r.code, 125);
      assert.ok(isOneLineError(r.stderr), r.stderr);
      assert.match(errorLine(r.stderr), /container-init binary not found on the host/);
    });

    await t.step(
      "--device: the host's node at the given path, usable; inspect HostConfig.Devices",
      async () => {
        // /dev/zero is already in the container's /dev (a bind of the host's): replaced, never written through
        const before = Deno.statSync("/dev/zero");
        const r = await h.pod([
          "run",
          "--name",
          "dev",
          "--device",
          "/dev/null:/dev/mynull:rw",
          "--device",
          "/dev/zero",
          img.ref,
          "sh",
          "-c",
          "test -c /dev/mynull && test -c /dev/zero && echo x > /dev/mynull && head -c 3 /dev/zero | wc -c && " +
          "stat -c '%t,%T' /dev/mynull",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), ["3", "1,3"]);
        const after = Deno.statSync("/dev/zero");
        assert.equal(after.mode, before.mode, "the host's /dev/zero keeps its mode");
        assert.equal(after.ctime?.getTime(), before.ctime?.getTime(), "the host's /dev/zero is untouched");
        const devs = JSON.parse(await inspect(h, "dev", "{{json .HostConfig.Devices}}"));
        assert.deepEqual(devs[0], {
          PathOnHost: "/dev/null",
          PathInContainer: "/dev/mynull",
          CgroupPermissions: "rw",
        });
        const bad = await h.pod(["run", "--rm", "--device", "/dev/nonexistent-dev", img.ref, "true"]);
        assert.equal(bad.code, 125);
        assert.equal(errorLine(bad.stderr), "Error: stat /dev/nonexistent-dev: no such file or directory");
      },
    );

    await t.step("--group-add: numeric gids join the process's groups; keep-groups alone", async () => {
      const r = await h.pod(["run", "--rm", "--group-add", "10", "--group-add", "4242", img.ref, "id", "-G"]);
      assert.equal(r.code, 0, r.stderr);
      const gids = r.stdout.trim().split(/\s+/);
      assert.ok(gids.includes("10") && gids.includes("4242"), r.stdout);
      const both = await h.pod([
        "run",
        "--rm",
        "--group-add",
        "keep-groups",
        "--group-add",
        "10",
        img.ref,
        "true",
      ]);
      assert.equal(both.code, 125);
      assert.match(errorLine(both.stderr), /'--group-add keep-groups' option is not allowed with any other/);
      const name = await h.pod(["run", "--rm", "--group-add", "nosuchgroup", img.ref, "true"]);
      assert.equal(name.code, 125);
      assert.match(errorLine(name.stderr), /unable to find group nosuchgroup/);
    });

    await t.step(
      "--group-add keep-groups (and run.oci.keep_original_groups=1) keep pod's own groups",
      async () => {
        // pod itself gets the supplementary group 4242; rootless it is not mapped: the container sees 65534
        const seen = mode === "root" ? "4242" : "65534";
        const groups = async (flags: string[]) => {
          const r = await podWithGroup(h, [
            "run",
            "--rm",
            ...flags,
            img.ref,
            "grep",
            "^Groups:",
            "/proc/self/status",
          ]);
          assert.equal(r.code, 0);
          return r.stdout.trim().split(/\s+/).slice(1);
        };
        assert.ok(!(await groups([])).includes(seen));
        assert.ok((await groups(["--group-add", "keep-groups"])).includes(seen));
        assert.ok((await groups(["--annotation", "run.oci.keep_original_groups=1"])).includes(seen));
      },
    );

    await t.step("--sysctl: namespaced ones set in the container, others refused as podman", async () => {
      const r = await h.pod([
        "run",
        "--name",
        "sysctl",
        "--sysctl",
        "net.ipv4.ip_unprivileged_port_start=99",
        "--sysctl",
        "kernel.shmmni=1234",
        img.ref,
        "cat",
        "/proc/sys/net/ipv4/ip_unprivileged_port_start",
        "/proc/sys/kernel/shmmni",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), ["99", "1234"]);
      assert.notEqual(
        Deno.readTextFileSync("/proc/sys/kernel/shmmni").trim(),
        "1234",
        "the host's is untouched",
      );
      assert.deepEqual(JSON.parse(await inspect(h, "sysctl", "{{json .HostConfig.Sysctls}}")), {
        "net.ipv4.ip_unprivileged_port_start": "99",
        "kernel.shmmni": "1234",
      });
      const bad = await h.pod(["run", "--rm", "--sysctl", "kernel.panic=1", img.ref, "true"]);
      assert.equal(bad.code, 125);
      assert.equal(errorLine(bad.stderr), "Error: sysctl 'kernel.panic' is not allowed");
      const hostNet = await h.pod([
        "run",
        "--rm",
        "--network",
        "host",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        img.ref,
        "true",
      ]);
      assert.equal(hostNet.code, 125);
      assert.match(errorLine(hostNet.stderr), /can't be set since Network Namespace set to host/);
    });

    await t.step("--security-opt mask=/unmask=: podman's lists, changed", async () => {
      const script = "cat /proc/keys >/dev/null 2>&1 && wc -c < /proc/keys | tr -d ' '; " +
        "wc -c < /etc/hostname | tr -d ' '; touch /proc/sys/x 2>&1 | grep -c Read-only; " +
        "grep -q ' /proc/keys ' /proc/self/mountinfo && echo keys-masked || echo keys-open";
      const def = await h.pod(["run", "--rm", img.ref, "sh", "-c", script]);
      assert.equal(def.code, 0, def.stderr);
      assert.match(def.stdout, /keys-masked/);
      const r = await h.pod([
        "run",
        "--rm",
        "--security-opt",
        "mask=/etc/hostname",
        "--security-opt",
        "unmask=/proc/key*",
        img.ref,
        "sh",
        "-c",
        script,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines[lines.length - 1], "keys-open");
      assert.ok(lines.includes("0"), `the masked /etc/hostname reads empty: ${r.stdout}`);
      const all = await h.pod(["run", "--rm", "--security-opt", "unmask=ALL", img.ref, "sh", "-c", script]);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /keys-open/);
    });

    await t.step("--cidfile, --pidfile, --conmon-pidfile", async () => {
      const [cid, pidf, cpf] = ["cid", "pid", "conmon.pid"].map((n) => `${h.root}/${n}`);
      const r = await h.pod([
        "run",
        "-d",
        "--name",
        "files",
        "--cidfile",
        cid,
        "--pidfile",
        pidf,
        "--conmon-pidfile",
        cpf,
        img.ref,
        "sleep",
        "1000",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(Deno.readTextFileSync(cid), r.stdout.trim());
      assert.equal(Deno.readTextFileSync(pidf), await inspect(h, "files", "{{.State.Pid}}"));
      assert.equal(Deno.readTextFileSync(cpf), await inspect(h, "files", "{{.State.ConmonPid}}"));
      assert.equal(await inspect(h, "files", "{{.PidFile}}"), pidf);
      const again = await h.pod(["run", "--rm", "--cidfile", cid, img.ref, "true"]);
      assert.equal(again.code, 125);
      assert.match(errorLine(again.stderr), /container id file exists/);
      await h.pod(["rm", "-f", "-t", "0", "files"]);
    });

    await t.step("--env-host, --env-merge, --tz", async () => {
      const host = await h.pod(["run", "--rm", "--env-host", img.ref, "sh", "-c", "echo $POD_MARK"], {
        env: { POD_MARK: "from-host" },
      });
      assert.equal(host.stdout, "from-host\n", host.stderr);
      const merged = await h.pod([
        "run",
        "--rm",
        "--env-merge",
        "PATH=/opt/bin:${PATH}",
        img.ref,
        "sh",
        "-c",
        "echo $PATH",
      ]);
      assert.match(merged.stdout, /^\/opt\/bin:\/usr\/local\/sbin:/, merged.stderr);
      const bad = await h.pod(["run", "--rm", "--tz", "No/Such_Zone", img.ref, "true"]);
      assert.equal(bad.code, 125);
      assert.equal(errorLine(bad.stderr), "Error: finding timezone: unknown time zone No/Such_Zone");
      let tokyo = false;
      try {
        tokyo = Deno.statSync("/usr/share/zoneinfo/Asia/Tokyo").isFile;
      } catch { /* no tzdata */ }
      if (!tokyo) {
        console.log(
          "runtime_flags_test: /usr/share/zoneinfo missing (apt-get install tzdata): --tz zone check skipped",
        );
        return;
      }
      const tz = await h.pod(["run", "--rm", "--tz", "Asia/Tokyo", img.ref, "date", "+%Z"]);
      assert.equal(tz.stdout, "JST\n", tz.stderr);
    });

    await t.step("--timeout: killed after N seconds (foreground and detached)", async () => {
      const fg = await h.pod(["run", "--rm", "--timeout", "1", img.ref, "sleep", "60"]);
      assert.equal(fg.code, 137, fg.stderr);
      const d = await h.pod(["run", "-d", "--name", "tmo", "--timeout", "1", img.ref, "sleep", "60"]);
      assert.equal(d.code, 0, d.stderr);
      await until("the timeout's kill", async () =>
        (await inspect(h, "tmo", "{{.State.Status}}")) === "exited");
      assert.equal(await inspect(h, "tmo", "{{.State.ExitCode}} {{.Config.Timeout}}"), "137 1");
    });

    await t.step("--read-only: tmpfs on /run, /tmp, /var/tmp unless --read-only-tmpfs=false", async () => {
      const mk = "mkdir -p /tmp /run /var/tmp 2>/dev/null; touch /run/a /tmp/a /var/tmp/a && echo writable";
      const r = await h.pod(["run", "--rm", "--read-only", img.ref, "sh", "-c", mk]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /writable/);
      const off = await h.pod([
        "run",
        "--rm",
        "--read-only",
        "--read-only-tmpfs=false",
        img.ref,
        "sh",
        "-c",
        mk,
      ]);
      assert.notEqual(off.code, 0);
      assert.doesNotMatch(off.stdout, /writable/);
    });
  }));
