/** `pod network inspect`: networks as podman's JSON, or a Go template. @module */

import { defineCommand, str } from "../flags.ts";
import { NotFoundError } from "../../errors.ts";
import { out, printError, printFormatted } from "../output.ts";

export default defineCommand({
  name: "inspect",
  usage: "pod network inspect [options] NETWORK [NETWORK...]",
  summary: "Displays the network configuration for one or more networks",
  minArgs: 1,
  flags: { format: str("f", "Pretty-print network to JSON or using a Go template") },
  async run(flags, args, g) {
    const { readNetworks, findNetworkIn, networkNotFound } = await import("../../network/config.ts");
    const { networkTemplateView, networksJson } = await import("../views/network.ts");
    const all = await readNetworks(g.root);
    const found = [];
    let code = 0;
    for (const name of args) {
      try {
        const n = findNetworkIn(all, name);
        if (!n) throw networkNotFound(name);
        found.push(n);
      } catch (e) {
        const missing = e instanceof NotFoundError;
        printError(missing ? new NotFoundError(`inspecting object: network ${name}: ${e.message}`) : e);
        code = 125;
      }
    }
    if (flags.format && flags.format !== "json") {
      await printFormatted(flags.format, found.map((n) => networkTemplateView(n)));
    } else out(networksJson(found));
    return code;
  },
});
