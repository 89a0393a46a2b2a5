/**
 * `pod healthcheck run CONTAINER`: runs the container's health check once, as podman: exit 0 and nothing
 * printed when it passed; `unhealthy` (or `starting`, a failure inside the start period) printed and exit 1.
 * @module
 */

import { defineCommand } from "../flags.ts";

export default defineCommand({
  name: "healthcheck run",
  usage: "pod healthcheck run CONTAINER",
  summary: "Run the health check of a container",
  flags: {},
  minArgs: 1,
  maxArgs: 1,
  async run(_flags, args, g) {
    const { healthcheckRun } = await import("../../container/healthcheck.ts");
    const result = await healthcheckRun(g.root, args[0]);
    if (result === "healthy") return 0;
    (await import("../output.ts")).println(result);
    return 1;
  },
});
