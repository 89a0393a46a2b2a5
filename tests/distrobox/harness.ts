/**
 * The distrobox acceptance harness: the Debian test image (built by `scripts/distrobox-image.sh`, pushed to a
 * local `docker-registry`), a `podman` shim that runs pod, and a runner for distrobox commands driving it.
 *
 * ```ts
 * const env = await setUpDistrobox();
 * try {
 *   const r = await env.distrobox(["create", "--yes", "-i", env.image, "-n", "box"]);
 * } finally {
 *   await env.tearDown();
 * }
 * ```
 * @module
 */

import { type BuiltLayer, customImage, MT } from "../helpers/fixtures.ts";
import { type Registry, registryAvailable, startRegistry } from "../helpers/registry.ts";
import { CLI_PATH, REPO_ROOT } from "../helpers/pod.ts";
import { lookupUser, TEST_USER } from "../helpers/rootless.ts";

/** Why the distrobox tests cannot run here, or `undefined` when they can. */
export function skipReason(opts: { rootless?: boolean } = {}): string | undefined {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "needs root (debootstrap; rootless runs switch to podtest)";
  for (const p of ["/usr/bin/distrobox", "/usr/bin/distrobox-init", "/usr/sbin/debootstrap"]) {
    try {
      Deno.statSync(p);
    } catch {
      return `${p} is not installed (apt-get install distrobox debootstrap)`;
    }
  }
  try {
    Deno.statSync("/usr/bin/docker-registry");
  } catch {
    return "docker-registry is not installed";
  }
  if (opts.rootless) {
    const id = new Deno.Command("id", { args: ["-u", TEST_USER], stdout: "piped", stderr: "null" })
      .outputSync();
    if (!id.success) return `no test user ${TEST_USER} (scripts/setup-test-host.sh)`;
    for (const p of ["/usr/bin/newuidmap", "/usr/bin/newgidmap"]) {
      try {
        Deno.statSync(p);
      } catch {
        return `${p} is not installed (apt-get install uidmap)`;
      }
    }
  }
  return undefined;
}

/** The result of one command. */
export interface Ran {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** Wall time in ms. */
  ms: number;
}

/** A ready distrobox-on-pod environment. */
export interface DistroboxEnv {
  /** The test image reference (`127.0.0.1:PORT/test/distrobox-debian:bookworm`). */
  image: string;
  /** The store pod uses (`POD_HOME`). */
  podHome: string;
  /** The HOME distrobox runs with. */
  home: string;
  /** The user distrobox runs as. */
  user: string;
  /** Seconds spent building (or finding cached) the image. */
  imageSeconds: number;
  /** Run a distrobox command (`distrobox <args>`), stdin closed. */
  distrobox: (args: string[], opts?: { timeoutMs?: number }) => Promise<Ran>;
  /** Run pod through the shim (as the test user). */
  pod: (args: string[]) => Promise<Ran>;
  /** The shim's log: one line per pod invocation (argv and exit code). */
  shimLog: () => Promise<string>;
  /** Remove containers, stop the registry, delete temp dirs. Idempotent. */
  tearDown: () => Promise<void>;
}

/** Builds (or finds in the cache) the image layer by running scripts/distrobox-image.sh. */
export async function buildImageLayer(): Promise<{ layer: BuiltLayer; seconds: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command("sh", {
    args: [`${REPO_ROOT}/scripts/distrobox-image.sh`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`scripts/distrobox-image.sh failed (exit ${out.code})`);
  const kv = Object.fromEntries(
    new TextDecoder().decode(out.stdout).trim().split("\n").map((
      l,
    ) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const blob = await Deno.readFile(kv.LAYER);
  return {
    layer: { mediaType: MT.ociLayerGzip, digest: kv.DIGEST, diffId: kv.DIFFID, size: blob.length, blob },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Whether pod has `cp` (distrobox-generate-entry copies /etc/os-release out of the box with it). */
export function hasCp(): boolean {
  try {
    return Deno.statSync(`${REPO_ROOT}/lib/cli/commands/cp.ts`).isFile;
  } catch {
    return false;
  }
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Ran> {
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: Math.round(performance.now() - t0),
  };
}

/**
 * Sets up everything: image (cached), registry with the image pushed, temp HOME and POD_HOME, the `podman`
 * shim first on PATH. `rootless` runs distrobox and pod as the test user (`podtest`, through `runuser`).
 */
export async function setUpDistrobox(opts: { rootless?: boolean } = {}): Promise<DistroboxEnv> {
  const { layer, seconds } = await buildImageLayer();
  const cleanups: (() => Promise<void>)[] = [];
  let reg: Registry | undefined;
  try {
    if (!await registryAvailable()) throw new Error("docker-registry is not available");
    reg = await startRegistry();
    const r = reg;
    cleanups.push(() => r.stop());
    const pushed = await customImage(reg, {
      repo: "test/distrobox-debian",
      tag: "bookworm",
      layers: [layer],
      config: {
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: ["bash"],
      },
    });
    const testUser = opts.rootless ? await lookupUser(TEST_USER) : undefined;
    if (opts.rootless && !testUser) throw new Error(`no test user ${TEST_USER}`);
    const user = testUser?.name ?? "root";
    const uid = testUser?.uid ?? 0;
    // Not under /tmp: distrobox binds the host's /tmp into the box.
    const base = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "pod-distrobox-" });
    await Deno.chmod(base, 0o755);
    cleanups.push(() => Deno.remove(base, { recursive: true }).catch(() => {}));
    const home = `${base}/home`, podHome = `${base}/store`, bin = `${base}/bin`;
    for (const d of [home, podHome, bin]) await Deno.mkdir(d, { recursive: true });
    const deno = Deno.execPath();
    // The shim: distrobox runs `podman …`; this runs pod instead, logging each call for failure messages.
    await Deno.writeTextFile(
      `${bin}/podman`,
      [
        "#!/bin/sh",
        `printf '%s\\n' "podman $*" >> ${shellQuote(`${base}/shim.log`)}`,
        `exec ${shellQuote(deno)} run -A --quiet ${shellQuote(CLI_PATH)} "$@"`,
        "",
      ].join("\n"),
    );
    await Deno.chmod(`${bin}/podman`, 0o755);
    if (!opts.rootless) {
      // distrobox 1.4 refuses to run as uid 0 (its `[ "$(id -u)" -eq 0 ]` guard: "Running … as sudo is not
      // supported"); rootful boxes are meant to be made by a user through `--root` + sudo. Without sudo here,
      // the harness masks that one guard: `id -u` alone answers 65534, every other `id` call is the real one.
      await Deno.writeTextFile(
        `${bin}/id`,
        ["#!/bin/sh", 'if [ "$*" = "-u" ]; then echo 65534; exit 0; fi', 'exec /usr/bin/id "$@"', ""].join(
          "\n",
        ),
      );
      await Deno.chmod(`${bin}/id`, 0o755);
    }
    await Deno.writeTextFile(`${base}/shim.log`, "");
    await Deno.chmod(`${base}/shim.log`, 0o666);
    if (opts.rootless) {
      const chown = await new Deno.Command("chown", { args: ["-R", `${uid}:${uid}`, home, podHome] })
        .output();
      if (!chown.success) throw new Error("chown of the test dirs failed");
    }
    const denoDir = Deno.env.get("DENO_DIR");
    const env: Record<string, string> = {
      PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: home,
      USER: user,
      LOGNAME: user,
      SHELL: "/bin/bash",
      LANG: "C.UTF-8",
      TERM: "dumb",
      POD_HOME: podHome,
      DBX_CONTAINER_MANAGER: "podman",
      DBX_NON_INTERACTIVE: "1",
      // a registry on 127.0.0.1 without TLS: pod talks plain http to loopback registries
      NO_COLOR: "1",
      ...(denoDir && !opts.rootless ? { DENO_DIR: denoDir } : {}),
      ...(opts.rootless ? { DENO_DIR: `${base}/deno-dir`, XDG_RUNTIME_DIR: `${base}/run` } : {}),
    };
    if (opts.rootless) {
      for (const d of [`${base}/deno-dir`, `${base}/run`]) {
        await Deno.mkdir(d, { recursive: true, mode: 0o700 });
        await new Deno.Command("chown", { args: [`${uid}:${uid}`, d] }).output();
      }
    }
    const as = (cmd: string, args: string[]): [string, string[]] =>
      opts.rootless ? ["runuser", ["-p", "-u", user, "--", cmd, ...args]] : [cmd, args];
    const podRun = (args: string[]) => {
      const [c, a] = as(`${bin}/podman`, args);
      return run(c, a, env, 120_000);
    };
    let torn = false;
    return {
      image: pushed.ref,
      podHome,
      home,
      user,
      imageSeconds: seconds,
      distrobox: (args, o = {}) => {
        const [c, a] = as("distrobox", args);
        return run(c, a, { ...env, PWD: home }, o.timeoutMs ?? 300_000);
      },
      pod: podRun,
      shimLog: () => Deno.readTextFile(`${base}/shim.log`).catch(() => ""),
      tearDown: async () => {
        if (torn) return;
        torn = true;
        // stop and remove what the test left (kills only the containers of this store)
        await podRun(["rm", "-a", "-f", "-v"]).catch(() => {});
        for (const c of cleanups.reverse()) await c().catch(() => {});
      },
    };
  } catch (e) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw e;
  }
}
