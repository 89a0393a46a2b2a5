/** `pod version`. @module */

import { defineCommand, str } from "../flags.ts";
import { VERSION } from "../../version.ts";
import { printFormatted, println } from "../output.ts";

export default defineCommand({
  name: "version",
  usage: "pod version [options]",
  summary: "Display the pod version information",
  maxArgs: 0,
  flags: { format: str("f", "Change the output format to JSON or a Go template") },
  async run(flags) {
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
    if (flags.format) {
      await printFormatted(flags.format, [{ Client: info, ...info }]);
      return 0;
    }
    println(
      `Version:      ${info.Version}`,
      `API Version:  ${info.APIVersion}`,
      `Deno Version: ${info.DenoVersion}`,
      `OS/Arch:      ${info.OsArch}`,
    );
    return 0;
  },
});
