/** `pod version`. @module */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { VERSION } from "../../version.ts";
import { printFormatted } from "../output.ts";

/** Flags and help. */
export const spec: CommandSpec = {
  name: "version",
  usage: "pod version [options]",
  summary: "Display the pod version information",
  maxArgs: 0,
  flags: [{
    name: "format",
    short: "f",
    type: "string",
    help: "Change the output format to JSON or a Go template",
  }],
};

/** Runs the command. */
export function run(p: Parsed, _g: Globals): Promise<number> {
  const arch = Deno.build.arch === "x86_64"
    ? "amd64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
  const info = {
    Version: VERSION,
    APIVersion: VERSION,
    DenoVersion: Deno.version.deno,
    OsArch: `${Deno.build.os}/${arch}`,
  };
  if (p.flags.format) {
    printFormatted(p.flags.format as string, [{ Client: info, ...info }]);
    return Promise.resolve(0);
  }
  console.log(
    [
      `Version:      ${info.Version}`,
      `API Version:  ${info.APIVersion}`,
      `Deno Version: ${info.DenoVersion}`,
      `OS/Arch:      ${info.OsArch}`,
    ].join("\n"),
  );
  return Promise.resolve(0);
}
