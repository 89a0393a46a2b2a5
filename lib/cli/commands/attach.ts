/**
 * `pod attach` (best effort): follow a detached container's output from now until it exits, then exit
 * with its code. pod has no daemon holding the container's stdin, so input is not forwarded.
 * @module
 */

import type { CommandSpec, Globals, Parsed } from "../flags.ts";
import { PodError } from "../../errors.ts";

/** Command spec. */
export const spec: CommandSpec = {
  name: "attach",
  usage: "pod attach [options] CONTAINER",
  summary: "Attach to a running container",
  flags: [
    {
      name: "detach-keys",
      type: "string",
      help: "Select the key sequence for detaching a container",
      ignored: true,
    },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    { name: "no-stdin", type: "bool", help: "Do not attach STDIN", ignored: true },
    { name: "sig-proxy", type: "bool", default: true, help: "Proxy received signals to the process" },
  ],
  maxArgs: 1,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { getContainer, listContainers } = await import("../../store/containers.ts");
  const rec = p.flags.latest
    ? (await listContainers(g.root))[0]
    : await getContainer(g.root, p.args[0] ?? "");
  if (!rec) throw new PodError("no containers to attach to");
  if (rec.state.status !== "running") {
    throw new PodError(`you can only attach to running containers: container state improper`);
  }
  const { printLogs } = await import("../../runtime/logs.ts");
  const { waitFor } = await import("../../runtime/wait.ts");
  const { signalContainer } = await import("../../ns/signals.ts");
  const forward: [Deno.Signal, () => void][] = p.flags["sig-proxy"]
    ? (["SIGINT", "SIGTERM", "SIGHUP"] as Deno.Signal[]).map((s) => [s, () => {
      signalContainer(rec.state.pid, s);
    }])
    : [];
  for (const [s, f] of forward) Deno.addSignalListener(s, f);
  try {
    await printLogs(g.root, rec.config.id, { follow: true, since: Date.now() });
    return await waitFor(g.root, rec.config.id, ["stopped"]);
  } finally {
    for (const [s, f] of forward) Deno.removeSignalListener(s, f);
  }
}
