/**
 * `pod create`: create a container from an image without starting it. Its flags are shared with `run`.
 * @module
 */

import { bool, defineCommand, type FlagValues, int, str, strings } from "../flags.ts";
import type { Globals } from "../flags.ts";
import { PodError } from "../../errors.ts";
import type { CreateOptions } from "../../container/create.ts";
import { resourceFlags, resourceOptions } from "../resource_flags.ts";
import { warnLine } from "../../log.ts";

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
  labelFile: strings("Read in a line delimited file of labels"), // surface (issue 14)
  mount: strings("Attach a filesystem mount to the container"),
  name: str("Assign a name to the container"),
  network: strings(
    "Connect a container to a network (private, none, host, bridge, slirp4netns[:opts], pasta[:args], NAME[:opts])",
  ),
  net: strings("Connect a container to a network", { hidden: true }),
  // --- net scope (issue 12) ---
  dnsSearch: strings("Set custom DNS search domains"),
  dnsOption: strings("Set custom DNS options"),
  noHosts: bool("Do not create /etc/hosts within the container, instead use the version from the image"),
  ip: strings("Specify a static IPv4 address for the container"),
  macAddress: str("Container MAC address (e.g. 92:d0:c6:0a:29:33)"),
  networkAlias: strings("Add network-scoped alias for the container"),
  publishAll: bool("P", "Publish all exposed ports to random ports on the host interfaces"),
  pid: str("PID namespace to use (host or private)"),
  pod: str("Run container in an existing pod (NAME|ID), or a new one (new:NAME)"),
  platform: str("Specify the platform for selecting the image"),
  privileged: bool("Give extended privileges to container"),
  pull: str('Pull image policy ("always"|"missing"|"never"|"newer")', { default: "missing" }),
  quiet: bool("q", "Suppress output information when pulling images"),
  readOnly: bool("Make containers root filesystem read-only"),
  readOnlyTmpfs: bool(
    "When running containers in read-only mode mount a read-write tmpfs on /run, /tmp and /var/tmp",
    { default: true },
  ),
  replace: bool("If a container with the same name exists, replace it"),
  rootfs: bool("The first argument is not an image but the rootfs to the exploded container (DIR[:O])"),
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
  addHost: strings("Add a custom host-to-IP mapping (host:ip)"),
  arch: str("use ARCH instead of the architecture of the machine for choosing images", ignored),
  capAdd: strings("Add capabilities to the container"),
  capDrop: strings("Drop capabilities from the container"),
  cgroupManager: str("cgroup manager", ignored),
  cgroupns: str("cgroup namespace to use", ignored),
  detachKeys: str("Override the key sequence for detaching a container", ignored),
  device: strings("Add a host device to the container"),
  dns: strings("Set custom DNS servers"),
  groupAdd: strings(
    "Add additional groups to the primary container process. 'keep-groups' allows container processes to use supplementary groups.",
  ),
  healthCmd: str("set a healthcheck command for the container ('none' disables the existing healthcheck)"),
  healthInterval: str(
    'set an interval for the healthchecks (a value of disable results in no automatic timer setup) (default "30s")',
  ),
  healthOnFailure: str('action to take once the container turns unhealthy (default "none")'),
  healthRetries: int(
    "the number of retries allowed before a healthcheck is considered to be unhealthy (default 3)",
  ),
  healthStartPeriod: str('the initialization time needed for a container to bootstrap (default "0s")'),
  healthTimeout: str(
    'the maximum time allowed to complete the healthcheck before an interval is considered failed (default "30s")',
  ),
  noHealthcheck: bool("Disable healthchecks on container"),
  init: bool("Run an init binary inside the container that forwards signals and reaps processes"),
  initPath: str("Path to the container-init binary"),
  cidfile: str("Write the container ID to the file"),
  pidfile: str("Write the container process ID to the file"),
  conmonPidfile: str("Path to the file that will receive the PID of the supervisor (pod's conmon)"),
  tz: str("Set timezone in container (local, or an Area/City name)"),
  timeout: int(
    "Maximum length of time a container is allowed to run. The container will be killed automatically after the time expires.",
  ),
  envHost: bool("Use all current host environment variables in container"),
  envMerge: strings("Preprocess environment variables from image before injecting them into the container"),
  logDriver: str("Logging driver for the container (k8s-file, none, passthrough)"),
  logOpt: strings("Logging driver options (path=, max-size=, tag=)"),
  os: str("use OS instead of the running OS for choosing images", ignored),
  publish: strings("p", "Publish a container's port, or a range of ports, to the host"),
  restart: str(
    'Restart policy to apply when a container exits ("always"|"no"|"on-failure"|"unless-stopped")',
  ),
  securityOpt: strings("Security Options"),
  shmSize: str("Size of /dev/shm", ignored),
  sysctl: strings("Sysctl options"),
  systemd: str("Run container in systemd mode", ignored),
  tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
  ulimit: strings("Ulimit options"),
  oomScoreAdj: int("Tune the host's OOM preferences (-1000 to 1000)"),
  runtime: str(
    "Path to the OCI-compatible binary used to run containers (runc or crun as root; else pod's own runtime)",
  ),
  variant: str("Use VARIANT instead of the running architecture variant for choosing images", ignored),
  ...resourceFlags,
};

/** The parsed values of {@link containerFlags}. */
export type ContainerFlags = FlagValues<typeof containerFlags>;

/** `--label-file` lines (`key=value` or `key`; blank lines and `#` comments skipped), before `--label`s. */
function labelFileLines(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(f);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "no such file or directory" : String(e);
      throw new PodError(`open ${f}: ${why}`);
    }
    for (const line of text.split("\n")) {
      const l = line.trim();
      if (l && !l.startsWith("#")) out.push(l);
    }
  }
  return out;
}

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
    labels: [...labelFileLines(f.labelFile), ...f.label],
    annotations: f.annotation,
    pid: f.pid,
    ipc: f.ipc,
    uts: f.uts,
    network: [...(f.network ?? []), ...(f.net ?? [])][0],
    // --- net scope (issue 12) ---
    networks: [...(f.network ?? []), ...(f.net ?? [])],
    publish: f.publish,
    publishAll: f.publishAll,
    dns: f.dns,
    dnsSearch: f.dnsSearch,
    dnsOption: f.dnsOption,
    addHost: f.addHost,
    noHosts: f.noHosts,
    ip: f.ip,
    macAddress: f.macAddress,
    networkAlias: f.networkAlias,
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
    resourceOptions: resourceOptions(f),
    usageHint: `See 'pod ${command} --help'`,
    onWarning: warnLine,
    init: f.init,
    initPath: f.initPath,
    restart: f.restart,
    health: healthFlags(f),
    devices: f.device,
    groupAdd: f.groupAdd,
    sysctls: f.sysctl,
    readOnlyTmpfs: f.readOnlyTmpfs,
    rootfs: f.rootfs,
    cidFile: f.cidfile,
    pidFile: f.pidfile,
    conmonPidFile: f.conmonPidfile,
    logDriver: f.logDriver,
    logOpts: f.logOpt,
    timezone: f.tz,
    timeout: f.timeout,
    envHost: f.envHost,
    envMerge: f.envMerge,
    argv0: g.argv0,
    pod: f.pod,
    createCommand: [g.argv0, command, ...Deno.args.slice(Deno.args.indexOf(command) + 1)],
  };
}

/** `--pod new:NAME`: creates the pod (defaults of `pod pod create --name NAME`) and names it by id. */
export async function newPodIfAsked(root: string, o: CreateOptions): Promise<void> {
  if (!o.pod?.startsWith("new:")) return;
  const { createPod } = await import("../../container/pod/pods.ts");
  o.pod = (await createPod(root, { name: o.pod.slice(4), createCommand: o.createCommand })).id;
}

/** An infra container being started by {@link startInfraEarly}. */
export interface InfraStart {
  /** Resolves once the infra runs with its pid recorded (members may join it), or its start ended. */
  running: Promise<void>;
  /** Resolves when its start has ended (never rejects). */
  done: Promise<void>;
}

/**
 * Starts the infra container of pod `pod` (name or id) if it is not running, for `run --pod` to overlap with
 * the member's create (and, pods2, the end of the infra's launch with the member's start); never rejects
 * (the member's start reports a failure).
 */
export function startInfraEarly(root: string, pod: string): InfraStart {
  let ready!: () => void;
  const running = new Promise<void>((r) => ready = r);
  const done = (async () => {
    try {
      const { infraToStart } = await import("../../container/pod/infra_guard.ts");
      const infra = await infraToStart(root, pod);
      if (infra) {
        await (await import("../../container/start.ts")).startDetached(root, infra, { onRunning: ready });
      }
    } catch { /* reported by the member's start */ }
  })().finally(ready);
  return { running, done };
}

/** The `--health-*` flags (absent ones undefined, so the image's HEALTHCHECK values stay). */
function healthFlags(f: ContainerFlags): CreateOptions["health"] {
  return {
    healthCmd: f.healthCmd,
    healthInterval: f.healthInterval,
    healthRetries: f.healthRetries,
    healthTimeout: f.healthTimeout,
    healthStartPeriod: f.healthStartPeriod,
    healthOnFailure: f.healthOnFailure,
    noHealthcheck: f.noHealthcheck,
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
    await newPodIfAsked(g.root, o);
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
