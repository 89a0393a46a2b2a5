/**
 * `pod attach`: follows a detached container's output from now on and, when it was started with `-i`, passes
 * this terminal's input to it (raw, when the container has a tty) until it exits (then pod exits with its
 * code) or the detach keys are typed (the container keeps running).
 * @module
 */

import { bool, defineCommand, str } from "../flags.ts";
import { PodError } from "../../errors.ts";

export default defineCommand({
  name: "attach",
  usage: "pod attach [options] CONTAINER",
  summary: "Attach to a running container",
  flags: {
    detachKeys: str(
      'Select the key sequence for detaching a container (default "ctrl-p,ctrl-q", "" for none)',
    ),
    latest: bool("l", "Act on the latest container pod is aware of"),
    noStdin: bool("Do not attach STDIN"),
    sigProxy: bool("Proxy received signals to the process", { default: true }),
  },
  maxArgs: 1,
  async run(flags, args, g) {
    const { containerPaths, getContainer, listContainers } = await import("../../store/containers.ts");
    const rec = flags.latest ? (await listContainers(g.root))[0] : await getContainer(g.root, args[0] ?? "");
    if (!rec) throw new PodError("no containers to attach to", { code: "NOT_FOUND" });
    if (rec.state.status !== "running") {
      throw new PodError(`you can only attach to running containers: container state improper`, {
        code: "STATE",
      });
    }
    const { DEFAULT_DETACH_KEYS, forwardInput, parseDetachKeys } = await import("../attach_input.ts");
    const keys = parseDetachKeys(flags.detachKeys ?? DEFAULT_DETACH_KEYS);
    const { showLogs } = await import("./logs.ts");
    const { waitFor } = await import("../../container/wait.ts");
    const { signalContainer } = await import("../../ns/signals.ts");
    const forward: [Deno.Signal, () => void][] = flags.sigProxy
      ? (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, () => {
        signalContainer(rec.state.pid, s);
      }])
      : [];
    for (const [s, f] of forward) Deno.addSignalListener(s, f);
    const stopped = Promise.withResolvers<void>();
    try {
      const output = showLogs(g.root, rec.config.id, { follow: true, since: Date.now(), pollMs: 20 });
      const input = flags.noStdin || !rec.config.process.stdin ? undefined : forwardInput(
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
  },
});
