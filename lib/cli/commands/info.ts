/** `pod info`: the host and store pod works with, in podman's structure. @module */

import { bool, defineCommand, str } from "../flags.ts";
import { printFormatted, printJson } from "../output.ts";
import { ensureStore } from "../../store/images.ts";

export default defineCommand({
  name: "info",
  usage: "pod info [options]",
  summary: "Display pod related system information",
  maxArgs: 0,
  flags: {
    format: str("f", "Change the output format to JSON or a Go template"),
    debug: bool("D", "Display additional debug information", { ignored: true, hidden: true }),
  },
  async run(flags, _args, g) {
    await ensureStore(g.root);
    const { hostInfo, infoJson } = await import("../views/info.ts");
    const info = await hostInfo(g.root);
    if (flags.format && flags.format !== "json") await printFormatted(flags.format, [info]);
    else printJson(infoJson(info));
    return 0;
  },
});
