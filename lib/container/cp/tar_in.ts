/**
 * Writing into a container for `pod cp`: every write goes through the unpacker. The source is packed as a
 * tar stream whose entry names are rootfs-relative (lib/unpack/tar_write.ts) and applied on the rootfs, so
 * the unpacker's resolver re-resolves each path at write time and a symlink the container planted can never
 * lead a write outside its root. A tar stream given on stdin is re-encoded with its names moved under the
 * destination first.
 * @module
 */

import { PodError } from "../../errors.ts";
import { debug } from "../../log.ts";
import type { TarWriteEntry } from "../../unpack/tar_write.ts";
import { checkName, join } from "./paths.ts";
import { checkProcRoot, isProcRoot } from "./proc_root.ts";

/**
 * Re-encodes a tar stream read from `input` with names moved under `prefix` and ownership decided by `owner`.
 */
export async function* retarUnder(
  input: ReadableStream<Uint8Array>,
  prefix: string,
  owner: (uid: number, gid: number) => { uid: number; gid: number },
): AsyncGenerator<TarWriteEntry> {
  const { readTar } = await import("../../unpack/tar.ts");
  const { cleanName } = await import("../../unpack/contain.ts");
  const under = (n: string, what: string): string => {
    let parts: string[];
    try {
      parts = cleanName(n, what);
    } catch (e) {
      throw new PodError(`invalid tar entry ${JSON.stringify(n)}: ${e instanceof Error ? e.message : e}`);
    }
    const leaf = parts.at(-1);
    if (leaf) checkName(leaf, n);
    return join(prefix, parts.join("/"));
  };
  for await (const e of readTar(input)) {
    if (e.type === "other") {
      debug(`cp: skipping tar entry ${e.name} of type ${JSON.stringify(e.typeflag)}`);
      continue;
    }
    const name = under(e.name, "path");
    if (name === prefix) {
      if (e.type !== "dir") throw new PodError("the tar stream would replace the destination directory");
      continue; // the destination itself keeps its owner and mode
    }
    yield {
      name,
      type: e.type,
      mode: e.mode,
      mtime: e.mtime,
      ...owner(e.uid, e.gid),
      linkname: e.type === "hardlink" ? under(e.linkname, "hardlink target") : e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: e.size,
      body: e.type === "file"
        ? async function* () {
          for await (const part of e.body()) yield part.slice();
        }
        : undefined,
    };
  }
}

/**
 * Applies entries (names relative to `dir`) onto `dir` through the unpacker. A `/proc/<pid>/root` target is
 * given to the unpacker's applier as it is: `applyLayer` canonicalizes its target, which would make that
 * magic link the host's `/`.
 */
export async function applyEntries(dir: string, entries: AsyncIterable<TarWriteEntry>): Promise<void> {
  const { writeTar } = await import("../../unpack/tar_write.ts");
  if (isProcRoot(dir)) {
    await applyUnder(dir, writeTar(entries));
    return;
  }
  const { applyLayer } = await import("../../unpack/mod.ts");
  try {
    await applyLayer(dir, ReadableStream.from(writeTar(entries)), {
      digest: "cp",
      mediaType: "application/vnd.oci.image.layer.v1.tar",
    }, { maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (e) {
    if (e instanceof PodError) {
      const message = e.message.replace(/^layer cp: /, "copying: ");
      throw new PodError(message, { exitCode: e.exitCode, code: e.code, cause: e });
    }
    throw e;
  }
}

/** The unpacker's layer applier on the root `base` taken as it is (already a trusted root path). */
async function applyUnder(base: string, tar: AsyncIterable<Uint8Array>): Promise<void> {
  const [{ Extraction, LayerApplier }, { Root }, { readTar }] = await Promise.all([
    import("../../unpack/apply.ts"),
    import("../../unpack/contain.ts"),
    import("../../unpack/tar.ts"),
  ]);
  const applier = new LayerApplier(new Extraction(new Root(base)));
  let current: string | undefined;
  try {
    for await (const e of readTar(tar)) {
      checkProcRoot(base);
      current = e.name;
      await applier.apply(e);
      current = undefined;
    }
    applier.finish();
  } catch (e) {
    if (e instanceof PodError && e.code !== "SYSCALL") throw e; // a failed call gets the entry's name
    const where = current !== undefined ? `entry ${JSON.stringify(current)}: ` : "";
    const code = e instanceof PodError ? e.code : undefined;
    throw new PodError(`copying: ${where}${e instanceof Error ? e.message : e}`, { code, cause: e });
  }
}
