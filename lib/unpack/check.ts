/**
 * The rules of the unpacker (`apply.ts`) that need no file system: what a layer's entries may say whatever
 * is already on disk. `load` puts every layer of an archive through them (with the diff_id check) instead of
 * building the image tree, which waits for the first start; the tree build then applies every rule, these
 * and the ones that depend on the tree (a hardlink to a missing file, a parent that is not a directory…).
 * @module
 */

import { cleanName, RuleError } from "./contain.ts";
import type { TarEntry } from "./tar.ts";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * Throws the unpacker's {@link RuleError} for an entry it would refuse on any tree: an unknown type (a GNU
 * volume label aside), a sparse file, a NUL byte or a `..` above the root in its name or hardlink target, a
 * non-directory for the root, an empty or NUL symlink target, a hardlink to the root, an invalid whiteout.
 */
export function checkEntry(e: TarEntry): void {
  if (e.type === "other") {
    if (e.typeflag === "V") return;
    throw new RuleError(`unsupported entry type ${JSON.stringify(e.typeflag)}`);
  }
  for (const k of e.pax.keys()) {
    if (k.startsWith("GNU.sparse.")) throw new RuleError("sparse files are not supported");
  }
  const parts = cleanName(e.name);
  const leaf = parts.at(-1);
  if (leaf === undefined) {
    if (e.type !== "dir") throw new RuleError("entry would replace the root directory");
    return;
  }
  if (leaf.startsWith(WHITEOUT)) {
    if (leaf === OPAQUE || leaf.startsWith(WHITEOUT + WHITEOUT)) return;
    const name = leaf.slice(WHITEOUT.length);
    if (name === "" || name === "." || name === "..") throw new RuleError("invalid whiteout name");
    return;
  }
  if (e.type === "symlink" && (e.linkname === "" || e.linkname.includes("\0"))) {
    throw new RuleError("invalid symlink target");
  }
  if (e.type === "hardlink" && cleanName(e.linkname, "hardlink target").length === 0) {
    throw new RuleError("hardlink to the root directory");
  }
}
