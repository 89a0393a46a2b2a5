/**
 * RUN: the command runs in a container of pod's own runtime (rootless by default) made from the stage's
 * current image, with the build's environment and network; its changes (the overlay upper dir) become the
 * step's layer. The container is removed either way. Its output goes to this process's stdout/stderr.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug } from "../log.ts";
import { commitUpperDir } from "../image/commit_layer.ts";
import type { StoredLayer } from "../image/layer_blob.ts";
import type { TarWriteEntry } from "../unpack/tar_write.ts";
import type { RunMount } from "./run_mount_spec.ts";
import type { RunMountContext } from "./run_mounts.ts";

/** A RUN to execute. */
export interface RunStep {
  /** Image id of the stage so far. */
  image: string;
  /** The command (shell form already wrapped in the shell). */
  argv: string[];
  /** Extra environment (build args in scope), `K=V`. */
  env: string[];
  /** Working directory. */
  workdir: string;
  /** User. */
  user?: string;
  /** `host`, `none` or `private` (default). */
  network?: string;
  /** `RUN --security=insecure`: a privileged container. */
  privileged?: boolean;
  /** The step as podman names it in an error (`RUN exit 3`). */
  step: string;
  /** `RUN --mount`s and what preparing them needs. */
  mounts?: { list: RunMount[]; context: RunMountContext };
}

/**
 * Runs `r` and returns its layer; a non-zero exit is a {@link PodError} with that exit code. The container's
 * removal (slow for many files) goes on in the background: `removals` gets its promise, for the caller to
 * await before it finishes.
 */
export async function runStep(
  root: string,
  r: RunStep,
  removals: Promise<void>[],
  onEntry?: (e: TarWriteEntry) => void,
): Promise<StoredLayer> {
  const [{ createFromSpec }, { startForeground }, { removeById }, { containerPaths }] = await Promise.all([
    import("../container/create.ts"),
    import("../container/start.ts"),
    import("../container/lifecycle.ts"),
    import("../store/containers.ts"),
  ]);
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const network = r.network === "none" ? "none" : r.network === "host" ? "host" : undefined;
  const mod = r.mounts ? await import("./run_mounts.ts") : undefined;
  const mounts = r.mounts ? await mod!.prepareRunMounts(r.mounts.list, r.mounts.context) : undefined;
  let rec;
  try {
    rec = await createFromSpec(root, {
      image: r.image,
      args: r.argv,
      entrypoint: [],
      env: r.env,
      workdir: r.workdir || "/",
      user: r.user || undefined,
      network,
      pull: "never",
      labels: { "io.pod.build": "1" },
      ...(r.privileged ? { privileged: true } : {}),
      ...(mounts ? { mounts: mounts.mounts } : {}),
    });
  } catch (e) {
    await mounts?.release();
    throw e;
  }
  const id = rec.config.id;
  debug(`build RUN: container ${id.slice(0, 12)} created at ${ms()} ms`);

  // Ctrl-C / SIGTERM while the command runs: the container (in a session of its own) is killed, so the
  // build ends with nothing left running, as podman's does
  let interrupted: Deno.Signal | undefined;
  const onSignal = (sig: Deno.Signal) => () => {
    interrupted = sig;
    import("../container/lifecycle.ts").then((l) => l.killById(root, id, "SIGKILL")).catch(() => {});
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => [sig, onSignal(sig)] as const);
  let ended = false; // the command ran to its end: nothing uses the upper dir any more
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  try {
    let code: number;
    try {
      code = await startForeground(root, id, { tty: false, stdin: false, log: false });
      ended = !interrupted;
      if (interrupted) {
        throw new PodError(`building at STEP "${r.step}": interrupted by ${interrupted}`, {
          exitCode: interrupted === "SIGINT" ? 130 : 143,
        });
      }
    } catch (e) {
      if (interrupted) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new PodError(`building at STEP "${r.step}": while running runtime: ${msg}`, {
        exitCode: e instanceof PodError ? e.exitCode : 125,
      });
    }
    if (code !== 0) {
      throw new PodError(`building at STEP "${r.step}": while running runtime: exit status ${code}`, {
        exitCode: code,
      });
    }
    debug(`build RUN: command done at ${ms()} ms`);
    const layer = await commitUpperDir(
      root,
      containerPaths(root, id).upper,
      Deno.uid() !== 0,
      onEntry,
      mounts?.targets.length ? mod!.withoutMountStubs(mounts.targets) : undefined,
      true, // uncompressed, as podman's build layers: push compresses
    );
    debug(`build RUN: layer committed at ${ms()} ms`);
    return layer;
  } finally {
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
    await mounts?.release();
    const upper = containerPaths(root, id).upper;
    removals.push(
      (ended ? discardTree(root, upper) : Promise.resolve()).then(() =>
        removeById(root, id, { force: true, volumes: true })
      ).catch(() => {}).then(() => debug(`build RUN: container ${id.slice(0, 12)} removed at ${ms()} ms`)),
    );
  }
}

/**
 * Moves `dir` (a finished RUN's upper dir: every file the command wrote, slow to delete on a disk mounted with
 * `discard`) into the store's `tmp/` and deletes it there in a detached `rm -rf` (in the user's subuid
 * namespace when rootless, as its files are owned by subordinate ids): the build does not wait for the
 * deletion. The name carries this process's pid, so once it has ended a later pod command's stale-temp
 * cleanup removes what a killed `rm` left. Any failure leaves `dir` where it is, for the container's removal.
 */
export async function discardTree(root: string, dir: string): Promise<void> {
  const [{ storePaths }, { tempName }] = await Promise.all([
    import("../store/paths.ts"),
    import("../store/atomic.ts"),
  ]);
  const tmp = storePaths(root).tmp;
  const trash = `${tmp}/${tempName("trash")}`;
  try {
    await Deno.mkdir(tmp, { recursive: true, mode: 0o700 });
    await Deno.rename(dir, trash);
  } catch (e) {
    debug(`build RUN: ${dir} stays for the container's removal: ${e instanceof Error ? e.message : e}`);
    return;
  }
  const rm = ["rm", "-rf", "--", trash];
  const [cmd, ...args] = Deno.uid() === 0
    ? rm
    : ["unshare", "--user", "--map-auto", "--map-root-user", ...rm];
  try {
    new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn().unref();
  } catch (e) {
    debug(`build RUN: ${trash} left for the stale-temp cleanup: ${e instanceof Error ? e.message : e}`);
  }
}
