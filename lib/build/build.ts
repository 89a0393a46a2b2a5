/**
 * `build`: runs a parsed Containerfile's stages (only those the target needs) step by step, each step a new
 * image (with `--layers`, the default: looked up in and stored into the layer cache), and tags the result.
 * Prints nothing: the steps, cache hits and commits are reported through `onEvent` (the CLI draws podman's
 * output from them); RUN output goes to this process's stdout/stderr.
 * @module
 */

import { PodError, UsageError } from "../errors.ts";
import { debug } from "../log.ts";
import type { Descriptor, ImageConfig, ImageManifest } from "../oci/manifest.ts";
import { claimBlobs } from "../store/gc.ts";
import { findImage, type ImageRecord, readImageConfig, readManifest, tagImage } from "../store/images.ts";
import { localImageName, registerNewImage } from "../image/new_image.ts";
import type { PullEvent } from "../image/events.ts";
import type { StoredLayer } from "../image/layer_blob.ts";
import { writeTar } from "../unpack/tar_write.ts";
import { ContainerfileError } from "./containerfile/errors.ts";
import {
  type Containerfile,
  type Instruction,
  parseContainerfile,
  type Stage,
} from "./containerfile/parser.ts";
import {
  expandString,
  keyValues,
  type Lookup,
  processWord,
  processWords,
  VariableError,
} from "./containerfile/vars.ts";
import { applyConfigStep, ConfigError, type RuntimeConfig } from "./config_step.ts";
import { CopyError, DigestMemo, intoDestDir, planCopy, planDigest, planEntries } from "./copy_step.ts";
import { headerOf, ImageFiles } from "./image_files.ts";
import type { TarHeader } from "../unpack/tar.ts";
import type { TarWriteEntry } from "../unpack/tar_write.ts";
import type { IgnoreRules } from "./ignore.ts";
import { cacheLookup, cacheStore, stepKey } from "./cache.ts";
import { parseRunMount, type RunMount, RunMountError } from "./run_mount_spec.ts";
import type { SecretSource } from "./secrets.ts";

/** What a build reports. */
export type BuildEvent =
  /** A step starts: `[1/2] STEP 2/4: RUN …` (prefix only with several stages). */
  | { type: "step"; prefix: string; step: number; steps: number; text: string }
  /** A step was found in the cache. */
  | { type: "cache"; id: string }
  /** A step's image (podman prints `--> <first 11 hex>`). */
  | { type: "image"; id: string }
  /** The final commit (`COMMIT name`). */
  | { type: "commit"; prefix: string; name?: string }
  /** A name was given to the result. */
  | { type: "tagged"; name: string }
  /** A warning podman prints as `[Warning] …`. */
  | { type: "warning"; message: string }
  /** Pull progress of a base image. */
  | { type: "pull"; event: PullEvent }
  /** A RUN is about to write to stdout/stderr. */
  | { type: "run" };

/** Options of {@link build}. */
export interface BuildOptions {
  /** The context directory. */
  contextDir: string;
  /** The Containerfile's text. */
  containerfile: string;
  /** Its name for messages. */
  containerfileName?: string;
  /** Ignore rules of the context. */
  ignore: IgnoreRules;
  /** `-t`: names (normalized here). */
  tags?: string[];
  /** `--build-arg`. */
  buildArgs?: Record<string, string>;
  /** `--target`. */
  target?: string;
  /** `--layers` (default true). */
  layers?: boolean;
  /** `--no-cache`. */
  noCache?: boolean;
  /** `--pull`: missing (default), always, never, newer. */
  pull?: string;
  /** `--format`. */
  format?: "oci" | "docker";
  /** `--label`. */
  labels?: Record<string, string>;
  /** `--annotation`. */
  annotations?: Record<string, string>;
  /** `--network` for RUN. */
  network?: string;
  /** `-q`: RUN output discarded too, as podman (shell form with a POSIX shell: exec form output still shows). */
  quiet?: boolean;
  /** `--squash`: the new layers as one. */
  squash?: boolean;
  /** `--squash-all`: the whole image as one layer. */
  squashAll?: boolean;
  /** `--platform`. */
  platform?: string;
  /** TLS verification of base image pulls. */
  tlsVerify?: boolean;
  /** Progress. */
  onEvent?: (e: BuildEvent) => void;
  /** `--secret`s by id (build2: for `RUN --mount=type=secret`). */
  secrets?: Map<string, SecretSource>;
}

/** What a build made. */
export interface BuildResult {
  /** Image id. */
  id: string;
  /** The names it was given. */
  names: string[];
}

/** The arguments podman predefines (usable without ARG). */
const PROXY_ARGS = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/** A stage's state while it is built. */
interface StageState {
  /** Registered image of the current state (undefined: scratch, or not yet committed with --layers=false). */
  imageId?: string;
  config: ImageConfig;
  layers: Descriptor[];
  /** Key of the current state in the cache chain. */
  chain: string;
  /** ARGs declared in the stage: name → value (undefined: declared without value). */
  args: Map<string, string | undefined>;
  shell: string[];
  cmdSet: boolean;
}

function hostArch(): string {
  return ({ x86_64: "amd64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
    Deno.build.arch;
}

function envMap(c: RuntimeConfig | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of c?.Env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/** Builds the Containerfile; returns the final image. */
export async function build(root: string, o: BuildOptions): Promise<BuildResult> {
  const file = o.containerfileName ?? "Containerfile";
  const cf = parseContainerfile(o.containerfile, file);
  const b = new Builder(root, cf, o);
  return await b.run();
}

class Builder {
  readonly root: string;
  readonly cf: Containerfile;
  readonly o: BuildOptions;
  readonly emit: (e: BuildEvent) => void;
  readonly buildArgs: Map<string, string>;
  readonly usedArgs = new Set<string>();
  readonly globalArgs = new Map<string, string | undefined>();
  readonly results = new Map<number, StageState>();
  readonly temporary: string[] = [];
  readonly files = new Map<string, ImageFiles>();
  #memo?: DigestMemo;
  /** Headers of the layers this build wrote, by blob digest (read back without decompressing). */
  readonly written = new Map<string, TarHeader[]>();
  /** RUN containers being removed. */
  readonly removals: Promise<void>[] = [];
  /** COPY layers made while the RUN before them ran (see {@link Builder.prefetchCopy}). */
  readonly prefetched = new Map<Instruction, Promise<PrefetchedCopy | undefined>>();
  claim!: Awaited<ReturnType<typeof claimBlobs>>;

  constructor(root: string, cf: Containerfile, o: BuildOptions) {
    this.root = root;
    this.cf = cf;
    this.o = o;
    this.emit = o.onEvent ?? (() => {});
    this.buildArgs = new Map(Object.entries(o.buildArgs ?? {}));
  }

  err(ins: Instruction, msg: string): ContainerfileError {
    return new ContainerfileError(this.cf.file, ins.line, msg);
  }

  /** Wraps the variable errors of `f` into errors naming the line. */
  at<T>(ins: Instruction, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof VariableError || e instanceof ConfigError || e instanceof CopyError) {
        throw this.err(ins, e.message);
      }
      throw e;
    }
  }

  async run(): Promise<BuildResult> {
    const tags = (this.o.tags ?? []).map((t) => localImageName(t));
    // global ARGs (before the first FROM): usable in FROM lines, and in stages that re-declare them
    for (const ins of this.cf.globalArgs) {
      for (
        const [k, v] of this.at(
          ins,
          () => keyValues(ins.args, (n) => this.globalArgs.get(n), this.cf.escape, false),
        )
      ) {
        this.globalArgs.set(k, this.buildArgs.has(k) ? this.buildArgs.get(k) : v);
        if (this.buildArgs.has(k)) this.usedArgs.add(k);
      }
    }
    const stages = this.cf.stages;
    let target = stages.length - 1;
    if (this.o.target) {
      const t = stages.findIndex((s) => s.name === this.o.target!.toLowerCase());
      if (t < 0) {
        throw new UsageError(`the target "${this.o.target}" was not found in the provided Containerfile`);
      }
      target = t;
    }
    const needed = this.neededStages(target);
    this.claim = await claimBlobs(this.root);
    try {
      let final!: StageState;
      for (const s of stages) {
        if (!needed.has(s.index)) continue;
        const st = await this.runStage(s, s.index === target, tags);
        this.results.set(s.index, st);
        if (s.index === target) {
          final = st;
          break;
        }
      }
      const unused = [...this.buildArgs.keys()].filter((k) =>
        !this.usedArgs.has(k) && !PROXY_ARGS.includes(k)
      );
      if (unused.length) {
        this.emit({
          type: "warning",
          message: `one or more build args were not consumed: [${unused.join(" ")}]`,
        });
      }
      const id = final.imageId!;
      for (const t of tags) {
        const img = await findImage(this.root, id);
        if (!img) throw new PodError(`built image ${id} disappeared before it was tagged`);
        await tagImage(this.root, img, t);
        this.emit({ type: "tagged", name: t });
      }
      await this.dropTemporary(id);
      if (this.#memo) {
        const { writeMemo } = await import("./cache.ts");
        await writeMemo(this.root, this.o.contextDir, this.#memo.toJSON()).catch(() => {});
      }
      return { id, names: tags };
    } finally {
      await Promise.all([...this.removals, ...this.prefetched.values()]);
      await this.claim.release();
    }
  }

  /** The stages the target needs: itself, its FROM chain and every COPY --from stage, transitively. */
  neededStages(target: number): Set<number> {
    const out = new Set<number>();
    const visit = (i: number) => {
      if (out.has(i)) return;
      out.add(i);
      const s = this.cf.stages[i];
      const base = this.stageRef(this.expandGlobal(s.base), i);
      if (base !== undefined) visit(base);
      for (const ins of s.instructions) {
        const froms = ins.cmd === "COPY" ? (ins.flags.from ?? []).slice(-1) : [];
        // RUN --mount=…,from=STAGE needs that stage too
        if (ins.cmd === "RUN") {
          for (const m of ins.flags.mount ?? []) {
            froms.push(...[...m.matchAll(/(?:^|,)from=([^,]+)/g)].map((x) => x[1]));
          }
        }
        for (const from of froms) {
          const r = this.stageRef(this.expandGlobal(from), i);
          if (r !== undefined) visit(r);
        }
      }
    };
    visit(target);
    return out;
  }

  expandGlobal(s: string): string {
    try {
      return processWord(s, (n) => this.globalArgs.get(n) ?? undefined, this.cf.escape);
    } catch {
      return s;
    }
  }

  /** The index of the earlier stage `ref` names (name or number), if it names one. */
  stageRef(ref: string, before: number): number | undefined {
    const byName = this.cf.stages.findIndex((s) => s.name === ref.toLowerCase());
    if (byName >= 0 && byName < before) return byName;
    if (/^\d+$/.test(ref) && Number(ref) < before) return Number(ref);
    return undefined;
  }

  async runStage(s: Stage, last: boolean, tags: string[]): Promise<StageState> {
    const prefix = this.cf.stages.length > 1 ? `[${s.index + 1}/${this.cf.stages.length}] ` : "";
    let instructions = s.instructions;
    const steps = instructions.length + 1;
    // as podman: the base after ARG expansion
    const fromText = s.from.original.replace(s.base, () => this.expandGlobal(s.base));
    this.emit({ type: "step", prefix, step: 1, steps, text: fromText });
    const st = await this.fromStage(s);
    const triggers = (st.config.config?.OnBuild as string[] | undefined) ?? [];
    if (triggers.length) {
      const { parseInstruction } = await import("./containerfile/parser.ts");
      const parsed = triggers.map((t) =>
        parseInstruction(t, s.from.line, [], `${this.cf.file} (ONBUILD of ${s.base})`)
      );
      instructions = [...parsed, ...instructions];
      st.config = { ...st.config, config: { ...st.config.config, OnBuild: undefined } };
    }
    if (!instructions.length) {
      // FROM alone: the base is the result
      if (last && this.needsFinalize()) {
        this.emit({ type: "commit", prefix, name: tags[0] });
        await this.finalize(st, s);
      } else if (last) {
        await this.ensureImage(st);
        this.emit({ type: "commit", prefix, name: tags[0] });
        this.emit({ type: "image", id: st.imageId! });
      }
      return st;
    }
    const layers = this.o.layers ?? true;
    const useCache = layers && !this.o.noCache;
    const finalizes = last && this.needsFinalize();
    for (let i = 0; i < instructions.length; i++) {
      const ins = instructions[i];
      const isLast = i === instructions.length - 1;
      const visible = i >= triggers.length;
      if (visible) {
        this.emit({ type: "step", prefix, step: i - triggers.length + 2, steps, text: ins.original });
      }
      await this.step(ins, st, {
        useCache,
        commit: layers || isLast,
        last: isLast && last && !finalizes,
        prefix,
        tags,
        next: instructions[i + 1],
      });
    }
    if (finalizes) {
      this.emit({ type: "commit", prefix, name: tags[0] });
      await this.finalize(st, s);
    }
    return st;
  }

  async fromStage(s: Stage): Promise<StageState> {
    const base = this.at(
      s.from,
      () => processWord(s.base, (n) => this.globalArgs.get(n) ?? undefined, this.cf.escape),
    );
    const empty = (): StageState => ({
      config: {
        architecture: hostArch(),
        os: "linux",
        config: {},
        rootfs: { type: "layers", diff_ids: [] },
        history: [],
      },
      layers: [],
      chain: "scratch",
      args: new Map(),
      shell: ["/bin/sh", "-c"],
      cmdSet: false,
    });
    if (base.toLowerCase() === "scratch") return empty();
    const ref = this.stageRef(base, s.index);
    if (ref !== undefined) {
      const prev = this.results.get(ref)!;
      await this.ensureImage(prev);
      return {
        ...structuredClone({ config: prev.config, layers: prev.layers }),
        imageId: prev.imageId,
        chain: prev.imageId ?? prev.chain,
        args: new Map(),
        shell: prev.shell,
        cmdSet: false,
      };
    }
    const img = await this.image(base, s.from);
    const [m, c]: [ImageManifest, ImageConfig] = await Promise.all([
      readManifest(this.root, img),
      readImageConfig(this.root, img),
    ]);
    return {
      imageId: img.id,
      config: c,
      layers: m.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      chain: img.id,
      args: new Map(),
      shell: (c.config?.Shell as string[] | undefined) ?? ["/bin/sh", "-c"],
      cmdSet: false,
    };
  }

  /** A base image or `COPY --from` image, pulled per the pull policy. */
  async image(name: string, ins: Instruction): Promise<ImageRecord> {
    const policy = this.o.pull ?? "missing";
    let img = policy === "always" ? undefined : await findImage(this.root, name);
    if (img) return img;
    if (policy === "never") throw new PodError(`${name}: image not known`, { code: "NOT_FOUND" });
    const { pullImage } = await import("../image/pull.ts");
    try {
      const r = await pullImage(this.root, name, {
        quiet: !this.o.onEvent,
        platform: this.o.platform || undefined,
        tlsVerify: this.o.tlsVerify,
        onEvent: (event) => this.emit({ type: "pull", event }),
      });
      img = await findImage(this.root, r.id);
    } catch (e) {
      if (e instanceof PodError) {
        throw new PodError(`${this.cf.file}:${ins.line}: ${ins.cmd} ${name}: ${e.message}`, {
          exitCode: e.exitCode,
          code: e.code,
        });
      }
      throw e;
    }
    if (!img) throw new PodError(`${name}: image not known`, { code: "NOT_FOUND" });
    return img;
  }

  /** The variables a stage's instruction sees: ENV first, then ARGs in scope, then predefined proxy args. */
  lookup(st: StageState): Lookup {
    const env = envMap(st.config.config);
    return (n) => {
      if (env.has(n)) return env.get(n);
      if (st.args.has(n)) return st.args.get(n);
      if (PROXY_ARGS.includes(n)) return this.buildArgs.get(n);
      return undefined;
    };
  }

  /** Build args in effect for RUN: declared (with a value) and not shadowed by ENV, plus given proxy args. */
  runArgs(st: StageState): string[] {
    const env = envMap(st.config.config);
    const out: string[] = [];
    for (const [k, v] of st.args) if (v !== undefined && !env.has(k)) out.push(`${k}=${v}`);
    for (const k of PROXY_ARGS) {
      if (this.buildArgs.has(k) && !st.args.has(k)) out.push(`${k}=${this.buildArgs.get(k)}`);
    }
    return out;
  }

  async step(
    ins: Instruction,
    st: StageState,
    x: {
      useCache: boolean;
      commit: boolean;
      last: boolean;
      prefix: string;
      tags: string[];
      /** The stage's next instruction, if any. */
      next?: Instruction;
    },
  ): Promise<void> {
    const lookup = this.lookup(st);
    let createdBy: string;
    let extra = "";
    let make: (() => Promise<StoredLayer | undefined>) | undefined;
    let apply: (() => void) | undefined;
    switch (ins.cmd) {
      case "ARG": {
        const pairs = this.at(ins, () => keyValues(ins.args, lookup, this.cf.escape, false)).map(([k, v]) => {
          let value = v;
          if (value === undefined && this.globalArgs.has(k)) value = this.globalArgs.get(k);
          if (this.buildArgs.has(k)) {
            value = this.buildArgs.get(k);
            this.usedArgs.add(k);
          }
          return [k, value] as const;
        });
        apply = () => {
          for (const [k, v] of pairs) st.args.set(k, v);
        };
        createdBy = `/bin/sh -c #(nop) ARG ${
          pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(" ")
        }`;
        break;
      }
      case "RUN": {
        const runMounts: RunMount[] = (ins.flags.mount ?? []).map((spec) =>
          this.at(ins, () => {
            try {
              return parseRunMount(processWord(spec, lookup, this.cf.escape));
            } catch (e) {
              if (e instanceof RunMountError) throw this.err(ins, `RUN --mount=${spec}: ${e.message}`);
              throw e;
            }
          })
        );
        const security = ins.flags.security?.at(-1);
        if (security !== undefined && security !== "sandbox" && security !== "insecure") {
          throw this.err(ins, `RUN --security=${security}: want sandbox or insecure`);
        }
        const network = ins.flags.network?.at(-1) ?? this.o.network;
        if (network && !["host", "none", "private", "default"].includes(network)) {
          throw this.err(ins, `RUN --network=${network}: want host, none or private`);
        }
        let argv: string[];
        if (ins.json) argv = ins.json;
        else {
          let script = ins.args;
          const onlyHeredoc = ins.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(ins.args.trim());
          if (onlyHeredoc) script = ins.heredocs[0].body;
          else if (ins.heredocs.length) {
            script += "\n" + ins.heredocs.map((h) => `${h.body}${h.name}\n`).join("");
          }
          argv = [...st.shell, script];
        }
        const args = this.runArgs(st);
        createdBy = (args.length ? `|${args.length} ${args.join(" ")} ` : "") + argv.join(" ");
        extra = JSON.stringify([network ?? "", args]) + (security === "insecure" ? "insecure" : "");
        if (runMounts.length) extra += JSON.stringify(await this.mountsKey(runMounts, ins));
        make = async () => {
          const image = await this.ensureImage(st);
          // a RUN that runs makes a new image: what follows misses the cache, so a plain COPY next can be
          // made while the command runs
          if (x.next) this.prefetchCopy(x.next, st);
          this.emit({ type: "run" });
          const { runStep } = await import("./run_step.ts");
          const headers: TarHeader[] = [];
          const layer = await runStep(
            this.root,
            {
              image,
              argv: this.o.quiet && !ins.json && /(^|\/)(ba|da|a)?sh$/.test(st.shell[0])
                ? [...argv.slice(0, -1), `exec >/dev/null 2>&1\n${argv[argv.length - 1]}`]
                : argv,
              env: args,
              workdir: st.config.config?.WorkingDir || "/",
              user: st.config.config?.User,
              network,
              privileged: security === "insecure",
              step: ins.original,
              mounts: runMounts.length
                ? {
                  list: runMounts,
                  context: {
                    root: this.root,
                    contextDir: this.o.contextDir,
                    secrets: this.o.secrets ?? new Map(),
                    fromFiles: (ref) => this.mountFiles(ref, ins),
                  },
                }
                : undefined,
            },
            this.removals,
            (e) => headers.push(headerOf(e)),
          );
          this.written.set(layer.digest, headers);
          await this.claim.add([layer.digest]);
          return layer;
        };
        break;
      }
      case "COPY":
      case "ADD": {
        const flag = (n: string) => ins.flags[n]?.at(-1);
        const words = this.at(ins, () => ins.json ?? processWords(ins.args, lookup, this.cf.escape));
        if (words.length < 2) throw this.err(ins, `${ins.cmd} requires at least two arguments`);
        const dest = words[words.length - 1];
        const srcs = words.slice(0, -1);
        let from: { files: ImageFiles; id: string } | undefined;
        const fromRef = flag("from");
        if (fromRef !== undefined) {
          const ref = this.at(ins, () => processWord(fromRef, lookup, this.cf.escape));
          const idx = this.stageRef(ref, this.currentStageIndex(ins));
          let id: string;
          let layers: Descriptor[];
          if (idx !== undefined) {
            const prev = this.results.get(idx);
            if (!prev) throw this.err(ins, `COPY --from=${ref}: stage was not built`);
            await this.ensureImage(prev);
            id = prev.imageId ?? "scratch";
            layers = prev.layers;
          } else {
            const img = await this.image(ref, ins);
            id = img.id;
            layers = (await readManifest(this.root, img)).layers;
          }
          from = { files: await this.imageFiles(layers), id };
        }
        const heredocs = new Map(
          ins.heredocs.map((h) => [h.name, h.expand ? expandString(h.body, lookup, this.cf.escape) : h.body]),
        );
        const chown = flag("chown");
        const chmod = flag("chmod");
        let mode: number | undefined;
        if (chmod !== undefined) {
          if (!/^[0-7]{3,4}$/.test(chmod)) {
            throw this.err(ins, `invalid --chmod "${chmod}": want octal digits`);
          }
          mode = parseInt(chmod, 8);
        }
        const owner = chown === undefined
          ? undefined
          : await this.owner(this.at(ins, () => processWord(chown, lookup, this.cf.escape)), st, ins);
        const plan = await this.atAsync(ins, () =>
          planCopy(srcs, dest, st.config.config?.WorkingDir || "/", {
            contextDir: this.o.contextDir,
            ignore: this.o.ignore,
            from,
            add: ins.cmd === "ADD",
            heredocs,
            checksum: flag("checksum"),
          }, { chown: owner, chmod: mode }));
        const digest = await this.atAsync(ins, async () => planDigest(plan, await this.memo()));
        extra = digest;
        const what = ins.cmd === "ADD" ? "file" : "file";
        createdBy = `/bin/sh -c #(nop) ${ins.cmd} ${what}:${digest} in ${dest} `;
        make = async () => {
          const pre = await this.prefetched.get(ins);
          this.prefetched.delete(ins);
          if (pre && pre.digest === digest && plan.destMaybeDir === undefined) {
            debug(`build: ${ins.cmd} at line ${ins.line}: its layer was made while the RUN before it ran`);
            this.written.set(pre.layer.digest, pre.headers);
            return pre.layer;
          }
          const headers: TarHeader[] = [];
          let final = plan;
          if (plan.destMaybeDir !== undefined) {
            const files = await this.imageFiles(st.layers);
            const r = files.resolve(plan.destMaybeDir);
            if (r !== undefined && files.isDir(r)) final = intoDestDir(plan);
          }
          const layer = await this.atAsync(
            ins,
            () => storeLayer(this.root, writeTar(tap(planEntries(final), headers)), `${ins.cmd} layer`),
          );
          this.written.set(layer.digest, headers);
          await this.claim.add([layer.digest]);
          return layer;
        };
        break;
      }
      case "WORKDIR": {
        const before = st.config.config?.WorkingDir;
        const r = this.at(
          ins,
          () =>
            applyConfigStep(ins, st.config.config ?? {}, {
              lookup,
              escape: this.cf.escape,
              shell: st.shell,
              cmdSet: st.cmdSet,
            }),
        );
        const dir = r.config.WorkingDir!;
        createdBy = `/bin/sh -c #(nop) WORKDIR ${dir}`;
        apply = () => {
          st.config = { ...st.config, config: r.config };
        };
        if (dir !== before) {
          // the directory is made when the image does not have it (as buildah): decided after the cache lookup
          make = async () => {
            const parts = dir.split("/").filter(Boolean);
            // the top layer made by this build has the directory: no need to read every layer
            const top = st.layers.length
              ? this.written.get(st.layers[st.layers.length - 1].digest)
              : undefined;
            if (top?.some((h) => h.type === "dir" && h.name.replace(/\/+$/, "") === parts.join("/"))) {
              return undefined;
            }
            const files = await this.imageFiles(st.layers);
            const mtime = { sec: Math.floor(Date.now() / 1000), nsec: 0 };
            const entries = parts.map((_, i) => parts.slice(0, i + 1).join("/"))
              .filter((name) => files.resolve(name) === undefined)
              .map((name) => ({ name, type: "dir" as const, mode: 0o755, uid: 0, gid: 0, mtime }));
            if (!entries.length) return undefined;
            const layer = await storeLayer(this.root, writeTar(entries), "WORKDIR layer");
            await this.claim.add([layer.digest]);
            return layer;
          };
        }
        break;
      }
      default: {
        const r = this.at(
          ins,
          () =>
            applyConfigStep(ins, st.config.config ?? {}, {
              lookup,
              escape: this.cf.escape,
              shell: st.shell,
              cmdSet: st.cmdSet,
            }),
        );
        apply = () => {
          st.config = { ...st.config, config: r.config, ...(r.author ? { author: r.author } : {}) };
          st.shell = r.shell;
          if (ins.cmd === "CMD") st.cmdSet = true;
          if (ins.cmd === "SHELL" && this.o.format === "docker") {
            st.config.config = { ...st.config.config, Shell: r.shell };
          }
        };
        createdBy = `/bin/sh -c #(nop) ${
          this.at(ins, () => describe(ins, r.config, lookup, this.cf.escape))
        }`;
      }
    }
    // an image format of its own: a Docker build never reuses an OCI build's steps (or the reverse)
    const key = await stepKey(
      st.chain,
      createdBy!,
      this.o.format === "docker" ? `${extra}\nformat=docker` : extra,
    );
    if (x.useCache) {
      const hit = await cacheLookup(this.root, key);
      if (hit) {
        const img = (await findImage(this.root, hit))!;
        const [m, c] = await Promise.all([readManifest(this.root, img), readImageConfig(this.root, img)]);
        await this.claim.add(m.layers.map((l) => l.digest));
        apply?.();
        st.config = c;
        st.layers = m.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
        st.imageId = hit;
        st.chain = hit;
        this.emit({ type: "cache", id: hit });
        if (x.last) this.emit({ type: "commit", prefix: x.prefix, name: x.tags[0] });
        this.emit({ type: "image", id: hit });
        return;
      }
    }
    const t0 = performance.now();
    const layer = make ? await make() : undefined;
    if (make) {
      debug(
        `build: ${ins.cmd} at line ${ins.line} made its layer in ${Math.round(performance.now() - t0)} ms`,
      );
    }
    apply?.();
    const created = new Date().toISOString();
    st.config = {
      ...st.config,
      created,
      rootfs: { type: "layers", diff_ids: [...st.config.rootfs.diff_ids, ...(layer ? [layer.diffId] : [])] },
      history: [
        ...(st.config.history ?? []),
        { created, created_by: createdBy!, ...(layer ? {} : { empty_layer: true }) },
      ],
    };
    if (layer) {
      st.layers = [...st.layers, {
        mediaType: layer.mediaType,
        digest: layer.digest,
        size: layer.size,
      }];
    }
    st.imageId = undefined;
    if (!x.commit) {
      st.chain = key;
      return;
    }
    if (x.last) this.emit({ type: "commit", prefix: x.prefix, name: x.tags[0] });
    const t1 = performance.now();
    const id = await this.ensureImage(st);
    if (this.o.layers ?? true) await cacheStore(this.root, key, id);
    debug(`build: ${ins.cmd} at line ${ins.line} committed in ${Math.round(performance.now() - t1)} ms`);
    st.chain = id;
    this.emit({ type: "image", id });
  }

  /**
   * Starts making the layer of `ins` when it is a plain COPY (no flags, no heredoc: nothing in it depends on
   * the files of the RUN running now, whose config and args it shares) whose plan needs no look at the image
   * (`destMaybeDir`). The step uses it when its plan's digest is the same; any failure here is dropped (the step
   * then makes the layer itself and reports the error at its line).
   */
  prefetchCopy(ins: Instruction, st: StageState): void {
    if (ins.cmd !== "COPY" || Object.keys(ins.flags).length || ins.heredocs.length) return;
    const lookup = this.lookup(st);
    const workdir = st.config.config?.WorkingDir || "/";
    const job = async (): Promise<PrefetchedCopy | undefined> => {
      const words = ins.json ?? processWords(ins.args, lookup, this.cf.escape);
      if (words.length < 2) return undefined;
      const plan = await planCopy(words.slice(0, -1), words[words.length - 1], workdir, {
        contextDir: this.o.contextDir,
        ignore: this.o.ignore,
        add: false,
        heredocs: new Map(),
      });
      if (plan.destMaybeDir !== undefined) return undefined;
      const digest = await planDigest(plan, await this.memo());
      const headers: TarHeader[] = [];
      const layer = await storeLayer(this.root, writeTar(tap(planEntries(plan), headers)), "COPY layer");
      await this.claim.add([layer.digest]);
      return { digest, layer, headers };
    };
    this.prefetched.set(
      ins,
      job().catch((e) => {
        debug(`build: ${ins.cmd} at line ${ins.line} not made ahead: ${e instanceof Error ? e.message : e}`);
        return undefined;
      }),
    );
  }

  /** The stage's or image's files a `RUN --mount=…,from=REF` reads. */
  async mountFiles(ref: string, ins: Instruction): Promise<ImageFiles> {
    const idx = this.stageRef(ref, this.currentStageIndex(ins));
    if (idx !== undefined) {
      const prev = this.results.get(idx);
      if (!prev) throw this.err(ins, `RUN --mount from=${ref}: stage was not built`);
      return await this.imageFiles(prev.layers);
    }
    const img = await this.image(ref, ins);
    return await this.imageFiles((await readManifest(this.root, img)).layers);
  }

  /**
   * What a RUN's mounts add to its cache key: each mount as parsed, a context bind's content digest, a
   * `from=` source's image (a secret's value never: as buildah, changing it does not rebuild).
   */
  async mountsKey(ms: RunMount[], ins: Instruction): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const m of ms) {
      if (m.type !== "bind") {
        out.push(m);
        continue;
      }
      if (m.from !== undefined) {
        const idx = this.stageRef(m.from, this.currentStageIndex(ins));
        let id: string;
        if (idx !== undefined) {
          const prev = this.results.get(idx);
          if (!prev) throw this.err(ins, `RUN --mount from=${m.from}: stage was not built`);
          id = await this.ensureImage(prev);
        } else id = (await this.image(m.from, ins)).id;
        out.push({ ...m, image: id });
        continue;
      }
      const { IgnoreRules } = await import("./ignore.ts");
      const { contextSource } = await import("./run_mounts.ts");
      contextSource(this.o.contextDir, m.source); // its clear errors first
      const plan = await this.atAsync(ins, () =>
        planCopy([m.source || "."], "/m/", "/", {
          contextDir: this.o.contextDir,
          ignore: new IgnoreRules([]),
          add: false,
          heredocs: new Map(),
        }));
      out.push({ ...m, content: await planDigest(plan, await this.memo()) });
    }
    return out;
  }

  async atAsync<T>(ins: Instruction, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof VariableError || e instanceof ConfigError || e instanceof CopyError) {
        throw new PodError(`building at STEP "${ins.original}": ${e.message}`, { code: "USAGE" });
      }
      throw e;
    }
  }

  currentStageIndex(ins: Instruction): number {
    const i = this.cf.stages.findIndex((s) => s.instructions.includes(ins));
    return i < 0 ? this.cf.stages.length : i;
  }

  /** `--chown` user[:group]: numbers, or names looked up in the stage's /etc/passwd and /etc/group. */
  async owner(spec: string, st: StageState, ins: Instruction): Promise<{ uid: number; gid: number }> {
    const [u, g] = spec.split(":");
    const lookupName = async (name: string, file: string): Promise<number> => {
      if (/^\d+$/.test(name)) return Number(name);
      if (name === "root") return 0;
      const files = await this.imageFiles(st.layers);
      const text = await files.readText(file);
      for (const line of (text ?? "").split("\n")) {
        const f = line.split(":");
        if (f[0] === name && /^\d+$/.test(f[2] ?? "")) return Number(f[2]);
      }
      throw this.err(
        ins,
        `--chown: no ${file === "etc/passwd" ? "user" : "group"} "${name}" in the image's /${file}`,
      );
    };
    const uid = await lookupName(u, "etc/passwd");
    let gid = uid;
    if (g !== undefined && g !== "") gid = await lookupName(g, "etc/group");
    else if (!/^\d+$/.test(u)) {
      const files = await this.imageFiles(st.layers);
      const line = ((await files.readText("etc/passwd")) ?? "").split("\n").find((l) =>
        l.split(":")[0] === u
      );
      gid = Number(line?.split(":")[3] ?? uid);
    }
    return { uid, gid };
  }

  /** The context's file digests remembered from earlier builds (see {@link DigestMemo}). */
  async memo(): Promise<DigestMemo> {
    if (!this.#memo) {
      const { readMemo } = await import("./cache.ts");
      this.#memo = new DigestMemo(await readMemo(this.root, this.o.contextDir));
    }
    return this.#memo;
  }

  /** The files of an image made of `layers` (cached per build). */
  async imageFiles(layers: Descriptor[]): Promise<ImageFiles> {
    const key = layers.map((l) => l.digest).join(",");
    let f = this.files.get(key);
    if (!f) {
      const { blobPath } = await import("../store/paths.ts");
      f = await ImageFiles.open(
        layers.map((l) => ({ path: blobPath(this.root, l.digest), mediaType: l.mediaType })),
      );
      this.files.set(key, f);
    }
    return f;
  }

  /** Registers the state as an image unless it is one already; returns its id. */
  async ensureImage(st: StageState): Promise<string> {
    if (st.imageId) return st.imageId;
    const id = await registerNewImage(this.root, st.config, st.layers, undefined, this.claim, this.o.format);
    st.imageId = id;
    if (!(this.o.layers ?? true)) this.temporary.push(id);
    return id;
  }

  needsFinalize(): boolean {
    const o = this.o;
    return !!(o.squash || o.squashAll || Object.keys(o.labels ?? {}).length ||
      Object.keys(o.annotations ?? {}).length);
  }

  /** Final changes of the target stage: --label, --annotation, --squash/--squash-all. */
  async finalize(st: StageState, s: Stage): Promise<void> {
    let config = structuredClone(st.config);
    let layers = st.layers;
    if (this.o.labels && Object.keys(this.o.labels).length) {
      config.config = { ...config.config, Labels: { ...(config.config?.Labels ?? {}), ...this.o.labels } };
    }
    if (this.o.squash || this.o.squashAll) {
      const baseCount = this.o.squashAll ? 0 : await this.baseLayerCount(s);
      const merged = await this.imageFiles(layers.slice(baseCount));
      const wanted = new Map<string, string>();
      for (const k of merged.entries.keys()) wanted.set(k, k);
      const layer = await storeLayer(
        this.root,
        writeTar(unique(merged.stream(wanted))),
        "squashed layer",
      );
      await this.claim.add([layer.digest]);
      const keep = layers.slice(0, baseCount);
      const diffIds = config.rootfs.diff_ids.slice(0, baseCount);
      layers = [...keep, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }];
      config = { ...config, rootfs: { type: "layers", diff_ids: [...diffIds, layer.diffId] } };
    }
    if (layers === st.layers && JSON.stringify(config) === JSON.stringify(st.config)) {
      // only the manifest changes (--annotation): a config of its own, or the step's image and the result
      // would be one image id with two manifests (an id no lookup could resolve)
      config = { ...config, created: new Date().toISOString() };
    }
    const id = await this.registerFinal(config, layers);
    st.config = config;
    st.layers = layers;
    st.imageId = id;
    this.emit({ type: "image", id });
  }

  async registerFinal(config: ImageConfig, layers: Descriptor[]): Promise<string> {
    const annotations = this.o.annotations && Object.keys(this.o.annotations).length
      ? this.o.annotations
      : undefined;
    return await registerNewImage(
      this.root,
      config,
      layers,
      undefined,
      this.claim,
      this.o.format,
      annotations,
    );
  }

  async baseLayerCount(s: Stage): Promise<number> {
    const base = this.expandGlobal(s.base);
    if (base.toLowerCase() === "scratch") return 0;
    const ref = this.stageRef(base, s.index);
    if (ref !== undefined) return this.results.get(ref)?.layers.length ?? 0;
    const img = await findImage(this.root, base);
    return img ? (await readManifest(this.root, img)).layers.length : 0;
  }

  /** With --layers=false: the intermediate images RUN needed are removed (the result stays). */
  async dropTemporary(keep: string): Promise<void> {
    if (!this.temporary.length) return;
    const { deleteImageEntries } = await import("../store/images.ts");
    for (const id of new Set(this.temporary)) {
      if (id === keep) continue;
      const img = await findImage(this.root, id);
      if (img && !img.names.length) await deleteImageEntries(this.root, img).catch(() => {});
    }
  }
}

/** A COPY layer made ahead ({@link Builder.prefetchCopy}). */
interface PrefetchedCopy {
  /** Its plan's digest (the step's cache text). */
  digest: string;
  /** The layer. */
  layer: StoredLayer;
  /** Its entries' headers. */
  headers: TarHeader[];
}

/**
 * Stores a build layer uncompressed, as podman's build does (push compresses it); node's crypto is loaded only
 * when a step makes one, not on cache hits. The bytes pass through reused buffers: no garbage to collect.
 */
async function storeLayer(
  root: string,
  tar: AsyncIterable<Uint8Array>,
  what: string,
): Promise<StoredLayer> {
  const { storeTarLayer } = await import("../image/layer_blob.ts");
  return await storeTarLayer(root, tar, what);
}

async function* tap(entries: AsyncIterable<TarWriteEntry>, into: TarHeader[]): AsyncGenerator<TarWriteEntry> {
  for await (const e of entries) {
    into.push(headerOf(e));
    yield e;
  }
}

async function* unique<T extends { name: string }>(entries: AsyncIterable<T>): AsyncGenerator<T> {
  const seen = new Set<string>();
  for await (const e of entries) {
    if (seen.has(e.name)) continue;
    seen.add(e.name);
    yield e;
  }
}

function describe(ins: Instruction, c: RuntimeConfig, lookup: Lookup, escape: string): string {
  switch (ins.cmd) {
    case "CMD":
      return `CMD ${JSON.stringify(c.Cmd ?? [])}`;
    case "ENTRYPOINT":
      return `ENTRYPOINT ${JSON.stringify(c.Entrypoint ?? [])}`;
    case "ENV":
    case "LABEL":
      return `${ins.cmd} ${keyValues(ins.args, lookup, escape).map(([k, v]) => `${k}=${v ?? ""}`).join(" ")}`;
    case "USER":
      return `USER ${c.User}`;
    case "EXPOSE":
      return `EXPOSE ${Object.keys(c.ExposedPorts ?? {}).join(" ")}`;
    case "VOLUME":
      return `VOLUME ${JSON.stringify(Object.keys(c.Volumes ?? {}))}`;
    case "STOPSIGNAL":
      return `STOPSIGNAL ${c.StopSignal}`;
    case "HEALTHCHECK":
      return `HEALTHCHECK ${JSON.stringify(c.Healthcheck)}`;
    default:
      return ins.original;
  }
}
