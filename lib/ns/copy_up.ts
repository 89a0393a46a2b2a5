/**
 * podman's volume copy-up, done by stage 2 inside the container's namespaces before the volume is mounted:
 * the image's directory at the mount's destination (resolved inside the rootfs, never out of it) is copied
 * into the empty volume with `cp -a` (owners, modes, links as they are in the container; rootless: as the
 * user namespace maps them), and the volume's top directory takes that directory's owner and mode.
 * @module
 */

import { resolveInRoot } from "../unpack/contain.ts";

/** Copies `<rootfs><destination>` (when it is a directory) into `dataDir`. */
export function copyUp(rootfs: string, destination: string, dataDir: string): void {
  let src: string;
  try {
    src = resolveInRoot(rootfs, destination, { follow: true });
  } catch {
    return; // nothing there (or not resolvable inside the root): nothing to copy
  }
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(src);
  } catch {
    return;
  }
  if (!st.isDirectory) return;
  const r = new Deno.Command("cp", { args: ["-a", "--", `${src}/.`, `${dataDir}/`], stderr: "piped" })
    .outputSync();
  if (!r.success) {
    const line = new TextDecoder().decode(r.stderr).trim().split("\n")[0];
    throw new Error(`copying ${destination} into its volume: ${line || `cp exited ${r.code}`}`);
  }
  if (st.uid !== null && st.gid !== null) Deno.chownSync(dataDir, st.uid, st.gid);
  Deno.chmodSync(dataDir, st.mode! & 0o7777);
}
