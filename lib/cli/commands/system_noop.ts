/**
 * podman's `system` commands that have nothing to do in pod, kept so scripts calling them work: `migrate`
 * (pod's containers need no migration between versions), `renumber` (pod has no lock numbers) and
 * `connection ls` (pod is daemonless: no connections, an empty list).
 * @module
 */

import { bool, defineCommand, str } from "../flags.ts";
import { err, out, printJson } from "../output.ts";
import { UsageError } from "../../errors.ts";

/** `pod system migrate`. */
export const migrateCommand = defineCommand({
  name: "migrate",
  usage: "pod system migrate [options]",
  summary: "Migrate containers (nothing to do in pod)",
  maxArgs: 0,
  flags: { newRuntime: str("Specify a new runtime for all containers") },
  run() {
    err("pod's containers need no migration: nothing to do\n");
    return Promise.resolve(0);
  },
});

/** `pod system renumber`. */
export const renumberCommand = defineCommand({
  name: "renumber",
  usage: "pod system renumber",
  summary: "Migrate lock numbers (nothing to do in pod)",
  maxArgs: 0,
  flags: {},
  run() {
    err("pod has no lock numbers: nothing to do\n");
    return Promise.resolve(0);
  },
});

/** `pod system connection ls`: always empty (the only subcommand pod has of podman's `connection` group). */
export const connectionCommand = defineCommand({
  name: "connection",
  usage: "pod system connection ls [options]",
  summary: "Manage remote API service destinations (none: pod is daemonless)",
  maxArgs: 1,
  flags: {
    format: str("f", "Custom Go template for printing connections"),
    quiet: bool("q", "Only print connection names"),
  },
  run(flags, args) {
    if (args[0] !== "ls" && args[0] !== "list") {
      throw new UsageError(
        args[0] === undefined
          ? "pod system connection: pod has no remote connections; only `ls` is available"
          : `unrecognized command \`pod system connection ${
            args[0]
          }\`: pod is daemonless, it has no remote connections`,
        "Try 'pod system connection ls'",
      );
    }
    if (flags.format === "json" || flags.format === "{{json .}}") printJson([]);
    else if (!flags.format && !flags.quiet) out("Name        URI         Identity    Default\n");
    return Promise.resolve(0);
  },
});
