/** `pod container exists`: exit 0 when the container exists, 1 when not; prints nothing. @module */

import { bool, defineCommand } from "../flags.ts";
import { NotFoundError } from "../../errors.ts";
import { lookupContainerId } from "../../store/containers.ts";

export default defineCommand({
  name: "exists",
  usage: "pod container exists CONTAINER",
  summary: "Check if a container exists in local storage",
  minArgs: 1,
  maxArgs: 1,
  flags: { external: bool("Check external storage containers as well", { ignored: true }) },
  async run(_flags, args, g) {
    try {
      await lookupContainerId(g.root, args[0]);
      return 0;
    } catch (e) {
      if (e instanceof NotFoundError) return 1;
      throw e;
    }
  },
});
