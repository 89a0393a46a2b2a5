/**
 * Stage 2's mount work: the container's root file system with /proc, /dev, /sys, the generated /etc files,
 * user mounts and masks, all under the rootfs before `pivot_root`. Runs inside the new mount namespace.
 * Also the mount calls themselves (`mount`, `umount2`, `pivot_root`, `mount_setattr`).
 * @module
 */

import { mknod, statvfsFlags } from "./fs.ts";
import { check, cstr, libc, ptr, SysError } from "./libc.ts";
import { type CreateKind, resolveInRoot } from "../unpack/contain.ts";
import { INIT_PATH, type LaunchSpec, MASKED_PATHS, type MountSpec, READONLY_PATHS } from "./spec.ts";

/** Mount flags (`<sys/mount.h>`). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
} as const;

/** `mount(2)` on `target`. */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const r = libc().mount(
    source === null ? null : cstr(source),
    cstr(target),
    fstype === null ? null : cstr(fstype),
    BigInt(flags),
    data === null ? null : cstr(data),
  );
  check(r, "mount", target);
}

/** `umount2(2)`; `MNT_DETACH` = 2. */
export function umount2(target: string, flags: number): void {
  check(libc().umount2(cstr(target), flags), "umount", target);
}

const SYS_pivot_root = Deno.build.arch === "aarch64" ? 41 : 155;
const SYS_mount_setattr = 442;

/** `pivot_root(2)` (no glibc wrapper: raw syscall). */
export function pivotRoot(newRoot: string, putOld: string): void {
  const a = cstr(newRoot), b = cstr(putOld);
  check(libc().syscall(BigInt(SYS_pivot_root), ptr(a), ptr(b), 0n, 0n, 0n), "pivot_root", newRoot);
}

/** `MOUNT_ATTR_*` flags of `mount_setattr(2)`. */
export const MOUNT_ATTR = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8 } as const;

/**
 * `mount_setattr(2)` on `path` (recursive when asked): sets/clears mount attributes and the propagation
 * (an `MS_*` propagation flag or 0) without touching the locked flags of a mount made in a user namespace.
 */
export function mountSetattr(
  path: string,
  opts: { set?: number; clear?: number; propagation?: number; recursive?: boolean },
): void {
  const attr = new BigUint64Array([
    BigInt(opts.set ?? 0),
    BigInt(opts.clear ?? 0),
    BigInt(opts.propagation ?? 0),
    0n,
  ]);
  const p = cstr(path);
  const AT_FDCWD = -100n, AT_RECURSIVE = 0x8000n;
  const r = libc().syscall(
    BigInt(SYS_mount_setattr),
    AT_FDCWD,
    ptr(p),
    opts.recursive ? AT_RECURSIVE : 0n,
    ptr(new Uint8Array(attr.buffer)),
    32n,
  );
  check(r, "mount_setattr", path);
}

const DEVICES = ["null", "zero", "full", "random", "urandom", "tty"];

/** Makes a mount read-only, keeping its locked flags (needed in a user namespace). */
export function makeReadonly(target: string, recursive: boolean): void {
  try {
    mountSetattr(target, { set: MOUNT_ATTR.RDONLY, recursive });
    return;
  } catch (e) {
    if (!(e instanceof SysError) || e.errno !== "ENOSYS") throw e;
  }
  // Old kernel: classic remount, carrying over nosuid/nodev/noexec (locked in a user ns).
  const locked = statvfsFlags(target) & (MS.NOSUID | MS.NODEV | MS.NOEXEC);
  mount(null, target, null, MS.REMOUNT | MS.BIND | MS.RDONLY | locked);
}

/** The layers of an overlay root: a read-only lower tree, the container's upper and work dirs. */
export interface OverlayDirs {
  lower: string;
  upper: string;
  work: string;
  /**
   * runperf: mount with overlayfs' `volatile` (no sync of the upper file system when it is unmounted: a
   * `--rm` container's changes are deleted anyway, as podman does for `--rm`). Ignored by kernels without it.
   */
  volatile?: boolean;
}

/**
 * Mounts an overlay of `dirs` on `target` (in the current mount namespace, which must be private).
 * In a user namespace overlayfs keeps its own xattrs as `user.overlay.*` (`userxattr`).
 */
export function mountOverlay(target: string, dirs: OverlayDirs, inUserNs: boolean): void {
  for (const p of [dirs.lower, dirs.upper, dirs.work]) {
    if (/[,:\\]/.test(p)) throw new Error(`overlay: the store path "${p}" contains ",", ":" or "\\"`);
  }
  const data = `lowerdir=${dirs.lower},upperdir=${dirs.upper},workdir=${dirs.work}${
    inUserNs ? ",userxattr" : ""
  }`;
  // a volatile mount leaves work/incompat/volatile behind, and overlayfs refuses any later mount of these dirs
  // while it exists (a `cp`/`mount` of a running `--rm` container's root, a restart after a crash)
  try {
    Deno.removeSync(`${dirs.work}/work/incompat`, { recursive: true });
  } catch { /* absent */ }
  if (dirs.volatile) {
    try {
      return mount("overlay", target, "overlay", 0, `${data},volatile`);
    } catch { /* a kernel before 5.10: without it */ }
  }
  mount("overlay", target, "overlay", 0, data);
}

function bind(source: string, target: string, recursive = true): void {
  mount(source, target, null, MS.BIND | (recursive ? MS.REC : 0));
}

function kindOf(path: string): CreateKind {
  try {
    return Deno.statSync(path).isDirectory ? "dir" : "file";
  } catch {
    return "dir";
  }
}

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
};

/** Applies one user mount under `root`. */
export function applyMount(root: string, m: MountSpec): void {
  if (m.type === "tmpfs") {
    const target = resolveInRoot(root, m.destination, { follow: true, create: "dir" });
    mount("tmpfs", target, "tmpfs", MS.NOSUID | MS.NODEV, m.data ?? null);
    if (m.readonly) makeReadonly(target, false);
    return;
  }
  if (!m.source) throw new Error(`bind mount on ${m.destination} has no source`);
  const target = resolveInRoot(root, m.destination, { follow: true, create: kindOf(m.source) });
  const recursive = m.recursive ?? true;
  bind(m.source, target, recursive);
  if (m.readonly) makeReadonly(target, recursive);
  if (m.propagation) mount(null, target, null, PROPAGATION[m.propagation]);
}

function gidMapped(spec: LaunchSpec, gid: number): boolean {
  if (!spec.namespaces.user || !spec.gidMap) return true;
  return spec.gidMap.some((m) => gid >= m.containerId && gid < m.containerId + m.size);
}

function symlink(target: string, path: string): void {
  try {
    Deno.symlinkSync(target, path);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}

/**
 * The rootfs' `/proc`, `/dev` or `/sys` as a mount point: a real directory (made when missing). An image's
 * symlink there is refused rather than followed, even inside the root (a link to `/` would put the mount
 * over the whole root file system).
 */
function apiMountPoint(root: string, name: "proc" | "dev" | "sys"): string {
  const host = `${root.replace(/\/+$/, "")}/${name}`;
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(host);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    Deno.mkdirSync(host, { mode: 0o755 });
    return host;
  }
  if (info.isSymlink) {
    let target = "";
    try {
      target = ` to ${JSON.stringify(Deno.readLinkSync(host))}`;
    } catch { /* unreadable: no target shown */ }
    throw new Error(
      `/${name} in the image is a symbolic link${target}: it must be a directory to mount ${name} on`,
    );
  }
  if (!info.isDirectory) {
    throw new Error(`/${name} in the image is not a directory: cannot mount ${name} on it`);
  }
  return host;
}

function mountDev(root: string, spec: LaunchSpec): void {
  const dev = apiMountPoint(root, "dev");
  if (spec.privileged) {
    bind("/dev", dev);
    return;
  }
  mount("tmpfs", dev, "tmpfs", MS.NOSUID, "mode=755,size=65536k");
  for (const d of DEVICES) {
    const t = `${dev}/${d}`;
    Deno.writeFileSync(t, new Uint8Array(0), { mode: 0o666 });
    bind(`/dev/${d}`, t, false);
  }
  Deno.mkdirSync(`${dev}/pts`);
  const pts = "newinstance,ptmxmode=0666,mode=0620";
  try {
    mount("devpts", `${dev}/pts`, "devpts", MS.NOSUID | MS.NOEXEC, gidMapped(spec, 5) ? `${pts},gid=5` : pts);
  } catch {
    mount("devpts", `${dev}/pts`, "devpts", MS.NOSUID | MS.NOEXEC, pts);
  }
  symlink("pts/ptmx", `${dev}/ptmx`);
  Deno.mkdirSync(`${dev}/shm`);
  mount("shm", `${dev}/shm`, "tmpfs", MS.NOSUID | MS.NODEV | MS.NOEXEC, "mode=1777,size=65536k");
  if (spec.namespaces.ipc || spec.join?.ipc) {
    Deno.mkdirSync(`${dev}/mqueue`);
    try {
      mount("mqueue", `${dev}/mqueue`, "mqueue", MS.NOSUID | MS.NODEV | MS.NOEXEC);
    } catch { /* no mqueue support: not fatal */ }
  }
  symlink("/proc/self/fd", `${dev}/fd`);
  symlink("/proc/self/fd/0", `${dev}/stdin`);
  symlink("/proc/self/fd/1", `${dev}/stdout`);
  symlink("/proc/self/fd/2", `${dev}/stderr`);
  symlink("/proc/kcore", `${dev}/core`);
  if (spec.ttyPath) {
    Deno.writeFileSync(`${dev}/console`, new Uint8Array(0), { mode: 0o600 });
    bind(spec.ttyPath, `${dev}/console`, false);
  }
}

function maskPaths(root: string, masked: string[], readonly: string[]): void {
  for (const p of masked) {
    const host = resolveInRoot(root, p, { follow: true });
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(host);
    } catch {
      continue;
    }
    try {
      if (info.isDirectory) mount("tmpfs", host, "tmpfs", MS.RDONLY, "size=0");
      else bind("/dev/null", host, false);
    } catch { /* best effort, like podman */ }
  }
  for (const p of readonly) {
    const host = resolveInRoot(root, p, { follow: true });
    try {
      Deno.statSync(host);
    } catch {
      continue;
    }
    bind(host, host);
    makeReadonly(host, true);
  }
}

/**
 * `--device`: as root without a user namespace the node is made with `mknod` (the host's type, numbers and
 * mode); in a user namespace (mknod is not allowed there) the host's node is bound onto an empty file.
 */
function addDevices(root: string, spec: LaunchSpec): void {
  const canMknod = !spec.namespaces.user;
  for (const d of spec.devices ?? []) {
    const st = Deno.statSync(d.source);
    const slash = d.destination.replace(/\/+$/, "").lastIndexOf("/");
    const base = d.destination.replace(/\/+$/, "").slice(slash + 1);
    if (!base || base === "." || base === "..") throw new Error(`--device: invalid path ${d.destination}`);
    const dir = resolveInRoot(root, d.destination.slice(0, slash) || "/", { follow: true, create: "dir" });
    const target = `${dir.replace(/\/+$/, "")}/${base}`;
    // never write to what is there: it may be a bind of a host device (/dev/zero): unmount and replace it
    let exists = true;
    try {
      Deno.lstatSync(target);
    } catch {
      exists = false;
    }
    if (exists) {
      try {
        umount2(target, 2 /* MNT_DETACH */);
      } catch { /* not a mount point */ }
      Deno.removeSync(target);
    }
    if (canMknod) {
      const rdev = st.rdev ?? 0;
      const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
      const minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff & 0xfffff);
      try {
        mknod(target, st.mode ?? 0o20666, major, minor);
        Deno.chmodSync(target, (st.mode ?? 0o666) & 0o7777);
        Deno.chownSync(target, st.uid, st.gid);
        continue;
      } catch {
        try {
          Deno.removeSync(target);
        } catch { /* not made */ }
      }
    }
    Deno.openSync(target, { write: true, createNew: true, mode: 0o600 }).close(); // bound over: mknod not allowed
    bind(d.source, target, false);
  }
}

/**
 * Builds the container's mounts under `spec.rootfs` (an overlay, or bound onto itself, mounted by the caller):
 * /proc, /dev, /sys, the /etc files, user mounts, masks and a read-only rootfs.
 */
export function setupMounts(spec: LaunchSpec): void {
  const root = spec.rootfs;
  const proc = apiMountPoint(root, "proc");
  if (spec.namespaces.pid || spec.join?.pid) mount("proc", proc, "proc", MS.NOSUID | MS.NODEV | MS.NOEXEC);
  else bind("/proc", proc);
  mountDev(root, spec);
  const sys = apiMountPoint(root, "sys");
  bind("/sys", sys);
  if (!spec.privileged) makeReadonly(sys, true);
  const etc: [string | undefined, string][] = [
    [spec.etc.hosts, "/etc/hosts"],
    [spec.etc.hostname, "/etc/hostname"],
    [spec.etc.resolvConf, "/etc/resolv.conf"],
    [spec.etc.containerEnv, "/run/.containerenv"],
  ];
  for (const [src, dst] of etc) {
    if (src) bind(src, resolveInRoot(root, dst, { follow: true, create: "file" }), false);
  }
  for (const m of spec.mounts) applyMount(root, m);
  if (spec.devices?.length) addDevices(root, spec);
  if (spec.init) {
    const t = resolveInRoot(root, INIT_PATH, { follow: true, create: "file" });
    bind(spec.init, t, false);
    makeReadonly(t, false);
  }
  if (!spec.privileged) {
    maskPaths(root, spec.maskedPaths ?? MASKED_PATHS, spec.readonlyPaths ?? READONLY_PATHS);
  } else if (spec.maskedPaths?.length) maskPaths(root, spec.maskedPaths, []);
  if (spec.readonlyRootfs) makeReadonly(root, false);
}
