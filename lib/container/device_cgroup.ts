/**
 * runtime3 (issue 13): the v1 `devices` cgroup rules of a root container with `--device`s, as runc writes them
 * for podman: everything denied, then runc's default devices (null, zero, full, random, urandom, tty, console,
 * ptmx, pts, tun, and `m` — mknod — of any), then each `--device` with its permissions (`r`, `w`, `m`; default
 * `rwm`). Rootless, and on cgroup v2 (runc uses eBPF there), the permissions are not enforced: a warning says so.
 * @module
 */

import type { DeviceConfig } from "../store/containers.ts";

/** runc's default allow list (libcontainer/specconv AllowedDevices), `type major:minor access` lines. */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  "c *:* m",
  "b *:* m",
  "c 1:3 rwm", // null
  "c 1:8 rwm", // random
  "c 1:7 rwm", // full
  "c 5:0 rwm", // tty
  "c 1:5 rwm", // zero
  "c 1:9 rwm", // urandom
  "c 5:1 rwm", // console
  "c 136:* rwm", // pts
  "c 5:2 rwm", // ptmx
  "c 10:200 rwm", // tun
];

/** The `devices.allow` line of a `--device`: its host node's type and numbers, its permissions. */
export function deviceRule(d: DeviceConfig): string {
  const st = Deno.statSync(d.source);
  const rdev = st.rdev ?? 0;
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff & 0xfffff);
  return `${st.isBlockDevice ? "b" : "c"} ${major}:${minor} ${d.permissions || "rwm"}`;
}

/** The allow rules of a container with `devices` (undefined: none given, nothing restricted). */
export function deviceRules(devices: DeviceConfig[] | undefined): string[] | undefined {
  if (!devices?.length) return undefined;
  return [...DEFAULT_DEVICE_RULES, ...devices.map(deviceRule)];
}

/** Whether a `--device` asks for less than `rwm` (what a host without a devices cgroup cannot enforce). */
export function restrictsDevices(devices: DeviceConfig[]): boolean {
  return devices.some((d) =>
    d.permissions !== "" && !["r", "w", "m"].every((p) => d.permissions.includes(p))
  );
}

/**
 * The warning for `--device` permissions pod cannot enforce (undefined when it can, or none were asked for):
 * rootless (no devices cgroup; the node is bound with its host file permissions, as podman does) or a host
 * without the v1 devices controller (cgroup v2: runc loads an eBPF program, pod does not).
 */
export function devicePermissionsWarning(
  devices: DeviceConfig[],
  privileged: boolean,
  devicesController: boolean,
): string | undefined {
  if (privileged || !restrictsDevices(devices)) return undefined;
  if (Deno.uid() !== 0) {
    return "--device permissions are not enforced rootless: the device is bound with its host file permissions";
  }
  if (!devicesController) {
    return "--device permissions are not enforced: this host has no cgroup v1 devices controller";
  }
  return undefined;
}
