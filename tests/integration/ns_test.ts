/**
 * Real-namespace tests of lib/ns (root only): a busybox rootfs, run through launch() in a driver
 * subprocess (this file run with `--driver`), rootful and rootless (user `podtest`), detached, exec, stop.
 * @module
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { launch, type LaunchIO } from "../../lib/ns/launch.ts";
import { rootlessMaps } from "../../lib/ns/idmap.ts";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { lookupUser, rootlessAvailable, subIdRanges, TEST_USER } from "../helpers/rootless.ts";
import { execIn } from "../../lib/ns/exec.ts";
import { containerProcesses, stopContainer } from "../../lib/ns/signals.ts";
import type { LaunchSpec } from "../../lib/ns/spec.ts";

const SELF = new URL(import.meta.url).pathname;
const isRoot = Deno.uid() === 0;
const BUSYBOX = "/bin/busybox";
const hasBusybox = (() => {
  try {
    return Deno.statSync(BUSYBOX).isFile;
  } catch {
    return false;
  }
})();
const hasPodtest = await rootlessAvailable();

// Driver mode: launch the spec in the foreground or detached; exit with the container's code.
if (import.meta.main && Deno.args[0] === "--driver") {
  const spec = JSON.parse(Deno.readTextFileSync(Deno.args[1])) as LaunchSpec;
  const io = JSON.parse(Deno.args[2]) as LaunchIO;
  if (spec.namespaces.user && !spec.uidMap) Object.assign(spec, rootlessMaps());
  try {
    const r = await launch(spec, io, { onStarted: (pid) => console.error(`STARTED ${pid}`) });
    Deno.exit(r.exitCode ?? 0);
  } catch (e) {
    console.error(`Error: ${(e as Error).message}`);
    Deno.exit((e as { exitCode?: number }).exitCode ?? 125);
  }
}

async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** A busybox rootfs (via GNU tar, so ownership can be set): bin/ with applet symlinks, etc/passwd. */
async function makeRootfs(dir: string, owner?: string): Promise<string> {
  const src = `${dir}/src`;
  Deno.mkdirSync(`${src}/bin`, { recursive: true });
  Deno.mkdirSync(`${src}/etc`);
  Deno.copyFileSync(BUSYBOX, `${src}/bin/busybox`);
  const list = await new Deno.Command(BUSYBOX, { args: ["--list"], stdout: "piped" }).output();
  for (const name of new TextDecoder().decode(list.stdout).split("\n")) {
    if (name && name !== "busybox") Deno.symlinkSync("busybox", `${src}/bin/${name}`);
  }
  Deno.writeTextFileSync(
    `${src}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
  );
  Deno.writeTextFileSync(`${src}/etc/noexec.sh`, "#!/bin/sh\necho no\n", { mode: 0o644 });
  Deno.mkdirSync(`${src}/mnt/real`, { recursive: true });
  Deno.symlinkSync("/mnt/real", `${src}/vol`);
  const tar = `${dir}/rootfs.tar`;
  await sh("tar", ["-C", src, "-cf", tar, "."]);
  const root = `${dir}/rootfs`;
  Deno.mkdirSync(root);
  await sh("tar", ["-C", root, "-xf", tar, ...(owner ? ["--owner", owner, "--group", owner] : [])]);
  if (owner) await sh("chown", ["-R", `${owner}:${owner}`, dir]);
  Deno.removeSync(src, { recursive: true });
  return root;
}

function baseSpec(dir: string, root: string, args: string[], user = false): LaunchSpec {
  return {
    id: "t" + Math.random().toString(16).slice(2),
    rootfs: root,
    stateDir: `${dir}/state`,
    hostname: "nstest",
    namespaces: { user, pid: true, ipc: true, uts: true, net: true },
    mounts: [],
    etc: {},
    privileged: false,
    process: {
      args,
      env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
      cwd: "/",
      uid: 0,
      gid: 0,
      additionalGids: [],
      terminal: false,
    },
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function drive(
  spec: LaunchSpec,
  io: LaunchIO = { mode: "foreground", tty: false, stdin: false },
  asUser?: string,
) {
  Deno.mkdirSync(spec.stateDir, { recursive: true });
  const specPath = `${spec.stateDir}/../driver-spec.json`;
  Deno.writeTextFileSync(specPath, JSON.stringify(spec));
  const argv = [
    Deno.execPath(),
    "run",
    "-A",
    "-q",
    "--no-config",
    SELF,
    "--driver",
    specPath,
    JSON.stringify(io),
  ];
  const cmd = asUser
    ? new Deno.Command("runuser", {
      args: ["-u", asUser, "--", "env", `DENO_DIR=/tmp/${asUser}-deno`, `HOME=/tmp`, ...argv],
    })
    : new Deno.Command(argv[0], { args: argv.slice(1) });
  if (asUser) {
    Deno.mkdirSync(`/tmp/${asUser}-deno`, { recursive: true });
    await sh("chown", [asUser, `/tmp/${asUser}-deno`]);
    await sh("chown", ["-R", asUser, spec.stateDir, specPath]);
  }
  return { cmd, specPath, argv };
}

async function run(spec: LaunchSpec, asUser?: string): Promise<Run> {
  const { cmd } = await drive(spec, undefined, asUser);
  const out = await cmd.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const opts = { ignore: !isRoot || !hasBusybox, sanitizeResources: false, sanitizeOps: false };

Deno.test("ns: rootful foreground run", opts, async (t) => {
  const dir = Deno.makeTempDirSync({ prefix: "pod-ns-" });
  try {
    const root = await makeRootfs(dir);
    const spec = (args: string[]) => baseSpec(dir, root, args);
    await t.step("echo hi → 0", async () => {
      const r = await run(spec(["echo", "hi"]));
      equal(r.code, 0, r.stderr);
      equal(r.stdout, "hi\n");
      match(r.stderr, /STARTED \d+/);
    });
    await t.step("exit 3 → 3", async () => {
      equal((await run(spec(["sh", "-c", "exit 3"]))).code, 3);
    });
    await t.step("missing command → 127", async () => {
      const r = await run(spec(["nosuchcmd"]));
      equal(r.code, 127);
      match(r.stderr, /nosuchcmd: executable file not found in \$PATH/);
    });
    await t.step("non-executable file → 126", async () => {
      const r = await run(spec(["/etc/noexec.sh"]));
      equal(r.code, 126);
      match(r.stderr, /permission denied/);
    });
    await t.step("/proc/1/cmdline is the command; hostname; only the container's pids", async () => {
      const r = await run(
        spec(["sh", "-c", "cat /proc/1/cmdline; echo; hostname; ls /proc | grep -c '^[0-9]'"]),
      );
      equal(r.code, 0, r.stderr);
      const [cmdline, host, pids] = r.stdout.split("\n");
      ok(cmdline.startsWith("sh\0-c\0cat /proc/1/cmdline"), JSON.stringify(cmdline));
      equal(host, "nstest");
      ok(Number(pids) < 6, `pids: ${pids}`);
    });
    await t.step("ro bind is read-only; a symlinked target stays inside the rootfs", async () => {
      const vol = `${dir}/vol`;
      Deno.mkdirSync(vol);
      Deno.writeTextFileSync(`${vol}/f`, "data\n");
      const s = spec([
        "sh",
        "-c",
        "cat /data/f; touch /data/x && echo WRITABLE; echo v > /vol/w; cat /mnt/real/w",
      ]);
      s.mounts = [
        { type: "bind", source: vol, destination: "/data", readonly: true },
        { type: "bind", source: `${dir}/vol2`, destination: "/vol" },
      ];
      Deno.mkdirSync(`${dir}/vol2`);
      const r = await run(s);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, "data\nv\n");
      match(r.stderr, /Read-only file system/);
      equal(Deno.readTextFileSync(`${dir}/vol2/w`), "v\n");
      ok(!Deno.statSync(`${vol}`).isFile);
    });
    await t.step("masked and read-only /proc paths; /dev; tmpfs mount; /run created", async () => {
      Deno.writeTextFileSync(`${dir}/containerenv`, 'engine="pod"\n');
      const s = spec([
        "sh",
        "-c",
        "cat /proc/keys | wc -c; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo RO; " +
        "ls /dev/null /dev/pts/ptmx >/dev/null && echo DEV; cat /run/.containerenv; touch /scratch/a && echo TMPFS",
      ]);
      s.etc.containerEnv = `${dir}/containerenv`;
      s.mounts = [{ type: "tmpfs", destination: "/scratch", data: "size=1m" }];
      const r = await run(s);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, '0\nRO\nDEV\nengine="pod"\nTMPFS\n');
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ns: signals are forwarded in the foreground", opts, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pod-ns-" });
  try {
    const root = await makeRootfs(dir);
    const spec = baseSpec(dir, root, [
      "sh",
      "-c",
      'trap "exit 9" TERM; echo ready; while :; do sleep 0.05; done',
    ]);
    const { argv } = await drive(spec);
    const p = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = p.stdout.getReader();
    const first = await reader.read();
    equal(new TextDecoder().decode(first.value), "ready\n");
    p.kill("SIGTERM");
    reader.releaseLock();
    const status = await p.status;
    await p.stdout.cancel();
    await p.stderr.cancel();
    equal(status.code, 9);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ns: detached run, logs, exit file, exec, stop", opts, async (t) => {
  const dir = Deno.makeTempDirSync({ prefix: "pod-ns-" });
  try {
    const root = await makeRootfs(dir);
    const logPath = `${dir}/ctr.log`, exitPath = `${dir}/exit.json`;
    await t.step("log lines with timestamps and streams; exit code recorded", async () => {
      const spec = baseSpec(dir, root, ["sh", "-c", "echo out1; echo err1 >&2; printf part; exit 4"]);
      const r = await launch(spec, { mode: "detached", logPath, exitPath });
      ok(r.pid > 0);
      for (let i = 0; i < 200 && !exists(exitPath); i++) await sleep(20);
      const rec = JSON.parse(Deno.readTextFileSync(exitPath));
      equal(rec.exitCode, 4);
      ok(!Number.isNaN(Date.parse(rec.finishedAt.replace(/(\.\d{3})\d+/, "$1"))));
      const log = Deno.readTextFileSync(logPath).trim().split("\n");
      const ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}\\+00:00";
      ok(log.some((l) => new RegExp(`^${ts} stdout F out1$`).test(l)), log.join("\n"));
      ok(log.some((l) => new RegExp(`^${ts} stderr F err1$`).test(l)), log.join("\n"));
      ok(log.some((l) => new RegExp(`^${ts} stdout P part$`).test(l)), log.join("\n"));
    });
    await t.step("exec in a running container; stop ends by SIGKILL after the timeout", async () => {
      Deno.removeSync(exitPath);
      const spec = baseSpec(dir, root, ["sh", "-c", 'trap "" TERM; sleep 1000; :']);
      const { pid } = await launch(spec, { mode: "detached", logPath, exitPath });
      const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      ok(cmdline.startsWith("sh\0-c\0"), cmdline);
      equal(await execIn(pid, { ...execOpts, args: ["sh", "-c", "exit 6"] }), 6);
      await rejectsWith(execIn(pid, { ...execOpts, args: ["nosuchcmd"] }), 127);
      // sh and its sleep: not the sh outside the pid namespace that forked the init
      for (let i = 0; i < 100 && containerProcesses(pid).length < 2; i++) await sleep(10);
      const procs = containerProcesses(pid);
      equal(procs.length, 2, JSON.stringify(procs));
      const pidNs = Deno.readLinkSync(`/proc/${pid}/ns/pid`);
      for (const p of procs) equal(Deno.readLinkSync(`/proc/${p}/ns/pid`), pidNs);
      const t0 = Date.now();
      const res = await stopContainer(pid, { timeout: 1 });
      ok(res.killed);
      ok(Date.now() - t0 >= 1000);
      for (let i = 0; i < 200 && !exists(exitPath); i++) await sleep(20);
      equal(JSON.parse(Deno.readTextFileSync(exitPath)).exitCode, 137);
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ns: rootless run as podtest", { ...opts, ignore: opts.ignore || !hasPodtest }, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pod-ns-" });
  Deno.chmodSync(dir, 0o755);
  try {
    const root = await makeRootfs(dir, TEST_USER);
    const spec = baseSpec(
      dir,
      root,
      ["sh", "-c", "cat /proc/self/uid_map; id -u; touch /made && echo OK"],
      true,
    );
    const r = await run(spec, TEST_USER);
    equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    const uid = await idOf("-u", TEST_USER);
    // podman's layout: 0 → the user, 1.. → its /etc/subuid ranges in order (wherever they start)
    const maps = [`0 ${uid} 1`];
    let next = 1;
    for (const s of await subIdRanges()) {
      maps.push(`${next} ${s.start} ${s.count}`);
      next += s.count;
    }
    deepStrictEqual(lines, [...maps, "0", "OK"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function idOf(flag: "-u" | "-g", user: string): Promise<number> {
  const out = await new Deno.Command("id", { args: [flag, user], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

Deno.test("ns: rootless keep-id as podtest", { ...opts, ignore: opts.ignore || !hasPodtest }, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pod-ns-" });
  Deno.chmodSync(dir, 0o755);
  try {
    const root = await makeRootfs(dir, TEST_USER);
    const vol = `${dir}/vol`;
    Deno.mkdirSync(vol);
    await sh("chown", [`${TEST_USER}:${TEST_USER}`, vol]);
    const uid = await idOf("-u", TEST_USER), gid = await idOf("-g", TEST_USER);
    const spec = baseSpec(
      dir,
      root,
      [
        "sh",
        "-c",
        "id -u; id -g; wc -l < /proc/self/uid_map; grep CapEff /proc/self/status; touch /vol/made; " +
        "grep :${HOME}: /etc/passwd; echo $HOME",
      ],
      true,
    );
    Object.assign(spec, rootlessMaps({ keepId: true, uid, gid }));
    spec.mounts = [{ type: "bind", source: vol, destination: "/vol" }];
    spec.process = {
      ...spec.process!,
      uid,
      gid,
      additionalGids: [gid],
      env: ["PATH=/bin", "HOME=/home/podtest"],
      passwdEntry: `podtest:*:${uid}:${gid}::/home/podtest:/bin/sh`,
    };
    const r = await run(spec, TEST_USER);
    equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim());
    deepStrictEqual(lines, [
      String(uid),
      String(gid),
      "3", // 0..uid-1 → subuids, uid → uid, uid+1.. → subuids
      "CapEff:\t0000000000000000",
      `podtest:*:${uid}:${gid}::/home/podtest:/bin/sh`,
      "/home/podtest",
    ]);
    const st = Deno.statSync(`${vol}/made`);
    equal(st.uid, uid);
    equal(st.gid, gid);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ns: an init killed by SIGKILL from outside reports 137", opts, async (t) => {
  const dir = Deno.makeTempDirSync({ prefix: "pod-ns-" });
  Deno.chmodSync(dir, 0o755);
  try {
    const root = await makeRootfs(dir);
    await t.step("detached: exit file 137, no helper noise in the log", async () => {
      const logPath = `${dir}/ctr.log`, exitPath = `${dir}/exit.json`;
      const spec = baseSpec(dir, root, ["sh", "-c", "echo up; sleep 1000; :"]);
      const { pid } = await launch(spec, { mode: "detached", logPath, exitPath });
      for (let i = 0; i < 200 && !Deno.readTextFileSync(logPath).includes("up"); i++) await sleep(10);
      Deno.kill(pid, "SIGKILL");
      for (let i = 0; i < 200 && !exists(exitPath); i++) await sleep(20);
      equal(JSON.parse(Deno.readTextFileSync(exitPath)).exitCode, 137);
      const log = Deno.readTextFileSync(logPath);
      match(log, / stdout F up\n/);
      ok(!/unshare:|Killed/.test(log), log);
    });
    await t.step("foreground: 137, no unshare message", async () => {
      const spec = baseSpec(dir, root, ["sh", "-c", "sleep 1000; :"]);
      spec.stateDir = `${dir}/state-fg`;
      const { argv } = await drive(spec);
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let err = "";
      while (!/STARTED (\d+)/.test(err)) {
        const { value, done } = await reader.read();
        if (done) break;
        err += value;
      }
      const pid = Number(/STARTED (\d+)/.exec(err)![1]);
      for (let i = 0; i < 100 && cmdline(pid).startsWith("/"); i++) await sleep(10);
      Deno.kill(pid, "SIGKILL");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        err += value;
      }
      const status = await child.status;
      await child.stdout.cancel();
      equal(status.code, 137, err);
      ok(!/unshare:|Killed/.test(err), err);
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ns: detached with a terminal: the supervisor's pty, output logged", opts, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pod-ns-" });
  try {
    const root = await makeRootfs(dir);
    const logPath = `${dir}/ctr.log`, exitPath = `${dir}/exit.json`;
    const spec = baseSpec(dir, root, ["sh", "-c", "test -t 0 && test -t 1 && echo TTY; exit 5"]);
    spec.process!.terminal = true;
    await launch(spec, { mode: "detached", logPath, exitPath, tty: true });
    for (let i = 0; i < 200 && !exists(exitPath); i++) await sleep(20);
    equal(JSON.parse(Deno.readTextFileSync(exitPath)).exitCode, 5);
    match(Deno.readTextFileSync(logPath), / stdout F TTY\r\n/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return "";
  }
}

const execOpts = { env: ["PATH=/bin"], cwd: "/", uid: 0, gid: 0, tty: false, interactive: false };

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

async function rejectsWith(p: Promise<unknown>, code: number): Promise<void> {
  try {
    await p;
  } catch (e) {
    equal((e as { exitCode?: number }).exitCode, code);
    return;
  }
  throw new Error("expected a rejection");
}

Deno.test({
  name: "ns via the CLI as podtest: keep-id, SIGKILL → 137, top without helpers",
  ...opts,
  ignore: opts.ignore || !hasPodtest || !(await registryAvailable()),
  async fn(t) {
    const reg = await startRegistry();
    const h = await tempPodHome({ user: TEST_USER });
    const user = (await lookupUser(TEST_USER))!;
    try {
      const img = await busybox(reg);
      const pulled = await h.pod(["pull", "-q", img.ref]);
      equal(pulled.code, 0, pulled.stderr);
      const uid = user.uid;
      await t.step("--userns=keep-id: the user's uid inside, bind-dir files owned by the user", async () => {
        const vol = `${h.root}/vol`;
        Deno.mkdirSync(vol);
        await sh("chown", [TEST_USER, vol]);
        const r = await h.pod([
          "run",
          "--rm",
          "--userns=keep-id",
          "-v",
          `${vol}:/vol`,
          img.ref,
          "sh",
          "-c",
          "id -u; whoami; echo $HOME; touch /vol/made",
        ]);
        equal(r.code, 0, r.stderr);
        deepStrictEqual(r.stdout.trim().split("\n"), [String(uid), TEST_USER, user.home]);
        equal(Deno.statSync(`${vol}/made`).uid, uid);
      });
      await t.step(
        "kill -s KILL of a detached container: exit code 137, no unshare line in the log",
        async () => {
          const d = await h.pod([
            "run",
            "-d",
            "--name",
            "k9",
            img.ref,
            "sh",
            "-c",
            "echo up; sleep 1000; :",
          ]);
          equal(d.code, 0, d.stderr);
          const top = await h.pod(["top", "k9", "pid", "args"]);
          equal(top.code, 0, top.stderr);
          equal(top.stdout.trim().split("\n").length, 3, top.stdout); // header, sh, sleep
          const k = await h.pod(["kill", "-s", "KILL", "k9"]);
          equal(k.code, 0, k.stderr);
          let code = "";
          for (let i = 0; i < 100; i++) {
            code = (await h.pod(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "k9"]))
              .stdout.trim();
            if (code.startsWith("exited")) break;
            await sleep(50);
          }
          equal(code, "exited 137");
          const logs = await h.pod(["logs", "k9"]);
          equal(logs.stdout, "up\n");
          ok(!/unshare:|Killed/.test(logs.stdout + logs.stderr), logs.stdout + logs.stderr);
          equal((await h.pod(["rm", "k9"])).code, 0);
        },
      );
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});
