/**
 * `pod top`: display the running processes of a container.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "top",
  usage: "pod top [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]",
  summary: "Display the running processes of a container",
  flags: [{ name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" }],
  stopAtFirstArg: true,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { getContainer, listContainers } = await import("../../store/containers.ts");
  const { topRows } = await import("../../container/top.ts");
  const { tabulate } = await import("../../container/ps.ts");
  let args = p.args;
  let rec;
  if (p.flags.latest) rec = (await listContainers(g.root))[0];
  else {
    if (!args.length) {
      const { UsageError } = await import("../../errors.ts");
      throw new UsageError("you must provide the name or id of a running container");
    }
    rec = await getContainer(g.root, args[0]);
    args = args.slice(1);
  }
  Deno.stdout.writeSync(new TextEncoder().encode(tabulate(topRows(g.root, rec, args))));
  return 0;
}
