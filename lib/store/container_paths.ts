/**
 * Where a container lives on disk: `$ROOT/containers/<id>/` and the name links in `$ROOT/containers/names/`.
 *
 * ```
 * containers/<id>/config.json   what was asked for and resolved at create time (see ContainerConfig)
 * containers/<id>/state.json    status, pid, times, exit code (see ContainerState)
 * containers/<id>/rootfs/       overlay driver: the mount point of the container's root (an overlay of the
 *                               image tree and upper/, mounted only inside the container's mount namespace);
 *                               vfs driver: the container's own copy of the image (made on first start)
 * containers/<id>/upper/, work/ overlay driver: the container's changes and overlayfs' work dir
 * containers/<id>/userdata/     hosts, hostname, resolv.conf, .containerenv
 * containers/<id>/ctr.log       k8s-file log of detached runs
 * containers/<id>/exit.json     {"exitCode":N,"finishedAt":ISO} written by the supervisor
 * containers/<id>/exits/<id>    the exit code alone, written by conmon when it is the supervisor (issue 13)
 * containers/names/<name>       symlink → <id>
 * ```
 *
 * A container directory is assembled under a temp name, renamed into place, and only then is its name
 * claimed (lib/store/container_names.ts). A directory without a name link is an incomplete leftover: never
 * listed, cleaned later.
 * @module
 */

/** Paths of one container. */
export function containerPaths(root: string, id: string) {
  const dir = `${root}/containers/${id}`;
  return {
    dir,
    config: `${dir}/config.json`,
    state: `${dir}/state.json`,
    rootfs: `${dir}/rootfs`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    rootfsReady: `${dir}/.rootfs-ready`,
    userdata: `${dir}/userdata`,
    log: `${dir}/ctr.log`,
    /** The fifo a detached `-i` container reads its input from (exists while it runs). */
    attach: `${dir}/attach`,
    exit: `${dir}/exit.json`,
    /** conmon (issue 13): its `--exit-dir` and the exit file it writes there (the code, nothing else). */
    conmonExits: `${dir}/exits`,
    conmonExit: `${dir}/exits/${id}`,
    lock: `${dir}/lock`,
  };
}
