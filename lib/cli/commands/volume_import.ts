/**
 * `pod volume import`: extract a tarball (file or `-`) into an existing volume, through the unpacker.
 * Rootless, pod runs the import again inside the user's namespace (its subordinate ids mapped as in its
 * containers), so the archive's owners land as the container sees them.
 * @module
 */

import { defineCommand } from "../flags.ts";
import { PodError, UsageError } from "../../errors.ts";

/** Set in the environment of the import that runs inside the user namespace. */
const IN_USERNS = "POD_VOLUME_IMPORT_USERNS";

export default defineCommand({
  name: "import",
  usage: "pod volume import VOLUME [SOURCE]",
  summary: "Import a tarball contents into a volume",
  minArgs: 2,
  maxArgs: 2,
  flags: {},
  async run(_flags, args, g) {
    const [name, src] = args;
    if (src === "-" && Deno.stdin.isTerminal()) throw new UsageError("cannot read a tarball from a terminal");
    const { getVolume } = await import("../../volume/volumes.ts");
    await getVolume(g.root, name); // a missing volume fails here, before any namespace
    if (Deno.uid() !== 0 && !Deno.env.get(IN_USERNS)) {
      if (src !== "-") await Deno.stat(src).catch(() => missing(src));
      const { runInUserns } = await import("../../ns/userns.ts");
      const { selfCommand } = await import("../self_exec.ts");
      const r = await runInUserns(
        { mapRootUser: true, subids: true },
        selfCommand(["--root", g.root, "volume", "import", name, src]),
        { env: { [IN_USERNS]: "1" } },
      );
      return r.code;
    }
    let stream: ReadableStream<Uint8Array>;
    if (src === "-") stream = Deno.stdin.readable;
    else {
      try {
        stream = (await Deno.open(src, { read: true })).readable;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) missing(src);
        throw e;
      }
    }
    const { importVolume } = await import("../../volume/archive.ts");
    await importVolume(g.root, name, stream);
    return 0;
  },
});

function missing(src: string): never {
  throw new PodError(`open ${src}: no such file or directory`, { code: "NOT_FOUND" });
}
