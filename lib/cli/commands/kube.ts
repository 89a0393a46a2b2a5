/** `pod kube generate|play|down`: Kubernetes YAML of pods and containers, and pods from it. @module */

import { UsageError } from "../../errors.ts";
import { bool, defineCommand, str, strings } from "../flags.ts";
import { out, println } from "../output.ts";

/** The YAML of FILE, or of stdin for `-`. */
async function readYaml(path: string): Promise<string> {
  if (path === "-") {
    const { readAllStdin } = await import("../prompt.ts");
    return await readAllStdin("the YAML", 16 << 20);
  }
  try {
    // the YAML is untrusted: a size cap before it is parsed (as for stdin)
    if ((await Deno.stat(path)).size > 16 << 20) throw new Error("larger than 16 MiB");
    return await Deno.readTextFile(path);
  } catch (e) {
    const { PodError } = await import("../../errors.ts");
    throw new PodError(
      `${path}: ${e instanceof Deno.errors.NotFound ? "no such file or directory" : (e as Error).message}`,
      {
        code: "NOT_FOUND",
      },
    );
  }
}

/** `pod kube generate`. */
export const kubeGenerate = defineCommand({
  name: "generate",
  usage: "pod kube generate [options] {CONTAINER...|POD...}",
  summary: "Generate Kubernetes YAML based on containers or pods",
  minArgs: 1,
  flags: {
    filename: str("f", "Write output to the specified path"),
    service: bool("s", "Generate YAML for a Kubernetes service object"),
    type: str("t", "Generate YAML for the given Kubernetes kind (pod, deployment)", { default: "pod" }),
    replicas: str("r", "Number of replicas in the generated YAML (only 1 is supported)"),
  },
  async run(flags, args, g) {
    if (flags.replicas !== undefined && flags.replicas !== "1") {
      throw new UsageError("--replicas: pod generates deployments of one replica only");
    }
    const { generateKube } = await import("../../container/kube/generate.ts");
    const text = await generateKube(g.root, args, { service: flags.service, type: flags.type });
    if (flags.filename) {
      try {
        await Deno.writeTextFile(flags.filename, text, { createNew: true });
      } catch (e) {
        const { PodError } = await import("../../errors.ts");
        if (e instanceof Deno.errors.AlreadyExists) {
          throw new PodError(`cannot write to "${flags.filename}": file exists`);
        }
        throw new PodError(`cannot write to "${flags.filename}": ${(e as Error).message}`);
      }
    } else out(text);
    return 0;
  },
});

/** `pod kube play`. */
export const kubePlay = defineCommand({
  name: "play",
  usage: "pod kube play [options] KUBEFILE|-",
  summary: "Play a pod or deployment based on Kubernetes YAML",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    configmap: strings("Pathname of a YAML file containing a kubernetes configmap"),
    down: bool("Stop pods defined in the YAML file"),
    network: str("Connect pod to network (host, none, private)"),
    publish: strings("Publish a container's port, or a range of ports, to the host"),
    replace: bool("Delete and recreate pods defined in the YAML file"),
    start: str("Start the pod after creating it", { default: "true" }),
    build: str("Build all images in a YAML (given Containerfiles exist)"),
    logDriver: str("Logging driver for the container"),
    quiet: bool("q", "Suppress output information when pulling images"),
    tlsVerify: bool("Require HTTPS and verify certificates when contacting registries", { default: true }),
  },
  async run(flags, args, g) {
    // pods4: the modules a pod's create and start need load side by side (pods5: the npm YAML reader only
    // when the text leaves the plain subset, lib/container/kube/yaml_plain.ts)
    const loading = Promise.all([
      import("../../container/kube/play.ts"),
      ...(flags.down ? [] : [
        import("../../container/pod/pods.ts"),
        import("../../container/create.ts"),
        import("../../container/start.ts"),
      ]),
    ]);
    loading.catch(() => {}); // each import is awaited again where it is used
    const text = await readYaml(args[0]);
    const { warn } = await import("../../log.ts");
    if (flags.build === "true") throw new UsageError("--build: pod cannot build images yet");
    if (flags.logDriver && flags.logDriver !== "k8s-file") {
      throw new UsageError(`--log-driver ${flags.logDriver}: pod writes k8s-file logs only`);
    }
    if (flags.down) return await down(g.root, text);
    if (flags.start !== "true" && flags.start !== "false") {
      throw new UsageError(`invalid value "${flags.start}" for --start: use true or false`);
    }
    const configmaps = [];
    for (const f of flags.configmap.flatMap((v) => v.split(","))) {
      configmaps.push({ name: f, text: await readYaml(f) });
    }
    const { playKube } = await import("../../container/kube/play.ts");
    const { ProgressPrinter } = await import("../views/progress.ts");
    const { err } = await import("../output.ts");
    (await import("../../log.ts")).traceTime("kube: play modules loaded");
    const progress = new ProgressPrinter({ quiet: flags.quiet, write: err });
    let r;
    try {
      r = await playKube(g.root, text, {
        start: flags.start === "true",
        replace: flags.replace,
        network: flags.network,
        configmaps,
        publish: flags.publish,
        tlsVerify: flags.tlsVerify,
        onWarning: warn,
        onEvent: flags.quiet ? undefined : progress.handle,
        createCommand: [g.argv0, ...Deno.args],
      });
    } finally {
      progress.finish();
    }
    for (const p of r.pods) {
      println("Pod:", p.id, "Containers:", ...p.containers, "");
    }
    if (r.volumes.length) println("Volumes:", ...r.volumes, "");
    return 0;
  },
});

async function down(root: string, text: string): Promise<number> {
  // pods4: what a pod's removal needs loads side by side
  const [{ downKube }] = await Promise.all([
    import("../../container/kube/play.ts"),
    import("../../container/pod/pods.ts"),
    import("../../container/lifecycle.ts"),
  ]);
  const ids = await downKube(root, text);
  if (ids.length) println("Pods stopped:", ...ids, "Pods removed:", ...ids);
  return 0;
}

/** `pod kube down`. */
export const kubeDown = defineCommand({
  name: "down",
  usage: "pod kube down KUBEFILE|-",
  summary: "Remove pods based on Kubernetes YAML",
  minArgs: 1,
  maxArgs: 1,
  flags: {},
  async run(_flags, args, g) {
    return await down(g.root, await readYaml(args[0]));
  },
});
