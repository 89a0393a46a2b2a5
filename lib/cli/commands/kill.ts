/**
 * `pod kill`: send a signal (default SIGKILL) to running containers.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { forEachContainer } from "../targets.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "kill",
  usage: "pod kill [options] CONTAINER [CONTAINER...]",
  summary: "Kill one or more running containers with a specific signal",
  flags: [
    { name: "all", short: "a", type: "bool", help: "Signal all running containers" },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    { name: "signal", short: "s", type: "string", default: "KILL", help: "Signal to send to the container" },
    { name: "cidfile", type: "strings", help: "Read the container ID from the file", ignored: true },
  ],
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { killById } = await import("../../container/lifecycle.ts");
  const { parseSignal } = await import("../../oci/signals.ts");
  const sig = p.flags.signal as string;
  parseSignal(sig); // reject a bad signal before touching anything
  return await forEachContainer(g.root, p, { running: true }, async (id) => {
    await killById(g.root, id, sig);
  });
}
