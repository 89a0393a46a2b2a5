/**
 * `pod rename`: give a container a new name.
 * @module
 */

import { writeContainerEvents } from "../../store/events.ts";
import { defineCommand } from "../flags.ts";

export default defineCommand({
  name: "rename",
  usage: "pod rename CONTAINER NAME",
  summary: "Rename an existing container",
  flags: {},
  minArgs: 2,
  maxArgs: 2,
  async run(_flags, args, g) {
    const { lookupContainerId, renameContainer } = await import("../../store/containers.ts");
    const id = await lookupContainerId(g.root, args[0]);
    await renameContainer(g.root, id, args[1]);
    const { getContainer } = await import("../../store/containers.ts");
    const rec = await getContainer(g.root, id).catch(() => undefined);
    if (rec) writeContainerEvents(g.root, rec, ["rename"]);
    return 0;
  },
});
