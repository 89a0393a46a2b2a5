/** `pod volume create`: a new volume (local driver; `-o type=tmpfs`, `-o o=bind -o device=DIR`). @module */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { println } from "../output.ts";
import { UsageError } from "../../errors.ts";

/** Parses repeated `k=v` flag values (`--label`, `-o`); a label without `=` has an empty value, as podman. */
export function keyValues(values: string[], what: string, needValue: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i === 0 || (i < 0 && needValue)) throw new UsageError(`invalid ${what} "${v}": use key=value`);
    if (i < 0) out[v] = "";
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export default defineCommand({
  name: "create",
  usage: "pod volume create [options] [NAME]",
  summary: "Create a new volume",
  maxArgs: 1,
  flags: {
    driver: str("d", "Specify volume driver name", { default: "local" }),
    label: strings("l", "Set metadata for a volume (e.g., --label mykey=value)"),
    opt: strings("o", "Set driver specific options (type=tmpfs, o=bind, device=DIR, o=size=…)"),
    ignore: bool("Don't fail if volume already exists"),
  },
  async run(flags, args, g) {
    const { createNamedVolume } = await import("../../volume/volumes.ts");
    const rec = await createNamedVolume(g.root, {
      name: args[0],
      driver: flags.driver,
      labels: keyValues(flags.label, "label", false),
      options: keyValues(flags.opt, "option", true),
      ignore: flags.ignore,
    });
    println(rec.name);
    return 0;
  },
});
