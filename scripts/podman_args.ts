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
