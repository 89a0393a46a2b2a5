/**
 * The default infra image, made locally as podman makes `localhost/podman-pause`: one layer with the host's
 * (static) `catatonit` at `/catatonit` and the empty directories a root needs, entrypoint `/catatonit -P`
 * (catatonit's pause mode: it only waits for a signal). No pull: the image is built the first time a pod
 * needs it, under the store lock so two pod creates build it once.
 * @module
 */

import { PodError } from "../../errors.ts";
import { hostBinary } from "../../ns/helpers_check.ts";
import { findImage } from "../../store/images.ts";
import { withLock } from "../../store/lock.ts";
import { podPaths } from "../../store/pods.ts";
import type { TarWriteEntry } from "../../unpack/tar_write.ts";
import { VERSION } from "../../version.ts";

/** The name of the default infra image. */
export const INFRA_IMAGE = `localhost/pod-pause:${VERSION}`;

/** The infra image's id, building it first when the store has none. */
export async function ensureInfraImage(root: string): Promise<string> {
  const have = await findImage(root, INFRA_IMAGE);
  if (have) return have.id;
  const catatonit = hostBinary("catatonit");
  if (!catatonit) {
    throw new PodError(
      'the pod infra container needs catatonit: install catatonit ("apt-get install catatonit" or ' +
        '"dnf install catatonit"), or use --infra-image',
      { code: "MISSING_TOOL" },
    );
  }
  const { importImage } = await import("../../image/import.ts");
  const { writeTar } = await import("../../unpack/tar_write.ts");
  await Deno.mkdir(podPaths(root).dir, { recursive: true, mode: 0o700 });
  return await withLock(`${podPaths(root).dir}/pause.lock`, async () => {
    const again = await findImage(root, INFRA_IMAGE);
    if (again) return again.id;
    const body = await Deno.readFile(catatonit);
    const mtime = { sec: Math.floor(Date.now() / 1000), nsec: 0 };
    const dir = (name: string, mode = 0o755): TarWriteEntry => ({
      name,
      type: "dir",
      mode,
      uid: 0,
      gid: 0,
      mtime,
    });
    const entries: TarWriteEntry[] = [
      ...["dev", "etc", "proc", "run", "sys"].map((d) => dir(d)),
      dir("tmp", 0o1777),
      { name: "catatonit", type: "file", mode: 0o755, uid: 0, gid: 0, mtime, size: body.length, body },
    ];
    const r = await importImage(root, { stream: writeTar(entries) }, {
      name: INFRA_IMAGE,
      changes: [
        'ENTRYPOINT ["/catatonit", "-P"]',
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ],
      message: "pod infra image (catatonit -P)",
    });
    return r.id;
  });
}
