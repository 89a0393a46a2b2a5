/**
 * podman's global flags for a benchmark's own temp storage under `root` (`root/root`, `root/run`): the host's
 * podman storage is never touched; cgroupfs and a file events backend need no systemd.
 * @module
 */

/** The global flags that point podman at `root`. */
export function podmanStoreArgs(root: string): string[] {
  return [
    "--root",
    `${root}/root`,
    "--runroot",
    `${root}/run`,
    "--cgroup-manager=cgroupfs",
    "--events-backend=file",
  ];
}

/**
 * The pids of the processes podman started for the store at `root`: `root` in their command line (conmon, the
 * `podman container cleanup` conmon runs when a container ends) or in their environment (the rootless pause
 * process, whose HOME/XDG_RUNTIME_DIR are below `root`).
 */
function storeProcesses(root: string, withEnv: boolean): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      if (cmd.includes(`${root}/`)) pids.push(pid);
      else if (withEnv && Deno.readTextFileSync(`/proc/${pid}/environ`).includes(`=${root}/`)) pids.push(pid);
    } catch { /* gone, or a kernel thread */ }
  }
  return pids;
}

/**
 * Removes a benchmark's temp podman store at `root` and everything podman left running or mounted for it.
 * conmon runs `podman container cleanup` after a container ends, asynchronously: removing the store before it is
 * done lets it mount the store again or start a new rootless pause process after ours are gone. So: wait (up to
 * 15 s) for those; `unshare` (rootless, given as `unshareRm`) removes the sub-id owned files; then the pause
 * process is ended by pid, every mount below `root` is unmounted, deepest first, and the tree is removed.
 */
export async function removePodmanStore(root: string, unshareRm?: () => Promise<unknown>): Promise<void> {
  const settle = async () => {
    for (let i = 0; i < 150 && storeProcesses(root, false).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await settle();
  if (unshareRm) {
    await unshareRm().catch(() => {});
    await settle();
  }
  for (const pid of storeProcesses(root, true)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  const mounts = (await Deno.readTextFile("/proc/mounts").catch(() => "")).split("\n")
    .map((l) => l.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((mp): mp is string => !!mp && mp.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const mp of mounts) {
    await new Deno.Command("umount", { args: ["-l", mp], stdout: "null", stderr: "null" }).output();
  }
  await Deno.remove(root, { recursive: true }).catch(async () => {
    await new Deno.Command("rm", { args: ["-rf", "--one-file-system", root], stdout: "null", stderr: "null" })
      .output();
  });
}
