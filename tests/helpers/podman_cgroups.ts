/**
 * A cgroup parent of a test's own for the containers root podman starts (`--cgroup-manager cgroupfs` leaves
 * `libpod-<id>` and `conmon` cgroups behind under its default `libpod_parent`), removed afterwards in every
 * hierarchy of `/sys/fs/cgroup`.
 * @module
 */

/**
 * Ends with SIGKILL every process still in the cgroup tree at `dir`: podman's own containers and conmons that a
 * `podman rm -f` left running. The parent is this test's own (random name), so they are processes it started.
 */
function killCgroupTree(dir: string): void {
  try {
    for (const e of Deno.readDirSync(dir)) if (e.isDirectory) killCgroupTree(`${dir}/${e.name}`);
    for (const pid of Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").filter(Boolean)) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch { /* already gone */ }
    }
  } catch { /* the directory or its procs file went away */ }
}

/** Removes the empty cgroup directory tree at `dir`, deepest first (a cgroup is removed with rmdir). */
function removeCgroupTree(dir: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const e of entries) if (e.isDirectory) removeCgroupTree(`${dir}/${e.name}`);
  try {
    Deno.removeSync(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** `--cgroup-parent` flags for podman, and the removal of that parent everywhere once podman is done. */
export function podmanCgroupParent(): { args: string[]; remove: () => void } {
  const parent = `pod-test-podman-${crypto.randomUUID().slice(0, 8)}`;
  return {
    args: ["--cgroup-parent", `/${parent}`],
    remove: () => {
      for (const dir of cgroupDirs(parent)) {
        for (let tries = 0;; tries++) {
          try {
            removeCgroupTree(dir);
            break;
          } catch (e) {
            // EBUSY: processes podman left running in it; end them (ours, see killCgroupTree) and try again
            if (tries >= 20) throw e;
            killCgroupTree(dir);
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // let them be reaped
          }
        }
      }
    },
  };
}

/** Whether `path` exists. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `/sys/fs/cgroup/<hierarchy>/<name>` for each hierarchy (cgroup v1 or hybrid), or the v2 one. */
function cgroupDirs(name: string): string[] {
  if (exists("/sys/fs/cgroup/cgroup.controllers")) return [`/sys/fs/cgroup/${name}`];
  try {
    return [...Deno.readDirSync("/sys/fs/cgroup")].filter((e) => e.isDirectory).map((e) =>
      `/sys/fs/cgroup/${e.name}/${name}`
    );
  } catch {
    return [];
  }
}

/** Removes the cgroup tree at `dir`, deepest first; a cgroup still in use stays. */
function removeEmptyCgroups(dir: string): void {
  try {
    for (const e of Deno.readDirSync(dir)) if (e.isDirectory) removeEmptyCgroups(`${dir}/${e.name}`);
    Deno.removeSync(dir);
  } catch { /* gone, or still in use */ }
}

/**
 * For podman commands that take no `--cgroup-parent` (`kube play`): notes which hierarchies have no
 * `libpod_parent` yet; `remove` removes the ones podman made since, where nothing uses them any more.
 */
export function newLibpodParent(): { remove: () => void } {
  const made = cgroupDirs("libpod_parent").filter((d) => !exists(d));
  return { remove: () => made.forEach(removeEmptyCgroups) };
}
