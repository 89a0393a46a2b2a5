/** `pod container exists`: exit 0 when the container exists, 1 when not; prints nothing. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { NotFoundError } from "../../errors.ts";
import { lookupContainerId } from "../../store/containers.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "exists",
  usage: "pod container exists CONTAINER",
  summary: "Check if a container exists in local storage",
  minArgs: 1,
  maxArgs: 1,
  flags: [{
    name: "external",
    type: "bool",
    help: "Check external storage containers as well",
    ignored: true,
  }],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  try {
    await lookupContainerId(g.root, p.args[0]);
    return 0;
  } catch (e) {
    if (e instanceof NotFoundError) return 1;
    throw e;
  }
}
