/**
 * `pod update`: change a stopped container's environment, labels, volumes, entrypoint, hostname and
 * namespaces (lilipod's fields, podman's flag names), and the resource limits of any container (a running
 * one's cgroup at once).
 * @module
 */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { err, println } from "../output.ts";
import { limitFlags, resourceOptions } from "../resource_flags.ts";

const IGNORED = { ignored: true, hidden: true } as const;

const IGNORED_RESOURCES = [
  "blkio-weight-device",
  "cpu-rt-period",
  "cpu-rt-runtime",
  "device-read-bps",
  "device-read-iops",
  "device-write-bps",
  "device-write-iops",
  "restart",
  "health-cmd",
  "health-interval",
  "health-retries",
  "health-start-period",
  "health-timeout",
];

/** Resource limits: accepted (hidden) and not applied. */
const resourceFlags = Object.fromEntries(
  IGNORED_RESOURCES.map((name) => [name, str("Resource limit (accepted, not applied by pod)", IGNORED)]),
);

export default defineCommand({
  name: "update",
  usage: "pod update [options] CONTAINER",
  summary: "Update the configuration of a container (resource limits also while it runs)",
  flags: {
    env: strings("e", "Set environment variables (KEY=value)"),
    envFile: strings("Read environment variables from a file"),
    unsetEnv: strings("Remove an environment variable"),
    label: strings("l", "Set a label (key=value)"),
    unsetLabel: strings("Remove a label"),
    volume: strings("v", "Add or replace a bind mount or volume"),
    unsetVolume: strings("Remove the mount at this container path"),
    entrypoint: str("Replace the entrypoint (JSON array or one word; the command is kept)"),
    hostname: str("Set the container host name"),
    pid: str("PID namespace: host or private"),
    ipc: str("IPC namespace: host or private"),
    uts: str("UTS namespace: host or private"),
    network: str("Network namespace: host or private"),
    net: str("Alias of --network", { hidden: true }),
    latest: bool("Act on the latest container pod is aware of", { hidden: true }),
    ...resourceFlags,
    ...limitFlags,
  },
  minArgs: 0,
  maxArgs: 1,
  async run(flags, args, g) {
    const { UsageError } = await import("../../errors.ts");
    const { updateContainer } = await import("../../container/update.ts");
    let target = args[0];
    if (flags.latest) {
      const { listContainers } = await import("../../store/containers.ts");
      target = (await listContainers(g.root))[0]?.config.id;
      if (!target) throw new UsageError("no containers to update");
    }
    if (!target) throw new UsageError(`"update" requires a container name or id`, "See 'pod update --help'");
    const id = await updateContainer(g.root, target, {
      env: flags.env,
      envFile: flags.envFile,
      unsetEnv: flags.unsetEnv,
      labels: flags.label,
      unsetLabels: flags.unsetLabel,
      volumes: flags.volume,
      unsetVolumes: flags.unsetVolume,
      entrypoint: flags.entrypoint,
      hostname: flags.hostname,
      pid: flags.pid,
      ipc: flags.ipc,
      uts: flags.uts,
      network: flags.network ?? flags.net,
      resources: resourceOptions(flags),
      usageHint: "See 'pod update --help'",
      onWarning: (m) => err(`${m}\n`),
    });
    println(id);
    return 0;
  },
});
