/** `pod pod create`: a pod and its infra container; prints the pod id. @module */

import { UsageError } from "../../errors.ts";
import { bool, defineCommand, str, strings } from "../flags.ts";
import { println } from "../output.ts";
import { traceTime } from "../../log.ts";

export default defineCommand({
  name: "create",
  usage: "pod pod create [options] [NAME]",
  summary: "Create a new empty pod",
  maxArgs: 1,
  flags: {
    name: str("n", "Assign a name to the pod"),
    publish: strings("p", "Publish a container's port, or a range of ports, to the host"),
    network: str("Connect the pod to a network (host, none, private)"),
    share: str("A comma delimited list of kernel namespaces the pod will share (net, ipc, uts, pid)"),
    infra: str("Create an infra container associated with the pod to share namespaces with", {
      default: "true",
    }),
    infraImage: str("Container image to use for the infra container"),
    infraCommand: str("Command to run in the infra container"),
    infraName: str("Name used for the pod's infra container"),
    hostname: str("Set the pod's hostname"),
    label: strings("l", "Set metadata on the pod (KEY=VALUE)"),
    userns: str("User namespace of the pod's containers"),
    exitPolicy: str("Behaviour when the last container exits (continue, stop)", { default: "continue" }),
    podIdFile: str("Write the pod ID to the file"),
    replace: bool("If a pod with the same name exists, replace it"),
    addHost: strings("Add a custom host-to-IP mapping (host:ip)"),
    dns: strings("Set custom DNS servers"),
    volume: strings("v", "Bind mount a volume into the pod"),
  },
  async run(flags, args, g) {
    if (args[0] && flags.name && args[0] !== flags.name) {
      throw new UsageError("cannot specify the pod name both with --name and as an argument");
    }
    for (
      const [flag, v] of [["--add-host", flags.addHost], ["--dns", flags.dns], ["--volume", flags.volume]]
    ) {
      if ((v as string[]).length) {
        throw new UsageError(`${flag} is not supported by pod create yet (set it on the pod's containers)`);
      }
    }
    const infra = flags.infra === "true" ? true : flags.infra === "false" ? false : undefined;
    if (infra === undefined) {
      throw new UsageError(`invalid value "${flags.infra}" for --infra: use true or false`);
    }
    const name = flags.name ?? args[0];
    // pods4: what createPod loads next (the infra image, the container create) loads beside it
    const [{ createPod, removePod }, { parseLabels }] = await Promise.all([
      import("../../container/pod/pods.ts"),
      import("../../container/process_options.ts"),
      ...(infra ? [import("../../container/pod/infra_image.ts"), import("../../container/create.ts")] : []),
    ]);
    traceTime("pod create: modules loaded");
    if (flags.replace && name) await removePod(g.root, name, { force: true }).catch(() => {});
    if (flags.network !== undefined) {
      const { nsMode } = await import("../../container/namespaces.ts");
      nsMode("network", flags.network); // validated here; applied to the infra container below
    }
    const pod = await createPod(g.root, {
      name,
      labels: parseLabels(flags.label),
      hostname: flags.hostname,
      infra,
      share: flags.share,
      exitPolicy: flags.exitPolicy,
      publish: flags.publish,
      network: flags.network,
      infraImage: flags.infraImage,
      infraCommand: flags.infraCommand ? flags.infraCommand.split(/\s+/).filter((s) => s) : undefined,
      infraName: flags.infraName,
      userns: flags.userns,
      createCommand: ["pod", ...Deno.args],
    });
    if (flags.podIdFile) await Deno.writeTextFile(flags.podIdFile, pod.id);
    println(pod.id);
    return 0;
  },
});
