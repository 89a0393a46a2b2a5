/** `pod network exists`: exit 0 when the network exists, 1 when not; prints nothing. @module */

import { defineCommand } from "../flags.ts";

export default defineCommand({
  name: "exists",
  usage: "pod network exists NETWORK",
  summary: "Check if network exists",
  minArgs: 1,
  maxArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    const { findNetwork } = await import("../../network/config.ts");
    return (await findNetwork(g.root, args[0])) ? 0 : 1;
  },
});
