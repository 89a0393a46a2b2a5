/** `pod pod inspect`, `pod pod exists`, `pod pod top`, `pod pod logs`. @module */

import { UsageError } from "../../errors.ts";
import { bool, defineCommand, int, str } from "../flags.ts";
import { printFormatted, printJson, printTable } from "../output.ts";
import { podInspect, type PodView } from "../views/pod.ts";

async function podView(root: string, nameOrId: string): Promise<PodView> {
  const { getPod } = await import("../../store/pods.ts");
  const { applyExitPolicy, podStatus } = await import("../../container/pod/pods.ts");
  const pod = await getPod(root, nameOrId);
  const containers = await applyExitPolicy(root, pod);
  return { pod, containers, status: podStatus(containers) };
}

async function latestPod(root: string): Promise<string> {
  const { listPods } = await import("../../store/pods.ts");
  const p = (await listPods(root))[0];
  if (!p) throw new UsageError("no pods to act on (--latest)");
  return p.id;
}

/** `pod pod inspect`. */
export const podInspectCommand = defineCommand({
  name: "inspect",
  usage: "pod pod inspect [options] POD [POD...]",
  summary: "Display a pod configuration",
  flags: {
    format: str("f", "Format the output to JSON or a Go template"),
    latest: bool("l", "Act on the latest pod pod is aware of"),
  },
  async run(flags, args, g) {
    if (flags.latest) args = [await latestPod(g.root)];
    if (!args.length) {
      throw new UsageError("you must provide the name or id of a pod", "See 'pod pod inspect --help'");
    }
    const items = [];
    for (const a of args) items.push(podInspect(await podView(g.root, a)));
    if (flags.format && flags.format !== "json") await printFormatted(flags.format, items);
    else printJson(items.length === 1 ? items[0] : items);
    return 0;
  },
});

/** `pod pod exists`: exit 0 when the pod exists, 1 when not. */
export const podExists = defineCommand({
  name: "exists",
  usage: "pod pod exists POD",
  summary: "Check if a pod exists in local storage",
  minArgs: 1,
  maxArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    const { getPod } = await import("../../store/pods.ts");
    const { NotFoundError } = await import("../../errors.ts");
    try {
      await getPod(g.root, args[0]);
      return 0;
    } catch (e) {
      if (e instanceof NotFoundError) return 1;
      throw e;
    }
  },
});

/** `pod pod top`: the processes of every running container of the pod. */
export const podTop = defineCommand({
  name: "top",
  usage: "pod pod top [options] POD [FORMAT-DESCRIPTORS|ARGS...]",
  summary: "Display the running processes of containers in a pod",
  stopAtFirstArg: true,
  flags: { latest: bool("l", "Act on the latest pod pod is aware of") },
  async run(flags, args, g) {
    if (flags.latest) args = [await latestPod(g.root), ...args];
    if (!args.length) {
      throw new UsageError("you must provide the name or id of a running pod", "See 'pod pod top --help'");
    }
    const v = await podView(g.root, args[0]);
    const running = v.containers.filter((c) => c.state.status === "running" || c.state.status === "paused");
    if (!running.length) {
      const { PodError } = await import("../../errors.ts");
      throw new PodError(`pod ${v.pod.id} is not running: pod state improper`, { code: "STATE" });
    }
    const { topRows } = await import("../../container/top.ts");
    let headers: string[] = [];
    const rows: string[][] = [];
    for (const c of running) {
      const [h, ...r] = topRows(g.root, c, args.slice(1));
      headers = h;
      rows.push(...r);
    }
    printTable(headers, rows);
    return 0;
  },
});

/** `pod pod logs`: the logs of the pod's containers (the infra's never has any), each line prefixed. */
export const podLogs = defineCommand({
  name: "logs",
  usage: "pod pod logs [options] POD",
  summary: "Fetch logs for pod with one or more containers",
  flags: {
    container: str("c", "Filter logs by container name or id which belongs to pod"),
    follow: bool("f", "Follow log output"),
    latest: bool("l", "Act on the latest pod pod is aware of"),
    names: bool("Output container names instead of container IDs in the log"),
    since: str("Show logs since TIMESTAMP"),
    tail: int("n", "Output the specified number of LINES at the end of the logs", { default: -1 }),
    timestamps: bool("t", "Output the timestamps in the log"),
    until: str("Show logs until TIMESTAMP"),
    color: bool("Output the containers with different colors in the log", { ignored: true }),
  },
  async run(flags, args, g) {
    if (flags.latest) args = [await latestPod(g.root)];
    if (args.length !== 1) {
      throw new UsageError("pod logs needs exactly one pod name or ID", "See 'pod pod logs --help'");
    }
    const v = await podView(g.root, args[0]);
    let ctrs = v.containers.filter((c) => !c.config.isInfra);
    if (flags.container) {
      const want = flags.container;
      ctrs = ctrs.filter((c) => c.config.name === want || c.config.id.startsWith(want));
      if (!ctrs.length) throw new UsageError(`container ${want} is not in pod ${v.pod.name}`);
    }
    const { parseSince } = await import("../../container/logs.ts");
    const { showLogs } = await import("./logs.ts");
    const since = flags.since ? parseSince(flags.since) : undefined;
    const until = flags.until ? parseSince(flags.until) : undefined;
    await Promise.all(
      ctrs.map((c) =>
        showLogs(g.root, c.config.id, { follow: flags.follow, since, until, tail: flags.tail }, {
          timestamps: flags.timestamps,
          prefix: `${flags.names ? c.config.name : c.config.id.slice(0, 12)} `,
        })
      ),
    );
    return 0;
  },
});
