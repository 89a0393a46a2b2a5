/**
 * `pod build` (also `pod image build`, `pod buildx build`): an image from a Containerfile, with podman's
 * output (`STEP n/m: …`, `--> Using cache …`, `--> <id>`, `COMMIT`, `Successfully tagged …`, the id last).
 * @module
 */

import { bool, defineCommand, str, strings } from "../flags.ts";
import { UsageError } from "../../errors.ts";
import { ensureStore } from "../../store/images.ts";
import { err, println } from "../output.ts";

function pairs(values: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i === 0) throw new UsageError(`invalid ${what} "${v}": want KEY=VALUE`);
    if (i < 0) {
      // `--build-arg NAME` takes the value from the environment, as podman
      const env = Deno.env.get(v);
      if (what === "build-arg" && env !== undefined) out[v] = env;
      else if (what !== "build-arg") out[v] = "";
      continue;
    }
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

async function argFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UsageError(`reading --build-arg-file ${path}: no such file`);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

function boolEnv(name: string, fallback: boolean): boolean {
  const v = Deno.env.get(name);
  if (v === undefined || v === "") return fallback;
  return ["1", "true", "yes"].includes(v.toLowerCase());
}

export default defineCommand({
  name: "build",
  usage: "pod build [options] [CONTEXT]",
  summary: "Build an image using instructions from Containerfiles",
  maxArgs: 1,
  flags: {
    tag: strings("t", "tagged name to apply to the built image"),
    file: strings("f", "pathname or URL of a Dockerfile"),
    buildArg: strings("argument=value to supply to the builder"),
    buildArgFile: strings("argfile.conf containing lines of argument=value to supply to the builder"),
    target: str("set the target build stage to build"),
    noCache: bool(
      "Do not use existing cached images for the container build. Build from the start with a new set of cached layers.",
    ),
    pull: str('Pull image policy ("always"|"missing"|"never"|"newer")', { default: "missing" }),
    pullAlways: bool("pull the image even if the named image is present in store", { hidden: true }),
    pullNever: bool("do not pull the image, use the image present in store if available", { hidden: true }),
    layers: bool(
      "Use intermediate layers during build. Use BUILDAH_LAYERS environment variable to override.",
      {
        default: true,
      },
    ),
    squash: bool("squash all image layers into a single layer"),
    squashAll: bool("Squash all layers into a single layer"),
    format: str(
      "format of the built image's manifest and metadata. Use BUILDAH_FORMAT environment variable to override.",
    ),
    label: strings("set metadata for an image (default [])"),
    annotation: strings("set metadata for an image (default [])"),
    iidfile: str("file to write the image ID to"),
    quiet: bool("q", "refrain from announcing build instructions and image read/write progress"),
    network: str("Sets the configuration for network namespaces when handling RUN instructions"),
    platform: str(
      "set the OS/ARCH[/VARIANT] of the image to the provided value instead of the current operating system and architecture of the host",
    ),
    tlsVerify: bool("require HTTPS and verify certificates when accessing the registry", { default: true }),
    ignorefile: str("path to an alternate .dockerignore file"),
    secret: strings("secret file to expose to the build: id=ID,src=PATH (or type=env)"),
    rm: bool("remove intermediate containers after a successful build (pod always does)", {
      default: true,
      ignored: true,
    }),
    forceRm: bool(
      "always remove intermediate containers after a build, even if the build is unsuccessful (pod always does)",
      { ignored: true },
    ),
  },
  async run(flags, args, g) {
    const format = flags.format ?? (Deno.env.get("BUILDAH_FORMAT") || "oci");
    if (format !== "oci" && format !== "docker") {
      throw new UsageError(`unrecognized image type "${format}" (oci, docker)`);
    }
    let pull = flags.pull === "true" ? "always" : flags.pull === "false" ? "missing" : flags.pull;
    if (flags.pullAlways) pull = "always";
    if (flags.pullNever) pull = "never";
    if (!["always", "missing", "never", "newer", "ifmissing", "ifnewer"].includes(pull)) {
      throw new UsageError(`invalid pull policy "${flags.pull}": use always, missing, never or newer`);
    }
    pull = pull === "ifmissing" ? "missing" : pull === "ifnewer" ? "newer" : pull;
    if (flags.network && !["host", "none", "private", "default", "bridge"].includes(flags.network)) {
      throw new UsageError(`--network ${flags.network}: pod build supports host, none and private`);
    }
    if (flags.squash && flags.squashAll) {
      throw new UsageError("--squash and --squash-all are mutually exclusive");
    }
    if (flags.file.length > 1) throw new UsageError("pod build takes one -f file");
    const layers = flags.layers && boolEnv("BUILDAH_LAYERS", true);
    const fileArgs: string[] = [];
    for (const f of flags.buildArgFile) fileArgs.push(...await argFile(f));
    const buildArgs = pairs([...fileArgs, ...flags.buildArg], "build-arg");
    const labels = pairs(flags.label, "label");
    const annotations = pairs(flags.annotation, "annotation");
    if (Object.keys(annotations).length && format === "docker") {
      err("WARN[0000] annotations are not supported for docker format manifests; they are left out\n");
    }
    const { parseSecrets } = await import("../../build/secrets.ts");
    const secrets = await parseSecrets(flags.secret);
    await ensureStore(g.root);
    const { openContext } = await import("../../build/context.ts");
    const stdinUsed = args[0] === "-" || flags.file[0] === "-";
    if (stdinUsed && Deno.stdin.isTerminal()) {
      throw new UsageError("cannot read a build context or Containerfile from a terminal", "Redirect stdin");
    }
    const ctx = await openContext(args[0] ?? ".", {
      file: flags.file[0],
      ignoreFile: flags.ignorefile,
      stdin: stdinUsed ? Deno.stdin.readable : undefined,
    });
    const quiet = flags.quiet;
    const { ProgressPrinter } = await import("../views/progress.ts");
    const progress = new ProgressPrinter({ quiet });
    const tags = flags.tag;
    try {
      const { build } = await import("../../build/build.ts");
      const r = await build(g.root, {
        contextDir: ctx.dir,
        containerfile: ctx.containerfile,
        containerfileName: ctx.containerfileName,
        ignore: ctx.ignore,
        tags,
        buildArgs,
        target: flags.target,
        layers,
        noCache: flags.noCache,
        pull,
        format,
        labels,
        annotations: format === "docker" ? {} : annotations,
        secrets,
        network: flags.network === "default" || flags.network === "bridge" ? undefined : flags.network,
        quiet: flags.quiet,
        squash: flags.squash,
        squashAll: flags.squashAll,
        platform: flags.platform,
        tlsVerify: flags.tlsVerify,
        onEvent: (e) => {
          if (e.type === "warning") {
            err(`[Warning] ${e.message}\n`);
            return;
          }
          if (e.type === "pull") {
            progress.handle(e.event);
            return;
          }
          if (quiet) return;
          switch (e.type) {
            case "step":
              progress.finish();
              println(`${e.prefix}STEP ${e.step}/${e.steps}: ${e.text}`);
              break;
            case "cache":
              println(`--> Using cache ${e.id}`);
              break;
            case "image":
              println(`--> ${e.id.slice(0, 11)}`);
              break;
            case "commit":
              println(`${e.prefix}COMMIT${tags[0] ? ` ${tags[0]}` : ""}`);
              break;
            case "tagged":
              println(`Successfully tagged ${e.name}`);
              break;
          }
        },
      });
      if (flags.iidfile) await Deno.writeTextFile(flags.iidfile, `sha256:${r.id}`);
      println(r.id);
      return 0;
    } finally {
      progress.finish();
      await ctx.cleanup();
    }
  },
});
