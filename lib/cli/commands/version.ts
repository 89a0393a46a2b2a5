/** `pod version`: podman's `Client:` block; `--format` over `{ Client, Server }` (no server: null). @module */

import { defineCommand, str } from "../flags.ts";
import { printFormatted, println } from "../output.ts";

export default defineCommand({
  name: "version",
  usage: "pod version [options]",
  summary: "Display the pod version information",
  maxArgs: 0,
  flags: { format: str("f", "Change the output format to JSON or a Go template") },
  async run(flags) {
    const { versionInfo } = await import("../views/version_info.ts");
    const c = versionInfo();
    if (flags.format === "json") {
      println(JSON.stringify({ Client: c })); // one line, as podman
      return 0;
    }
    if (flags.format) {
      // `{{.Version}}` as before, besides podman's `{{.Client.Version}}`
      await printFormatted(flags.format, [{ ...c, Client: c, Server: null }]);
      return 0;
    }
    println(
      "Client:       pod",
      `Version:      ${c.Version}`,
      `API Version:  ${c.APIVersion}`,
      `Deno Version: ${c.DenoVersion}`,
      `Built:        ${c.BuiltTime || "-"}`,
      `OS/Arch:      ${c.OsArch}`,
    );
    return 0;
  },
});
