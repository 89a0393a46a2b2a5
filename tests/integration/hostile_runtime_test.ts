/**
 * Runtime hostility: images and container processes that try to make pod mount onto, write into or read from
 * host paths, or to leave processes behind. Each case is contained: the container runs with its mounts inside
 * its root, or pod fails with one `Error: …` line and a podman-like exit code; the host's victim dirs are
 * unchanged afterwards. As root, and rootless as the test user where cheap.
 */
import assert from "node:assert/strict";
import { type Registry, registryAvailable, startRegistry } from "../helpers/registry.ts";
import { BUSYBOX_CONFIG, busyboxTree, customImage, tarTree, type TreeEntry } from "../helpers/fixtures.ts";
import { errorLine, isOneLineError, type PodResult, type TempPodHome, tempPodHome } from "../helpers/pod.ts";
import { rootlessAvailable, TEST_USER } from "../helpers/rootless.ts";

const hasRegistry = await registryAvailable();
const rootEnabled = Deno.uid() === 0 && hasRegistry;
const rootlessEnabled = hasRegistry && await rootlessAvailable();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A host dir the images point at: world-writable (so even a rootless escape could write), with a marker. */
async function makeVictim(): Promise<string> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "victim-" });
  await Deno.chmod(dir, 0o777);
  await Deno.writeTextFile(`${dir}/marker`, "untouched\n");
  // a passwd an image's /etc/passwd symlink would reach if the lookup followed it on the host
  await Deno.writeTextFile(`${dir}/passwd`, "someuser:x:4242:4242:someuser:/:/bin/sh\n");
  return dir;
}

/** Everything under `dir` (names, types, modes, sizes, file contents), to compare before and after. */
async function snapshot(dir: string): Promise<string> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    const names = [];
    for await (const e of Deno.readDir(d)) names.push(e.name);
    for (const n of names.sort()) {
      const p = `${d}/${n}`;
      const st = await Deno.lstat(p);
      const kind = st.isSymlink ? "l" : st.isDirectory ? "d" : "f";
      const body = st.isFile ? await Deno.readTextFile(p) : st.isSymlink ? await Deno.readLink(p) : "";
      out.push(`${kind} ${rel}${n} ${(st.mode ?? 0).toString(8)} ${st.size} ${JSON.stringify(body)}`);
      if (st.isDirectory) await walk(p, `${rel}${n}/`);
    }
  };
  const st = await Deno.lstat(dir);
  out.push(`root ${(st.mode ?? 0).toString(8)} ${st.isDirectory}`);
  await walk(dir, "");
  return out.join("\n");
}

/** Whether `dir` is a mount point in the host's mount namespace. */
async function isMountPoint(dir: string): Promise<boolean> {
  const info = await Deno.readTextFile("/proc/self/mountinfo");
  return info.split("\n").some((l) => l.split(" ")[4] === dir);
}

/** pod's one-line error contract with exit code `code` (a regexp for the message when given). */
function assertOneLineError(r: PodResult, code: number | number[], re?: RegExp): void {
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(r.code), `exit ${r.code} (want ${codes}); stderr: ${r.stderr}`);
  assert.ok(isOneLineError(r.stderr), `not a one-line error: ${r.stderr}`);
  assert.ok(!/^\s+at /m.test(r.stderr) && !/TypeError|RangeError|Uncaught/.test(r.stderr), r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  if (re) assert.match(errorLine(r.stderr), re);
}

/** A busybox image with `changes` applied to its tree (a `null` value removes an entry). */
async function hostileImage(
  reg: Registry,
  repo: string,
  changes: Record<string, TreeEntry | null>,
  config: Record<string, unknown> = {},
): Promise<string> {
  const { tree, owners } = await busyboxTree();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete tree[k];
    else tree[k] = v;
  }
  const img = await customImage(reg, {
    repo,
    layers: [{ tar: await tarTree(tree, owners) }],
    config: { ...BUSYBOX_CONFIG, ...config },
  });
  return img.ref;
}

/** The hostile images, pointing at `victim`. */
async function buildImages(reg: Registry, victim: string) {
  const links: Record<string, string> = {};
  for (const dir of ["proc", "dev", "sys"]) {
    links[`${dir}-root`] = await hostileImage(reg, `test/hostile-${dir}-root`, { [dir]: { symlink: "/" } });
    links[`${dir}-victim`] = await hostileImage(reg, `test/hostile-${dir}-victim`, {
      [dir]: { symlink: victim },
    });
    links[`${dir}-dotdot`] = await hostileImage(reg, `test/hostile-${dir}-dotdot`, {
      [dir]: { symlink: `../../../../../../..${victim}` },
    });
  }
  const images = {
    links,
    workdir: await hostileImage(reg, "test/hostile-workdir", {
      "escape": { symlink: `../../../../../../..${victim}/wd` },
    }, { WorkingDir: "../../.." }),
    passwdShadow: await hostileImage(reg, "test/hostile-passwd-shadow", {
      "etc/passwd": { symlink: "/etc/shadow" },
    }),
    passwdVictim: await hostileImage(reg, "test/hostile-passwd-victim", {
      "etc/passwd": { symlink: `../../../../..${victim}/passwd` },
    }),
    etcVictim: await hostileImage(reg, "test/hostile-etc-victim", {
      "etc": { symlink: victim },
      "etc/passwd": null,
      "etc/group": null,
      "etc/hostname": null,
    }),
    userMax: await hostileImage(reg, "test/hostile-user-max", {}, { User: "4294967295" }),
    plain: await hostileImage(reg, "test/hostile-plain", {}),
  };
  return images;
}

/** Pulls every image quietly (so a run's stderr holds only what the run itself says). */
async function pullAll(h: TempPodHome, img: Images): Promise<void> {
  const refs = Object.values(img).flatMap((v) => typeof v === "string" ? [v] : Object.values(v));
  const r = await h.pod(["pull", "-q", ...refs]);
  assert.equal(r.code, 0, r.stderr);
}

type Images = Awaited<ReturnType<typeof buildImages>>;

/** Host pids whose command line is `sleep <n>` for one of `ns`. */
function sleepers(ns: number[]): number[] {
  const want = new Set(ns.map((n) => `sleep\0${n}\0`));
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      if (want.has(cmd) || [...want].some((w) => cmd.endsWith(`/${w}`))) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(50);
  }
  return cond();
}

let sleepSeq = 100000 + Math.floor(Math.random() * 800000);

/** Runs a container that leaves children behind, ends it with `how`, and checks every one of them is gone. */
async function leftovers(
  h: TempPodHome,
  img: string,
  opts: { how: "stop" | "rm"; pidHost?: boolean; variant: "plain" | "ignore-term" | "init-exits" },
): Promise<void> {
  const [n1, n2, n3] = [sleepSeq++, sleepSeq++, sleepSeq++];
  const script = opts.variant === "plain"
    ? `setsid sleep ${n1} & (sleep ${n2} &) ; sleep ${n3}`
    : opts.variant === "ignore-term"
    ? `trap '' TERM; setsid sleep ${n1} & (sleep ${n2} &) ; sleep ${n3}`
    : `(trap '' TERM; setsid sleep ${n1} &); (trap '' TERM; sleep ${n2} &); trap 'exit 0' TERM; sleep ${n3} & wait`;
  const name = `left-${n1}`;
  const run = await h.pod([
    "run",
    "-d",
    "--name",
    name,
    ...(opts.pidHost ? ["--pid", "host"] : []),
    img,
    "sh",
    "-c",
    script,
  ]);
  assert.equal(run.code, 0, run.stderr);
  try {
    assert.ok(await waitFor(() => sleepers([n1, n2, n3]).length === 3, 10_000), "the 3 sleeps did not start");
    const before = sleepers([n1, n2, n3]);
    const r = opts.how === "stop"
      ? await h.pod(["stop", "-t", "1", name])
      : await h.pod(["rm", "-f", "-t", "0", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!/^\s+at /m.test(r.stderr), r.stderr);
    const gone = await waitFor(() => sleepers([n1, n2, n3]).length === 0, 5000);
    assert.ok(gone, `${JSON.stringify(opts)}: left behind ${sleepers([n1, n2, n3])} (were ${before})`);
    if (opts.how === "stop") {
      const st = await h.pod(["inspect", "--format", "{{.State.Status}}", name]);
      assert.equal(st.stdout.trim(), "exited", st.stderr);
    }
  } finally {
    await h.pod(["rm", "-f", "-t", "0", name]);
    for (const p of sleepers([n1, n2, n3])) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
  }
}

/** The cases shared by root and rootless. */
async function hostileCases(t: Deno.TestContext, h: TempPodHome, img: Images, victim: string, root: boolean) {
  const before = await snapshot(victim);
  const untouched = async () => {
    assert.equal(await snapshot(victim), before, "the victim dir changed");
    assert.ok(!await isMountPoint(victim), "something is mounted on the victim dir");
  };

  await t.step("1. /proc, /dev, /sys symlinks to / and to a host path", async () => {
    for (const [what, ref] of Object.entries(img.links)) {
      const dir = what.split("-")[0];
      const args = ["run", "--rm", ref, "sh", "-c", `echo in > /${dir}/pod-was-here; cat /proc/self/stat`];
      const r = await h.pod(args);
      assertOneLineError(r, 125, new RegExp(`/${dir}`));
      await untouched();
      if (root && dir === "dev") {
        // privileged binds the host's /dev: still never through the image's symlink
        const p = await h.pod(["run", "--rm", "--privileged", ref, "true"]);
        assertOneLineError(p, 125, /\/dev/);
        await untouched();
      }
    }
  });

  await t.step("2. WorkingDir ../../.., -w ../../x, -w /../../x, -w through a symlink", async () => {
    const r = await h.pod(["run", "--rm", img.workdir, "pwd"]);
    assertOneLineError(r, [125, 126], /workdir|\.\.\/\.\.\/\.\./);
    const w = await h.pod(["run", "--rm", "-w", "../../x", img.plain, "pwd"]);
    assertOneLineError(w, [125, 126], /workdir|\.\.\/\.\.\/x/);
    const name = `pod-hostile-wd-${sleepSeq++}`;
    const abs = await h.pod(["run", "--rm", "-w", `/../../${name}`, img.plain, "pwd"]);
    assert.equal(abs.code, 0, abs.stderr);
    assert.equal(abs.stdout, `/${name}\n`);
    await assert.rejects(Deno.lstat(`/${name}`), Deno.errors.NotFound);
    const esc = await h.pod(["run", "--rm", "-w", "/escape", img.workdir, "sh", "-c", "pwd; touch f"]);
    assert.equal(esc.code, 0, esc.stderr);
    assert.equal(esc.stdout, `${victim}/wd\n`); // the link's target, inside the root
    await untouched();
  });

  await t.step("3. /etc/passwd (or /etc) a symlink to host files; -u someuser", async () => {
    for (const ref of [img.passwdShadow, img.passwdVictim, img.etcVictim]) {
      const r = await h.pod(["run", "--rm", "-u", "someuser", ref, "id"]);
      assertOneLineError(r, 125, /unable to find user someuser/);
      const n = await h.pod(["run", "--rm", "-u", "4242", ref, "id", "-u"]);
      assert.equal(n.code, 0, n.stderr);
      assert.equal(n.stdout, "4242\n");
      await untouched();
    }
  });

  await t.step("4. User 4294967295 (image config, -u, group)", async () => {
    const r = await h.pod(["run", "--rm", img.userMax, "id"]);
    assertOneLineError(r, 125, /4294967295/);
    for (const u of ["4294967295", "0:4294967295", "4294967295:0", "99999999999999999999"]) {
      const x = await h.pod(["run", "--rm", "-u", u, img.plain, "id"]);
      assertOneLineError(x, 125, /unable to find (user|group) (4294967295|99999999999999999999)/);
    }
    // (uid_t)-2 is a valid id: root runs it, rootless it is not mapped (a one-line error, no stack trace)
    const m2 = await h.pod(["run", "--rm", "-u", "4294967294", img.plain, "id", "-u"]);
    if (root) assert.equal(m2.stdout, "4294967294\n", m2.stderr);
    else assertOneLineError(m2, [125, 126]);
  });

  await t.step("5. children left behind / double fork: stop -t 1 and rm -f -t 0 end them all", async () => {
    for (const variant of ["plain", "ignore-term", "init-exits"] as const) {
      for (const how of ["stop", "rm"] as const) {
        await leftovers(h, img.plain, { how, variant });
        if (root) await leftovers(h, img.plain, { how, variant, pidHost: true });
      }
    }
  });

  await t.step("6. stdout closed early: exit 4, stderr logged, no hang", async () => {
    const script = "exec >&-; sleep 0.2; echo err >&2; exit 4";
    const fg = await h.pod(["run", "--name", "closed-fg", img.plain, "sh", "-c", script], {
      timeoutMs: 30_000,
    });
    assert.equal(fg.timedOut, false);
    assert.equal(fg.code, 4, fg.stderr);
    assert.match(fg.stderr, /^err$/m);
    assert.ok(!/^\s+at /m.test(fg.stderr), fg.stderr);
    const d = await h.pod(["run", "-d", "--name", "closed-d", img.plain, "sh", "-c", script]);
    assert.equal(d.code, 0, d.stderr);
    const w = await h.pod(["wait", "closed-d"], { timeoutMs: 30_000 });
    assert.equal(w.timedOut, false);
    assert.equal(w.stdout.trim(), "4", w.stderr);
    const logs = await h.pod(["logs", "closed-d"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stderr + logs.stdout, /^err$/m);
    const code = await h.pod(["inspect", "--format", "{{.State.ExitCode}}", "closed-d"]);
    assert.equal(code.stdout.trim(), "4");
    const a = await h.pod(["start", "-a", "closed-d"], { timeoutMs: 30_000 });
    assert.equal(a.code, 4, a.stderr);
    assert.equal((await h.pod(["rm", "closed-fg", "closed-d"])).code, 0);
  });

  await untouched();
}

for (const mode of ["root", "rootless"] as const) {
  Deno.test({
    name: `hostile runtime (${mode})`,
    ignore: mode === "root" ? !rootEnabled : !rootlessEnabled,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const reg = await startRegistry();
      const h = await tempPodHome(mode === "root" ? {} : { user: TEST_USER });
      const victim = await makeVictim();
      try {
        const img = await buildImages(reg, victim);
        await pullAll(h, img);
        await hostileCases(t, h, img, victim, mode === "root");
      } finally {
        await h.pod(["rm", "-af", "-t", "0"]);
        await reg.stop();
        await h.cleanup();
        await Deno.remove(victim, { recursive: true }).catch(() => {});
      }
    },
  });
}
