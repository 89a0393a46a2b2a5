/**
 * `pod top`: display the running processes of a container.
 * @module
 */

import { bool, defineCommand } from "../flags.ts";

export default defineCommand({
  name: "top",
  usage: "pod top [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]",
  summary: "Display the running processes of a container",
  flags: { latest: bool("l", "Act on the latest container pod is aware of") },
  stopAtFirstArg: true,
  async run(flags, args, g) {
    const { getContainer, listContainers } = await import("../../store/containers.ts");
    const { topRows } = await import("../../container/top.ts");
    const { printTable } = await import("../output.ts");
    let rec;
    if (flags.latest) rec = (await listContainers(g.root))[0];
    else {
      if (!args.length) {
        const { UsageError } = await import("../../errors.ts");
        throw new UsageError(
          "you must provide the name or id of a running container",
          "See 'pod top --help'",
        );
      }
      rec = await getContainer(g.root, args[0]);
      args = args.slice(1);
    }
    const [headers, ...rows] = topRows(g.root, rec, args);
    printTable(headers, rows);
    return 0;
  },
});
