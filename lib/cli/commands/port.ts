/** `pod port`: published ports (pod has no port publishing yet, so the list is empty). @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { UsageError } from "../../errors.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "port",
  usage: "pod port [options] CONTAINER [PRIVATE_PORT[/PROTO]]",
  summary: "List port mappings or a specific mapping for the container",
  maxArgs: 2,
  flags: [
    { name: "all", short: "a", type: "bool", help: "Display port information for all containers" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
  ],
};

/** Runs the command: checks the container exists, then prints nothing (no published ports). */
export async function run(p: Parsed, g: Globals): Promise<number> {
  if (!p.flags.all && !p.flags.latest && p.args.length === 0) {
    throw new UsageError("you must supply a running container name or ID");
  }
  if (p.args[0]) {
    const { lookupContainerId } = await import("../../store/containers.ts");
    await lookupContainerId(g.root, p.args[0]);
  }
  return 0;
}
