/**
 * Acceptance: distrobox (Debian's 1.4.x, or newer) drives pod through a `podman` shim on PATH.
 * create → enter (exit codes passed through, output) → list → stop → rm, as root and rootless (podtest).
 *
 * Needs root, `distrobox`, `debootstrap`, `docker-registry` (and `uidmap` + the podtest user for the rootless
 * part); skipped cleanly otherwise. The Debian rootfs is cached in /var/cache/pod-tests (see
 * scripts/distrobox-image.sh). Run: `deno test -A tests/distrobox/`.
 * @module
 */

import { type DistroboxEnv, hasCp, type Ran, setUpDistrobox, skipReason } from "./harness.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function explain(env: DistroboxEnv, what: string, r: Ran): Promise<string> {
  const log = (await env.shimLog()).split("\n").slice(-15).join("\n");
  return `${what}: exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- last pod calls\n${log}`;
}

async function ok(env: DistroboxEnv, args: string[], expectCode = 0): Promise<Ran> {
  const r = await env.distrobox(args);
  console.log(`  distrobox ${args.join(" ")}: exit ${r.code} in ${r.ms} ms`);
  if (r.code !== expectCode) throw new Error(await explain(env, `distrobox ${args.join(" ")}`, r));
  return r;
}

async function lifecycle(rootless: boolean, createFlags: string[] = []): Promise<void> {
  const t0 = performance.now();
  const env = await setUpDistrobox({ rootless });
  console.log(`  image ready in ${env.imageSeconds.toFixed(1)} s: ${env.image}`);
  try {
    // the desktop entry (distrobox-generate-entry) copies /etc/os-release out with `podman cp`: only once pod
    // has cp (1.4 reads DBX_container_generate_entry, not the documented DBX_CONTAINER_GENERATE_ENTRY)
    await ok(env, [
      "create",
      "--yes",
      "-i",
      env.image,
      "-n",
      "box",
      ...createFlags,
      ...(hasCp() ? [] : ["--no-entry"]),
    ]);
    // distrobox-create exits 0 even when `podman create` failed (it prints [ ERR ]): check the box exists
    const made = await env.pod(["inspect", "--type", "container", "--format", "{{.State.Status}}", "box"]);
    assert(made.code === 0 && made.stdout.trim() === "created", await explain(env, "box not created", made));
    // the first enter starts the box and waits for distrobox-init's container_setup_done
    const first = await ok(env, ["enter", "box", "--", "true"]);
    assert(/Container Setup Complete/.test(first.stderr), await explain(env, "no setup message", first));
    await ok(env, ["enter", "box", "--", "sh", "-c", "exit 7"], 7);
    const os = await ok(env, ["enter", "box", "--", "cat", "/etc/os-release"]);
    assert(/ID=debian/.test(os.stdout) && /bookworm/.test(os.stdout), await explain(env, "os-release", os));
    // the user is the caller, with HOME from create, in a privileged box that sees the host at /run/host
    // (no double quotes: distrobox-enter 1.4 mangles arguments containing quotes before its eval)
    const who = await ok(env, [
      "enter",
      "box",
      "--",
      "sh",
      "-c",
      "echo $(id -un) $HOME; test -d /run/host/etc",
    ]);
    assert(who.stdout.trim() === `${env.user} ${env.home}`, await explain(env, "user/HOME", who));
    const list = await ok(env, ["list", "--no-color"]);
    assert(
      list.stdout.split("\n").some((l) =>
        /\| box\s+\|/.test(l) && /Up|running/i.test(l) && l.includes(env.image)
      ),
      await explain(env, "list does not show box running", list),
    );
    await ok(env, ["stop", "--yes", "box"]);
    const state = await env.pod(["inspect", "--type", "container", "--format", "{{.State.Status}}", "box"]);
    assert(state.stdout.trim() === "exited", await explain(env, "state after stop", state));
    const listed = await ok(env, ["list", "--no-color"]);
    assert(
      /\| box\s+\|/.test(listed.stdout) && /exited/i.test(listed.stdout),
      await explain(env, "list", listed),
    );
    // enter again: starts the stopped box (init runs a second time over its own setup)
    await ok(env, ["enter", "box", "--", "true"]);
    await ok(env, ["rm", "--force", "box"]);
    const gone = await env.pod(["inspect", "--type", "container", "box"]);
    assert(gone.code !== 0, await explain(env, "box still exists after rm", gone));
    const empty = await ok(env, ["list", "--no-color"]);
    assert(!/\| box\s+\|/.test(empty.stdout), await explain(env, "list after rm", empty));
  } finally {
    await env.tearDown();
  }
  console.log(
    `  ${rootless ? "rootless" : "root"} ${createFlags.join(" ")} lifecycle: ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
}

const rootSkip = skipReason();
Deno.test({
  name: "distrobox on pod: create, enter, list, stop, rm (root)",
  ignore: rootSkip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => lifecycle(false),
});

/**
 * The calls distrobox 1.8 makes (its create flags, `logs --since … -f` until `container_setup_done`, the
 * unshare_groups label), driven directly with Debian's 1.4 distrobox-init (which takes 1.4's init arguments).
 */
async function distrobox18(): Promise<void> {
  const env = await setUpDistrobox();
  try {
    const pod = async (args: string[], code = 0) => {
      const r = await env.pod(args);
      if (r.code !== code) throw new Error(await explain(env, `pod ${args.join(" ")}`, r));
      return r;
    };
    const h = env.home;
    await pod(["pull", "--platform=linux/amd64", env.image]);
    await pod([
      ...[
        "create",
        "--hostname",
        "b18.vm",
        "--name",
        "b18",
        "--privileged",
        "--security-opt",
        "label=disable",
      ],
      ...["--security-opt", "apparmor=unconfined", "--pids-limit=-1", "--user", "root:root", "--ipc", "host"],
      ...["--network", "host", "--pid", "host", "--label", "manager=distrobox"],
      ...["--label", "distrobox.unshare_groups=0", "--env", "SHELL=/bin/bash", "--env", `HOME=${h}`],
      ...[
        "--env",
        "container=podman",
        "--env",
        "TERMINFO_DIRS=/usr/share/terminfo",
        "--env",
        "CONTAINER_ID=b18",
      ],
      ...["--volume", "/tmp:/tmp:rslave", "--volume", "/usr/bin/distrobox-init:/usr/bin/entrypoint:ro"],
      ...["--volume", `${h}:${h}:rslave`, "--volume", "/:/run/host/:rslave", "--volume", "/dev/pts"],
      ...["--volume", "/dev/null:/dev/ptmx", "--stop-signal", "SIGRTMIN+3"],
      ...["--mount", "type=tmpfs,destination=/run", "--entrypoint", "/usr/bin/entrypoint", env.image],
      ...["--verbose", "--name", "root", "--user", "0", "--group", "0", "--home", h, "--init", "0"],
      ...["--pre-init-hooks", "", "--", ""],
    ]);
    const label = await pod([
      "inspect",
      "--format",
      '{{ index .Config.Labels "distrobox.unshare_groups" }}',
      "b18",
    ]);
    assert(label.stdout.trim() === "0", await explain(env, "unshare_groups label", label));
    const since = new Date().toISOString().replace("Z", "000000+00:00").replace(
      /\.(\d{3})000000/,
      ".$1000000",
    );
    await pod(["start", "b18"]);
    const st = await pod(["inspect", "--format", "{{.State.Status}}", "b18"]);
    assert(st.stdout.trim() === "running", await explain(env, "status right after start", st));
    // `logs -f` until distrobox-init says it is done (distrobox kills the follower then)
    const follower = new Deno.Command(`${env.podHome}/../bin/podman`, {
      args: ["logs", "--since", since, "-f", "b18"],
      env: { POD_HOME: env.podHome, PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: env.home },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let seen = "";
    const reader = follower.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = setTimeout(() => follower.kill("SIGKILL"), 120_000);
    try {
      while (!seen.includes("container_setup_done\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
    } finally {
      clearTimeout(deadline);
      try {
        follower.kill("SIGTERM");
      } catch { /* ended */ }
      await reader.cancel().catch(() => {});
      await follower.stderr.cancel().catch(() => {});
      await follower.status;
    }
    assert(seen.includes("container_setup_done"), `logs -f never showed container_setup_done:\n${seen}`);
    assert(!/^Error:/m.test(seen), `distrobox-init failed:\n${seen}`);
    const ex = await pod([
      ...["exec", "--interactive", "--detach-keys=", "--user=root", "--workdir=/run/host/tmp", "--env=A=1"],
      ...["--env=PATH=/usr/bin:/bin", "b18", "sh", "-c", 'test -f /run/.containerenv && echo "$A"; exit 5'],
    ], 5);
    assert(ex.stdout === "1\n", await explain(env, "exec output", ex));
    await pod(["stop", "b18"]);
    await pod(["rm", "--force", "--volumes", "b18"]);
  } finally {
    await env.tearDown();
  }
}

Deno.test({
  name: "distrobox 1.8's podman calls on pod (root)",
  ignore: rootSkip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: distrobox18,
});

const rootlessSkip = skipReason({ rootless: true });
Deno.test({
  name: "distrobox on pod: create, enter, list, stop, rm (rootless, podtest, --userns private)",
  ignore: rootlessSkip !== undefined || Deno.env.get("POD_DISTROBOX_ROOTLESS") === "0",
  sanitizeResources: false,
  sanitizeOps: false,
  // distrobox 1.4 creates rootless boxes with `--userns keep-id`; a later flag wins, so this runs the rest of
  // the rootless path (subuid maps, mounts in a user namespace, exec through nsenter) independently of keep-id
  fn: () => lifecycle(true, ["--additional-flags", "--userns private"]),
});

// distrobox's own rootless invocation (`--userns keep-id`).
Deno.test({
  name: "distrobox on pod: create, enter, list, stop, rm (rootless, podtest, keep-id)",
  ignore: rootlessSkip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => lifecycle(true),
});

if (rootSkip) console.warn(`distrobox tests skipped: ${rootSkip}`);
