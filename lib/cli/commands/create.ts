/**
 * `pod create`: create a container from an image without starting it. Its flags are shared with `run`.
 * @module
 */

import type { CommandSpec, FlagSpec, Globals, Parsed } from "../flags.ts";
import type { CreateOptions } from "../../container/create.ts";

const ign = (name: string, type: FlagSpec["type"], help: string, short?: string): FlagSpec => ({
  name,
  type,
  help,
  short,
  ignored: true,
});

/** Flags `create` and `run` share. */
export const containerFlags: FlagSpec[] = [
  { name: "annotation", type: "strings", help: "Add annotations to container (key=value)" },
  { name: "entrypoint", type: "string", help: "Overwrite the default ENTRYPOINT of the image" },
  { name: "env", short: "e", type: "strings", help: "Set environment variables in container" },
  { name: "env-file", type: "strings", help: "Read in a file of environment variables" },
  { name: "hostname", short: "h", type: "string", help: "Set container hostname" },
  { name: "interactive", short: "i", type: "bool", help: "Make STDIN available to the contained process" },
  { name: "ipc", type: "string", help: "IPC namespace to use (host or private)" },
  { name: "label", short: "l", type: "strings", help: "Set metadata on container" },
  { name: "mount", type: "strings", help: "Attach a filesystem mount to the container" },
  { name: "name", type: "string", help: "Assign a name to the container" },
  { name: "network", type: "string", help: "Connect a container to a network (host, none, private)" },
  { name: "net", type: "string", help: "Connect a container to a network", hidden: true },
  { name: "pid", type: "string", help: "PID namespace to use (host or private)" },
  { name: "platform", type: "string", help: "Specify the platform for selecting the image" },
  { name: "privileged", type: "bool", help: "Give extended privileges to container" },
  {
    name: "pull",
    type: "string",
    default: "missing",
    help: 'Pull image policy ("always"|"missing"|"never"|"newer")',
  },
  { name: "quiet", short: "q", type: "bool", help: "Suppress output information when pulling images" },
  { name: "read-only", type: "bool", help: "Make containers root filesystem read-only" },
  { name: "replace", type: "bool", help: "If a container with the same name exists, replace it" },
  {
    name: "rm",
    type: "bool",
    help: "Remove container and any anonymous unnamed volume associated with the container after exit",
  },
  { name: "stop-signal", type: "string", help: "Signal to stop a container. Default is SIGTERM" },
  {
    name: "stop-timeout",
    type: "int",
    help:
      "Timeout (in seconds) that containers stopped by user command have to exit. If exceeded, the container will be forcibly stopped via SIGKILL",
    default: 10,
  },
  { name: "tmpfs", type: "strings", help: "Mount a temporary filesystem (tmpfs) into a container" },
  { name: "tty", short: "t", type: "bool", help: "Allocate a pseudo-TTY for container" },
  { name: "user", short: "u", type: "string", help: "Username or UID (format: <name|uid>[:<group|gid>])" },
  { name: "userns", type: "string", help: "User namespace to use (host, keep-id, auto)" },
  { name: "uts", type: "string", help: "UTS namespace to use (host or private)" },
  { name: "volume", short: "v", type: "strings", help: "Bind mount a volume into the container" },
  { name: "workdir", short: "w", type: "string", help: "Working directory inside the container" },
  ign("add-host", "strings", "Add a custom host-to-IP mapping (host:ip)"),
  ign("arch", "string", "use ARCH instead of the architecture of the machine for choosing images"),
  ign("cap-add", "strings", "Add capabilities to the container"),
  ign("cap-drop", "strings", "Drop capabilities from the container"),
  ign("cgroup-manager", "string", "cgroup manager"),
  ign("cgroupns", "string", "cgroup namespace to use"),
  ign("cgroups", "string", "control container cgroup configuration"),
  ign("cpus", "string", "Number of CPUs"),
  ign("cpu-shares", "string", "CPU shares (relative weight)", "c"),
  ign("detach-keys", "string", "Override the key sequence for detaching a container"),
  ign("device", "strings", "Add a host device to the container"),
  ign("dns", "strings", "Set custom DNS servers"),
  ign("group-add", "strings", "Add additional groups to the primary container process"),
  ign("health-cmd", "string", "set a healthcheck command for the container"),
  ign("init", "bool", "Run an init binary inside the container that forwards signals and reaps processes"),
  ign("log-driver", "string", "Logging driver for the container"),
  ign("log-opt", "strings", "Logging driver options"),
  ign("memory", "string", "Memory limit", "m"),
  ign("os", "string", "use OS instead of the running OS for choosing images"),
  ign("pids-limit", "string", "Tune container pids limit"),
  ign("publish", "strings", "Publish a container's port, or a range of ports, to the host", "p"),
  ign("restart", "string", "Restart policy to apply when a container exits"),
  ign("security-opt", "strings", "Security Options"),
  ign("shm-size", "string", "Size of /dev/shm"),
  ign("sysctl", "strings", "Sysctl options"),
  ign("systemd", "string", "Run container in systemd mode"),
  {
    name: "tls-verify",
    type: "bool",
    default: true,
    help: "Require HTTPS and verify certificates when contacting registries",
  },
  ign("ulimit", "strings", "Ulimit options"),
  ign("variant", "string", "Use VARIANT instead of the running architecture variant for choosing images"),
];

/** Command spec. */
export const spec: CommandSpec = {
  name: "create",
  usage: "pod create [options] IMAGE [COMMAND [ARG...]]",
  summary: "Create but do not start a container",
  flags: containerFlags,
  minArgs: 1,
  stopAtFirstArg: true,
};

/** Turns parsed `create`/`run` flags into {@link CreateOptions}. */
export function createOptions(p: Parsed, g: Globals, command: string): CreateOptions {
  const f = p.flags;
  const str = (k: string) => (p.given.has(k) ? (f[k] as string) : undefined);
  const list = (k: string) => (f[k] as string[] | undefined) ?? [];
  let platform = str("platform");
  if (!platform && (str("arch") || str("os") || str("variant"))) {
    platform = [str("os") ?? "linux", str("arch") ?? "amd64", str("variant")].filter((x) => x).join("/");
  }
  return {
    image: p.args[0],
    args: p.args.slice(1),
    name: str("name"),
    env: list("env"),
    envFile: list("env-file"),
    volumes: list("volume"),
    mounts: list("mount"),
    tmpfs: list("tmpfs"),
    workdir: str("workdir"),
    user: str("user"),
    entrypoint: str("entrypoint"),
    hostname: str("hostname"),
    labels: list("label"),
    annotations: list("annotation"),
    pid: str("pid"),
    ipc: str("ipc"),
    uts: str("uts"),
    network: str("network") ?? str("net"),
    privileged: f.privileged as boolean,
    userns: str("userns"),
    stopSignal: str("stop-signal"),
    stopTimeout: f["stop-timeout"] as number,
    readOnly: f["read-only"] as boolean,
    platform,
    tlsVerify: f["tls-verify"] as boolean,
    pull: f.pull as string,
    rm: f.rm as boolean,
    tty: f.tty as boolean,
    interactive: f.interactive as boolean,
    quiet: f.quiet as boolean,
    argv0: g.argv0,
    createCommand: [g.argv0, command, ...Deno.args.slice(Deno.args.indexOf(command) + 1)],
  };
}

/** Removes an existing container of that name (`--replace`). */
export async function replaceExisting(root: string, name: string | undefined): Promise<void> {
  if (!name) return;
  const { lookupContainerId } = await import("../../store/containers.ts");
  const id = await lookupContainerId(root, name).catch(() => undefined);
  if (!id) return;
  const { removeById } = await import("../../container/lifecycle.ts");
  await removeById(root, id, { force: true, volumes: true });
}

/** Runs the command. */
export async function run(p: Parsed, g: Globals): Promise<number> {
  const [{ createContainer }, { ProgressPrinter }] = await Promise.all([
    import("../../container/create.ts"),
    import("../../image/progress.ts"),
  ]);
  const o = createOptions(p, g, "create");
  if (p.flags.replace) await replaceExisting(g.root, o.name);
  const progress = new ProgressPrinter({ quiet: o.quiet });
  let rec;
  try {
    rec = await createContainer(g.root, { ...o, onEvent: o.quiet ? undefined : progress.handle });
  } finally {
    progress.finish();
  }
  console.log(rec.config.id);
  return 0;
}
