/**
 * `pod create`: create a container from an image without starting it. Its flags are shared with `run`.
 * @module
 */

import { bool, defineCommand, type FlagValues, int, str, strings } from "../flags.ts";
import type { Globals } from "../flags.ts";
import type { CreateOptions } from "../../container/create.ts";

const ignored = { ignored: true } as const;

/** Flags `create` and `run` share. */
export const containerFlags = {
  annotation: strings("Add annotations to container (key=value)"),
  entrypoint: str("Overwrite the default ENTRYPOINT of the image"),
  env: strings("e", "Set environment variables in container"),
  envFile: strings("Read in a file of environment variables"),
  hostname: str("h", "Set container hostname"),
  interactive: bool("i", "Make STDIN available to the contained process"),
  ipc: str("IPC namespace to use (host or private)"),
  label: strings("l", "Set metadata on container"),
  mount: strings("Attach a filesystem mount to the container"),
  name: str("Assign a name to the container"),
  network: str("Connect a container to a network (host, none, private)"),
  net: str("Connect a container to a network", { hidden: true }),
  pid: str("PID namespace to use (host or private)"),
  platform: str("Specify the platform for selecting the image"),
  privileged: bool("Give extended privileges to container"),
  pull: str('Pull image policy ("always"|"missing"|"never"|"newer")', { default: "missing" }),
  quiet: bool("q", "Suppress output information when pulling images"),
  readOnly: bool("Make containers root filesystem read-only"),
  replace: bool("If a container with the same name exists, replace it"),
  rm: bool("Remove container and any anonymous unnamed volume associated with the container after exit"),
  stopSignal: str("Signal to stop a container. Default is SIGTERM"),
  stopTimeout: int(
    "Timeout (in seconds) that containers stopped by user command have to exit. If exceeded, the container will be forcibly stopped via SIGKILL",
    { default: 10 },
  ),
  tmpfs: strings("Mount a temporary filesystem (tmpfs) into a container"),
  tty: bool("t", "Allocate a pseudo-TTY for container"),
  user: str("u", "Username or UID (format: <name|uid>[:<group|gid>])"),
  userns: str("User namespace to use (host, keep-id, auto)"),
  uts: str("UTS namespace to use (host or private)"),
  volume: strings("v", "Bind mount a volume into the container"),
  volumesFrom: strings("Mount volumes from the specified container(s) (CTR[:ro|rw])"),
  workdir: str("w", "Working directory inside the container"),
  addHost: strings("Add a custom host-to-IP mapping (host:ip)", ignored),
  arch: str("use ARCH instead of the architecture of the machine for choosing images", ignored),
  capAdd: strings("Add capabilities to the container"),
  capDrop: strings("Drop capabilities from the container"),
  cgroupManager: str("cgroup manager", ignored),
  cgroupns: str("cgroup namespace to use", ignored),
  cgroups: str("control container cgroup configuration", ignored),
  cpus: str("Number of CPUs", ignored),
  cpuShares: str("c", "CPU shares (relative weight)", ignored),
  detachKeys: str("Override the key sequence for detaching a container", ignored),
  device: strings("Add a host device to the container", ignored),
  dns: strings("Set custom DNS servers", ignored),
  groupAdd: strings("Add additional groups to the primary container process", ignored),
  healthCmd: str("set a healthcheck command for the container", ignored),
  init: bool("Run an init binary inside the container that forwards signals and reaps processes", ignored),
  logDriver: str("Logging driver for the container", ignored),
  logOpt: strings("Logging driver options", ignored),
  memory: str("m", "Memory limit", ignored),
  os: str("use OS instead of the running OS for choosing images", ignored),
  pidsLimit: str("Tune container pids limit", ignored),
  publish: strings("p", "Publish a container's port, or a range of ports, to the host", ignored),
  restart: str("Restart policy to apply when a container exits", ignored),
  securityOpt: strings("Security Options"),
  shmSize: str("Size of /dev/shm", ignored),
  sysctl: strings("Sysctl options", ignored),
  systemd: str("Run container in systemd mode", ignored),
  tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
  ulimit: strings("Ulimit options"),
  oomScoreAdj: int("Tune the host's OOM preferences (-1000 to 1000)"),
  runtime: str("Path to the OCI-compatible binary used to run containers (pod uses its own runtime)"),
  variant: str("Use VARIANT instead of the running architecture variant for choosing images", ignored),
};

/** The parsed values of {@link containerFlags}. */
export type ContainerFlags = FlagValues<typeof containerFlags>;

/** Turns parsed `create`/`run` flags into {@link CreateOptions}. */
export function createOptions(f: ContainerFlags, args: string[], g: Globals, command: string): CreateOptions {
  let platform = f.platform;
  if (!platform && (f.arch || f.os || f.variant)) {
    platform = [f.os ?? "linux", f.arch ?? "amd64", f.variant].filter((x) => x).join("/");
  }
  return {
    image: args[0],
    args: args.slice(1),
    name: f.name,
    env: f.env,
    envFile: f.envFile,
    volumes: f.volume,
    volumesFrom: f.volumesFrom,
    mounts: f.mount,
    tmpfs: f.tmpfs,
    workdir: f.workdir,
    user: f.user,
    entrypoint: f.entrypoint,
    hostname: f.hostname,
    labels: f.label,
    annotations: f.annotation,
    pid: f.pid,
    ipc: f.ipc,
    uts: f.uts,
    network: f.network ?? f.net,
    privileged: f.privileged,
    userns: f.userns,
    stopSignal: f.stopSignal,
    stopTimeout: f.stopTimeout,
    readOnly: f.readOnly,
    platform,
    tlsVerify: f.tlsVerify,
    pull: f.pull,
    rm: f.rm,
    tty: f.tty,
    interactive: f.interactive,
    quiet: f.quiet,
    capAdd: f.capAdd,
    capDrop: f.capDrop,
    securityOpt: f.securityOpt,
    ulimit: f.ulimit,
    oomScoreAdj: f.oomScoreAdj,
    runtime: f.runtime ?? g.runtime,
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

export default defineCommand({
  name: "create",
  usage: "pod create [options] IMAGE [COMMAND [ARG...]]",
  summary: "Create but do not start a container",
  flags: containerFlags,
  minArgs: 1,
  stopAtFirstArg: true,
  async run(flags, args, g, given) {
    const [{ createContainer }, { ProgressPrinter }, { err, println }] = await Promise.all([
      import("../../container/create.ts"),
      import("../views/progress.ts"),
      import("../output.ts"),
    ]);
    const o = createOptions(flags, args, g, "create");
    if (!given.has("tlsVerify")) o.tlsVerify = undefined; // registries.conf decides (imagesio3)
    if (flags.replace) await replaceExisting(g.root, o.name);
    const progress = new ProgressPrinter({ quiet: o.quiet, write: err });
    let rec;
    try {
      rec = await createContainer(g.root, { ...o, onEvent: o.quiet ? undefined : progress.handle });
    } finally {
      progress.finish();
    }
    println(rec.config.id);
    return 0;
  },
});
