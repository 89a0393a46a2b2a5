/**
 * `pod update`: change a stopped container's environment, labels, volumes, entrypoint, hostname and
 * namespaces (lilipod's fields, podman's flag names). Resource limits are accepted and ignored.
 * @module
 */

import type { CommandSpec, FlagSpec, Globals, Parsed } from "../flags.ts";

const IGNORED_RESOURCES = [
  "blkio-weight",
  "blkio-weight-device",
  "cpu-period",
  "cpu-quota",
  "cpu-rt-period",
  "cpu-rt-runtime",
  "cpu-shares",
  "cpus",
  "cpuset-cpus",
  "cpuset-mems",
  "device-read-bps",
  "device-read-iops",
  "device-write-bps",
  "device-write-iops",
  "memory",
  "memory-reservation",
  "memory-swap",
  "memory-swappiness",
  "pids-limit",
  "restart",
  "health-cmd",
  "health-interval",
  "health-retries",
  "health-start-period",
  "health-timeout",
];

/** Command spec. */
export const spec: CommandSpec = {
  name: "update",
  usage: "pod update [options] CONTAINER",
  summary: "Update the configuration of a stopped container",
  flags: [
    { name: "env", short: "e", type: "strings", help: "Set environment variables (KEY=value)" },
    { name: "env-file", type: "strings", help: "Read environment variables from a file" },
    { name: "unset-env", type: "strings", help: "Remove an environment variable" },
    { name: "label", short: "l", type: "strings", help: "Set a label (key=value)" },
    { name: "unset-label", type: "strings", help: "Remove a label" },
    { name: "volume", short: "v", type: "strings", help: "Add or replace a bind mount or volume" },
    { name: "unset-volume", type: "strings", help: "Remove the mount at this container path" },
    {
      name: "entrypoint",
      type: "string",
      help: "Replace the entrypoint (JSON array or one word; the command is kept)",
    },
    { name: "hostname", type: "string", help: "Set the container host name" },
    { name: "pid", type: "string", help: "PID namespace: host or private" },
    { name: "ipc", type: "string", help: "IPC namespace: host or private" },
    { name: "uts", type: "string", help: "UTS namespace: host or private" },
    { name: "network", type: "string", help: "Network namespace: host or private" },
    { name: "net", type: "string", help: "Alias of --network", hidden: true },
    { name: "latest", type: "bool", help: "Act on the latest container pod is aware of", hidden: true },
    ...IGNORED_RESOURCES.map((name): FlagSpec => ({
      name,
      type: "string",
      help: "Resource limit (accepted, not applied by pod)",
      ignored: true,
      hidden: true,
    })),
  ],
  minArgs: 0,
  maxArgs: 1,
};

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const { UsageError } = await import("../../errors.ts");
  const { updateContainer } = await import("../../container/update.ts");
  let target = p.args[0];
  if (p.flags.latest) {
    const { listContainers } = await import("../../store/containers.ts");
    target = (await listContainers(g.root))[0]?.config.id;
    if (!target) throw new UsageError("no containers to update");
  }
  if (!target) throw new UsageError(`"update" requires a container name or id`);
  const str = (k: string) => (p.given.has(k) ? p.flags[k] as string : undefined);
  const id = await updateContainer(g.root, target, {
    env: p.flags.env as string[],
    envFile: p.flags["env-file"] as string[],
    unsetEnv: p.flags["unset-env"] as string[],
    labels: p.flags.label as string[],
    unsetLabels: p.flags["unset-label"] as string[],
    volumes: p.flags.volume as string[],
    unsetVolumes: p.flags["unset-volume"] as string[],
    entrypoint: str("entrypoint"),
    hostname: str("hostname"),
    pid: str("pid"),
    ipc: str("ipc"),
    uts: str("uts"),
    network: str("network") ?? str("net"),
  });
  console.log(id);
  return 0;
}
