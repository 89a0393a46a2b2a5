/**
 * `pod attach`: follows a detached container's output from now on and, when it was started with `-i`, passes
 * this terminal's input to it (raw, when the container has a tty) until it exits (then pod exits with its
 * code) or the detach keys are typed (the container keeps running).
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
      help: 'Select the key sequence for detaching a container (default "ctrl-p,ctrl-q", "" for none)',
    },
    { name: "latest", short: "l", type: "bool", help: "Act on the latest container pod is aware of" },
    { name: "no-stdin", type: "bool", help: "Do not attach STDIN" },
    { name: "sig-proxy", type: "bool", default: true, help: "Proxy received signals to the process" },
  ],
  maxArgs: 1,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { containerPaths, getContainer, listContainers } = await import("../../store/containers.ts");
  const rec = p.flags.latest
    ? (await listContainers(g.root))[0]
    : await getContainer(g.root, p.args[0] ?? "");
  if (!rec) throw new PodError("no containers to attach to");
  if (rec.state.status !== "running") {
    throw new PodError(`you can only attach to running containers: container state improper`);
  }
  const { DEFAULT_DETACH_KEYS, forwardInput, parseDetachKeys } = await import(
    "../attach_input.ts"
  );
  const keys = parseDetachKeys((p.flags["detach-keys"] as string | undefined) ?? DEFAULT_DETACH_KEYS);
  const { printLogs } = await import("../../container/logs.ts");
  const { waitFor } = await import("../../container/wait.ts");
  const { signalContainer } = await import("../../ns/signals.ts");
  const forward: [Deno.Signal, () => void][] = p.flags["sig-proxy"]
    ? (["SIGINT", "SIGTERM", "SIGHUP"] as Deno.Signal[]).map((s) => [s, () => {
      signalContainer(rec.state.pid, s);
    }])
    : [];
  for (const [s, f] of forward) Deno.addSignalListener(s, f);
  const stopped = Promise.withResolvers<void>();
  try {
    const output = printLogs(g.root, rec.config.id, { follow: true, since: Date.now(), pollMs: 20 });
    const input = p.flags["no-stdin"] || !rec.config.process.stdin ? undefined : forwardInput(
      containerPaths(g.root, rec.config.id).attach,
      keys,
      rec.config.process.terminal,
      stopped.promise,
    );
    const detached = input?.then((r) => r === "detached" ? true : new Promise<boolean>(() => {}));
    if (await Promise.race([output.then(() => false), ...(detached ? [detached] : [])])) return 0;
    stopped.resolve();
    await input;
    return await waitFor(g.root, rec.config.id, ["stopped"]);
  } finally {
    stopped.resolve();
    for (const [s, f] of forward) Deno.removeSignalListener(s, f);
  }
}
