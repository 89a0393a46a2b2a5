/** `pod volume inspect`: volumes as podman's JSON, or a Go template. @module */

import { bool, defineCommand, str } from "../flags.ts";
import { NotFoundError, UsageError } from "../../errors.ts";
import { printError, printFormatted, printJson } from "../output.ts";

export default defineCommand({
  name: "inspect",
  usage: "pod volume inspect [options] VOLUME [VOLUME...]",
  summary: "Display detailed information on one or more volumes",
  flags: {
    all: bool("a", "Inspect all volumes"),
    format: str("f", "Format volume output using JSON or a Go template"),
  },
  async run(flags, args, g) {
    if (!flags.all && args.length === 0) {
      throw new UsageError("provide one or more volume names or use --all");
    }
    if (flags.all && args.length) {
      throw new UsageError("when using the --all switch, you may not pass any volume names");
    }
    const { getVolume, inspectVolume, listVolumes } = await import("../../volume/volumes.ts");
    const items: Record<string, unknown>[] = [];
    let code = 0;
    if (flags.all) items.push(...(await listVolumes(g.root)).map(inspectVolume));
    for (const name of args) {
      try {
        items.push(inspectVolume(await getVolume(g.root, name)));
      } catch (e) {
        printError(e instanceof NotFoundError ? new NotFoundError(`inspecting object: ${e.message}`) : e);
        code = 125;
      }
    }
    if (flags.format && flags.format !== "json") await printFormatted(flags.format, items);
    else printJson(items);
    return code;
  },
});
