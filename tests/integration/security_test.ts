/**
 * The runtime's security settings, root and rootless: podman's default seccomp filter (`Seccomp: 2`),
 * `seccomp=unconfined`/`--privileged` (0), a profile denying `mkdir` (EPERM), `--cap-add`/`--cap-drop`
 * in /proc/self/status, `no-new-privileges`, `--ulimit`, `--oom-score-adj`, and `--runtime` (distrobox's
 * `--runtime=crun`) accepted and shown by inspect.
 */
import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import type { TempPodHome } from "../helpers/pod.ts";

const seccompAvailable = (() => {
  try {
    Deno.dlopen("libseccomp.so.2", {}).close();
    return true;
  } catch {
    return false;
  }
})();
if (!seccompAvailable) {
  console.log("security_test: libseccomp.so.2 missing (apt-get install libseccomp2): skipped");
}

/** A line of the container's /proc/self/status, e.g. `Seccomp`. */
async function statusField(h: TempPodHome, field: string, flags: string[], ref: string): Promise<string> {
  const r = await h.pod(["run", "--rm", ...flags, ref, "grep", `^${field}:`, "/proc/self/status"]);
  assert.equal(r.code, 0, `${flags.join(" ")}: ${r.stderr}`);
  return r.stdout.trim().split(/\s+/)[1];
}

function capBits(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

const CAP_CHOWN = 1n << 0n, CAP_NET_RAW = 1n << 13n, CAP_SYS_ADMIN = 1n << 21n, CAP_SYS_TIME = 1n << 25n;

if (seccompAvailable) {
  await testRootAndRootless("security", (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      await t.step("default seccomp filter: Seccomp 2, unconfined and privileged 0", async () => {
        assert.equal(await statusField(h, "Seccomp", [], img.ref), "2");
        assert.equal(await statusField(h, "Seccomp", ["--security-opt", "seccomp=unconfined"], img.ref), "0");
        assert.equal(await statusField(h, "Seccomp", ["--privileged"], img.ref), "0");
      });

      await t.step("signals: none ignored or blocked in the container (stage 2's reset)", async () => {
        // Deno ignores SIGPIPE in stage 2; an ignore survives execve, so stage 2 must reset it
        assert.equal(await statusField(h, "SigIgn", [], img.ref), "0000000000000000");
        assert.equal(await statusField(h, "SigBlk", [], img.ref), "0000000000000000");
      });

      await t.step(
        "the default profile denies what podman's does: personality(ADDR_NO_RANDOMIZE)",
        async () => {
          // the host's util-linux setarch (busybox has none), with the host's libraries
          const setarch = [
            "-v",
            "/usr/bin/setarch:/setarch:ro",
            "-v",
            "/usr/lib:/lib:ro",
            "-v",
            "/usr/lib64:/lib64:ro",
          ];
          const cmd = [img.ref, "/setarch", Deno.build.arch, "-R", "true"];
          const r = await h.pod(["run", "--rm", ...setarch, ...cmd]);
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, /Function not implemented/); // the profile's defaultErrnoRet, ENOSYS
          const ok = await h.pod(["run", "--rm", "--security-opt", "seccomp=unconfined", ...setarch, ...cmd]);
          assert.equal(ok.code, 0, ok.stderr);
        },
      );

      await t.step("a profile denying mkdir makes mkdir fail with EPERM", async () => {
        const profile = `${h.root}/nomkdir.json`;
        await Deno.writeTextFile(
          profile,
          JSON.stringify({
            defaultAction: "SCMP_ACT_ALLOW",
            archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }, {
              architecture: "SCMP_ARCH_AARCH64",
              subArchitectures: [],
            }],
            syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
          }),
        );
        if (h.user) await Deno.chown(profile, h.user.uid, h.user.gid);
        const r = await h.pod([
          "run",
          "--rm",
          "--security-opt",
          `seccomp=${profile}`,
          img.ref,
          "mkdir",
          "/tmp/x",
        ]);
        assert.equal(r.code, 1);
        assert.match(r.stdout + r.stderr, /Operation not permitted/);
        const plain = await h.pod(["run", "--rm", img.ref, "mkdir", "/tmp/x"]);
        assert.equal(plain.code, 0, plain.stderr);
      });

      await t.step("--cap-add/--cap-drop in the bounding and effective sets", async () => {
        const def = capBits(await statusField(h, "CapBnd", [], img.ref));
        assert.equal(def & CAP_SYS_ADMIN, 0n);
        assert.notEqual(def & CAP_CHOWN, 0n);
        const eff = capBits(
          await statusField(h, "CapEff", ["--cap-add", "sys_time", "--cap-drop=CAP_CHOWN"], img.ref),
        );
        assert.notEqual(eff & CAP_SYS_TIME, 0n);
        assert.equal(eff & CAP_CHOWN, 0n);
        const none = capBits(
          await statusField(h, "CapBnd", ["--cap-drop", "ALL", "--cap-add", "NET_RAW"], img.ref),
        );
        assert.equal(none, CAP_NET_RAW);
        const bad = await h.pod(["run", "--rm", "--cap-add", "NOPE", img.ref, "true"]);
        assert.equal(bad.code, 125);
        assert.match(bad.stderr, /unknown capability "NOPE"/);
      });

      await t.step("--cap-add for a non-root user: ambient, effective", async () => {
        const eff = capBits(await statusField(h, "CapEff", ["-u", "1000", "--cap-add", "NET_RAW"], img.ref));
        assert.equal(eff, CAP_NET_RAW);
        const plain = capBits(await statusField(h, "CapEff", ["-u", "1000"], img.ref));
        assert.equal(plain, 0n);
      });

      await t.step("no-new-privileges", async () => {
        assert.equal(await statusField(h, "NoNewPrivs", [], img.ref), "0");
        assert.equal(
          await statusField(h, "NoNewPrivs", ["--security-opt", "no-new-privileges"], img.ref),
          "1",
        );
        assert.equal(
          await statusField(h, "Seccomp", ["--security-opt", "no-new-privileges=true"], img.ref),
          "2",
        );
      });

      await t.step("--ulimit and --oom-score-adj", async () => {
        const r = await h.pod([
          "run",
          "--rm",
          "--ulimit",
          "nofile=123:456",
          "--ulimit",
          "core=-1",
          "--oom-score-adj",
          "500",
          img.ref,
          "sh",
          "-c",
          "ulimit -Sn; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), ["123", "456", "unlimited", "500"]);
        const bad = await h.pod(["run", "--rm", "--ulimit", "nofile=9:1", img.ref, "true"]);
        assert.equal(bad.code, 125);
        assert.match(bad.stderr, /soft limit 9 is greater than hard limit 1/);
      });

      await t.step(
        "exec: the container's seccomp filter and capabilities; --privileged, --cap-add",
        async () => {
          const c = await h.pod([
            "run",
            "-d",
            "--name",
            "ex",
            "--cap-drop",
            "CHOWN",
            "--security-opt",
            "no-new-privileges",
            img.ref,
            "sleep",
            "1000",
          ]);
          assert.equal(c.code, 0, c.stderr);
          const field = async (f: string, flags: string[] = []) => {
            const r = await h.pod(["exec", ...flags, "ex", "grep", `^${f}:`, "/proc/self/status"]);
            assert.equal(r.code, 0, r.stderr);
            return r.stdout.trim().split(/\s+/)[1];
          };
          assert.equal(await field("Seccomp"), "2");
          assert.equal(await field("NoNewPrivs"), "1");
          const bnd = capBits(await field("CapBnd"));
          assert.equal(bnd & CAP_CHOWN, 0n);
          assert.equal(bnd & CAP_SYS_ADMIN, 0n);
          assert.notEqual(capBits(await field("CapEff", ["--privileged"])) & CAP_SYS_ADMIN, 0n);
          assert.notEqual(capBits(await field("CapEff", ["--cap-add", "SYS_TIME"])) & CAP_SYS_TIME, 0n);
          assert.equal(capBits(await field("CapEff", ["-u", "1000"])), 0n);
          const env = await h.pod(["exec", "-e", "X=y z", "ex", "sh", "-c", 'echo "$X"; exit 7']);
          assert.equal(env.code, 7);
          assert.equal(env.stdout, "y z\n");
          const missing = await h.pod(["exec", "ex", "no-such-command"]);
          assert.equal(missing.code, 127);
          assert.equal((await h.pod(["rm", "-f", "-t", "0", "ex"])).code, 0);
          // without no-new-privileges the filter is loaded before the ids change
          assert.equal((await h.pod(["run", "-d", "--name", "ex2", img.ref, "sleep", "1000"])).code, 0);
          const plain = await h.pod(["exec", "-u", "1000", "ex2", "grep", "^Seccomp:", "/proc/self/status"]);
          assert.match(plain.stdout, /Seccomp:\s+2/, plain.stderr);
          assert.equal((await h.pod(["rm", "-f", "-t", "0", "ex2"])).code, 0);
        },
      );

      await t.step(
        "distrobox 1.8's create line (--runtime=crun, --ulimit host, label/apparmor opts) works",
        async () => {
          const c = await h.pod([
            "create",
            "--hostname",
            "dbx",
            "--name",
            "dbx",
            "--privileged",
            "--security-opt",
            "label=disable",
            "--security-opt",
            "apparmor=unconfined",
            "--pids-limit=-1",
            "--user",
            "root:root",
            "--ipc",
            "host",
            "--network",
            "host",
            "--pid",
            "host",
            "--label",
            "manager=distrobox",
            "--env",
            "container=podman",
            ...(mode === "rootless" ? ["--userns", "keep-id"] : []),
            "--ulimit",
            "host",
            "--annotation",
            "run.oci.keep_original_groups=1",
            "--runtime=crun",
            "--entrypoint",
            "sleep",
            img.ref,
            "1000",
          ]);
          assert.equal(c.code, 0, c.stderr);
          const started = await h.pod(["start", "dbx"]);
          // as root crun really runs the container: on a host crun refuses (this VM's hybrid cgroups), its own
          // error comes back verbatim with exit 125
          const refusal = mode === "root" ? await crunRefusal() : undefined;
          if (refusal) {
            assert.equal(started.code, 125, started.stderr);
            assert.equal(started.stderr.trim(), `Error: crun: ${refusal}`);
            console.log(
              `crun refuses this host (${refusal}): the distrobox line's start checked for that error`,
            );
            assert.equal((await h.pod(["rm", "-f", "-t", "0", "dbx"])).code, 0);
            return;
          }
          assert.equal(started.code, 0, started.stderr);
          const e = await h.pod(["exec", "dbx", "sh", "-c", "echo in-$container"]);
          assert.equal(e.code, 0, e.stderr);
          assert.equal(e.stdout, "in-podman\n");
          assert.equal((await h.pod(["rm", "-f", "-t", "0", "dbx"])).code, 0);
        },
      );

      await t.step("--runtime=crun (distrobox) is accepted and recorded", async () => {
        const c = await h.pod(["create", "--runtime=crun", "--name", "rt", img.ref, "true"]);
        assert.equal(c.code, 0, c.stderr);
        const i = await h.pod(["inspect", "--format", "{{.OCIRuntime}}", "rt"]);
        assert.equal(i.stdout.trim(), "crun");
        const s = await h.pod([
          "create",
          "--name",
          "sec",
          "--cap-add",
          "net_admin",
          "--cap-drop",
          "chown",
          "--ulimit",
          "nofile=10:20",
          "--security-opt",
          "seccomp=unconfined",
          img.ref,
        ]);
        assert.equal(s.code, 0, s.stderr);
        const j = JSON.parse((await h.pod(["inspect", "sec"])).stdout)[0];
        assert.deepEqual(j.HostConfig.CapAdd, ["CAP_NET_ADMIN"]);
        assert.deepEqual(j.HostConfig.CapDrop, ["CAP_CHOWN"]);
        assert.deepEqual(j.HostConfig.SecurityOpt, ["seccomp=unconfined"]);
        assert.deepEqual(j.HostConfig.Ulimits, [{ Name: "RLIMIT_NOFILE", Soft: 10, Hard: 20 }]);
        assert.ok(j.BoundingCaps.includes("CAP_NET_ADMIN") && !j.BoundingCaps.includes("CAP_CHOWN"));
        const g = await h.pod(["--runtime", "/usr/bin/runc", "run", "--rm", img.ref, "echo", "ok"]);
        assert.equal(g.code, 0, g.stderr);
        assert.equal(g.stdout, "ok\n");
      });
    }));
}

/**
 * crun's own refusal of this host, from a minimal bundle it is asked to run (no pod involved), or undefined
 * when crun is missing or runs containers here.
 */
async function crunRefusal(): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "pod-test-crun-" });
  try {
    await Deno.mkdir(`${dir}/rootfs`);
    const spec = await new Deno.Command("crun", { args: ["spec", "--rootless"], cwd: dir }).output()
      .catch(() => undefined);
    if (!spec?.success) return undefined;
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    config.process.args = ["/nonexistent"];
    // as root, without a user namespace (what pod asks of crun)
    config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== "user");
    delete config.linux.uidMappings;
    delete config.linux.gidMappings;
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    const r = await new Deno.Command("crun", {
      args: ["--root", `${dir}/state`, "run", "--bundle", dir, `probe-${crypto.randomUUID().slice(0, 8)}`],
      stdin: "null",
    }).output();
    const err = new TextDecoder().decode(r.stderr).trim().split("\n").at(-1) ?? "";
    return /cgroup/.test(err) ? err.replace(/^crun: /, "") : undefined;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
