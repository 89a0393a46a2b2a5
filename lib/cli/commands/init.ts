/**
 * `pod init`: podman's "initialize" step on its own — the container's root file system is prepared (a vfs
 * container's image is extracted; an overlay container's image tree is built by its first start) without
 * running its command, and an `init` event is written. Refused for a running container, as podman's.
 * @module
 */

import { bool, defineCommand } from "../flags.ts";
import { forEachContainer } from "../targets.ts";
import { PodError } from "../../errors.ts";

export default defineCommand({
  name: "init",
  usage: "pod init [options] CONTAINER [CONTAINER...]",
  summary: "Initialize one or more containers",
  flags: {
    all: bool("a", "Initialize all containers"),
    latest: bool("l", "Act on the latest container pod is aware of"),
  },
  async run(flags, args, g) {
    const { readContainer } = await import("../../store/containers.ts");
    const { ensureRootfs } = await import("../../container/start.ts");
    const { writeContainerEvents } = await import("../../store/events.ts");
    return await forEachContainer(
      g.root,
      { flags, args },
      { status: flags.all ? "created" : undefined },
      async (id) => {
        const rec = await readContainer(g.root, id);
        if (rec.state.status === "running" || rec.state.status === "paused") {
          throw new PodError(`container ${id} has already been created in runtime: container state improper`);
        }
        await ensureRootfs(g.root, rec);
        writeContainerEvents(g.root, rec, ["init"]);
      },
    );
  },
});
