/** `pod rmi`: remove images (a name, or the whole image), then unreferenced blobs. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { deleteImageEntries, ensureStore, findImage, listImages, untagImage } from "../../store/images.ts";
import { collectGarbage } from "../../store/gc.ts";
import { PodError, UsageError } from "../../errors.ts";
import { parseReference } from "../../oci/reference.ts";
import { containersUsingImage } from "../../store/containers.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "rmi",
  usage: "pod rmi [options] IMAGE [IMAGE...]",
  summary: "Remove one or more images from local storage",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Remove all images" },
    {
      name: "force",
      short: "f",
      type: "bool",
      help: "Force removal of the image and any containers using it",
    },
    { name: "ignore", short: "i", type: "bool", help: "Ignore errors if a specified image does not exist" },
  ],
};

/** podman's exit codes for rmi: 1 = an image was not found, 2 = an image is in use. */
const NOT_FOUND = 1;
const IN_USE = 2;

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const all = p.flags.all as boolean;
  const force = p.flags.force as boolean;
  if (!all && p.args.length === 0) throw new UsageError("image name or ID must be specified");
  if (all && p.args.length) {
    throw new UsageError("when using the --all switch, you may not pass any images names or IDs");
  }
  await ensureStore(g.root);
  const targets = all ? (await listImages(g.root)).map((i) => i.id) : p.args;
  let code = 0;
  for (const arg of targets) {
    try {
      await removeOne(g.root, arg, force, all);
    } catch (e) {
      if (!(e instanceof PodError)) throw e;
      if (e.exitCode === NOT_FOUND && p.flags.ignore) continue;
      console.error(`Error: ${e.message.split("\n")[0]}`);
      code = code || e.exitCode;
    }
  }
  await collectGarbage(g.root);
  const { pruneTrees } = await import("../../container/trees_gc.ts");
  await pruneTrees(g.root);
  return code;
}

async function removeOne(root: string, arg: string, force: boolean, byId: boolean): Promise<void> {
  const img = await findImage(root, arg);
  if (!img) throw new PodError(`${arg}: image not known`, NOT_FOUND);
  // a name (not an ID) removes just that name while others remain
  const name = byId ? undefined : nameGiven(arg, img.names);
  if (name && img.names.length > 1) {
    await untagImage(root, name);
    console.log(`Untagged: ${name}`);
    return;
  }
  if (!name && img.names.length > 1 && !force) {
    throw new PodError(
      `unable to delete image "${img.id}" by ID with more than one tag (${
        img.names.join(", ")
      }): please force removal`,
      IN_USE,
    );
  }
  const users = await containersUsingImage(root, img.id);
  if (users.length && !force) {
    throw new PodError(
      `image used by ${
        users[0].id
      }: image is in use by a container: consider listing external containers and force-removing image`,
      IN_USE,
    );
  }
  if (users.length) {
    const { removeById } = await import("../../container/lifecycle.ts");
    for (const u of users) await removeById(root, u.id, { force: true, timeout: 0 });
  }
  // checked again under the store lock: a `create` racing this rmi either is seen here or sees the image gone
  await deleteImageEntries(root, img, async () => {
    const late = await containersUsingImage(root, img.id);
    if (late.length) {
      throw new PodError(`image used by ${late[0].id}: image is in use by a container`, IN_USE);
    }
  });
  for (const n of img.names) console.log(`Untagged: ${n}`);
  console.log(`Deleted: ${img.id}`);
}

function nameGiven(arg: string, names: string[]): string | undefined {
  if (/^(sha256:)?[a-f0-9]{3,64}$/.test(arg) && !names.some((n) => n.includes(arg))) return undefined;
  try {
    const full = parseReference(arg).toString();
    if (names.includes(full)) return full;
  } catch { /* not a name */ }
  // a short name that matched one of several registries' images
  return names.find((n) =>
    n.endsWith(`/${arg}`) || n.endsWith(`/${arg}:latest`) || n.endsWith(`/library/${arg}:latest`)
  );
}
