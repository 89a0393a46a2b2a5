/**
 * `kube generate` (scope "pods", issue 15): Kubernetes YAML of pods and containers, in podman's shapes: a
 * `v1 Pod` (or, `--type deployment`, an `apps/v1 Deployment` with one replica) per pod, one pod for the
 * containers named, and with `--service` a `v1 Service` (NodePort) for the published ports. The command and
 * args are split against the image's entrypoint and cmd as podman does; only the environment the container
 * added to the image's is written; bind mounts become `hostPath` volumes, named volumes
 * `persistentVolumeClaim`s, tmpfs mounts `emptyDir` (Memory).
 * @module
 */

import { PodError, UsageError } from "../../errors.ts";
import type { ImageConfig } from "../../oci/manifest.ts";
import { type ContainerRecord, getContainer, listContainers } from "../../store/containers.ts";
import { findImage, readImageConfig } from "../../store/images.ts";
import { getPod, type PodRecord } from "../../store/pods.ts";
import { VERSION } from "../../version.ts";
import { DEFAULT_CAPABILITIES } from "../../ns/spec.ts";
import type {
  Container,
  ContainerPort,
  DeploymentObject,
  PodObject,
  PodSpec,
  ServiceObject,
  Volume,
} from "./types.ts";

/** Options of {@link generateKube}. */
export interface GenerateOptions {
  /** `-s`: also a Service for the published ports. */
  service?: boolean;
  /** `--type`: `pod` (default) or `deployment`. */
  type?: string;
}

/** The comment podman puts first. */
export const GENERATED_HEADER = "# Save the output of this file and use kubectl create -f to import\n" +
  `# it into Kubernetes.\n#\n# Created with pod-${VERSION}\n`;

/** A name as a DNS-1123 label (lower case letters, digits, `-`; at most 63 characters). */
export function dnsLabel(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63)
    .replace(/-+$/, "");
  return s || "x";
}

const ENV_ADDED_BY_POD = new Set(["HOSTNAME", "container", "TERM", "HOME"]);

/** The container's environment that the image does not already set (podman leaves the defaults out). */
function envOf(c: ContainerRecord, image: ImageConfig): Container["env"] {
  const imageEnv = new Set(image.config?.Env ?? []);
  const out = [];
  for (const e of c.config.process.env) {
    const eq = e.indexOf("=");
    const name = eq < 0 ? e : e.slice(0, eq);
    if (imageEnv.has(e) || ENV_ADDED_BY_POD.has(name)) continue;
    if (name === "PATH" && !(image.config?.Env ?? []).some((x) => x.startsWith("PATH="))) {
      if (e.slice(eq + 1) === "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") continue;
    }
    out.push({ name, value: eq < 0 ? "" : e.slice(eq + 1) });
  }
  return out.length ? out : undefined;
}

const same = (a: string[] | undefined | null, b: string[] | undefined | null) =>
  JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/** podman's split: `command` when the entrypoint differs from the image's (or it has none), `args` else. */
function commandOf(c: ContainerRecord, image: ImageConfig): Pick<Container, "command" | "args"> {
  const p = c.config.process;
  const imgEp = image.config?.Entrypoint ?? [];
  const imgCmd = image.config?.Cmd ?? [];
  if (!imgEp.length && !p.entrypoint.length) return same(p.cmd, imgCmd) ? {} : { command: p.cmd };
  const out: Pick<Container, "command" | "args"> = {};
  if (!same(p.entrypoint, imgEp)) out.command = p.entrypoint;
  if (!same(p.cmd, imgCmd) || out.command) {
    if (p.cmd.length) out.args = p.cmd;
  }
  return out;
}

/** `-p [ip:]host:ctr[/proto]` as container ports (ranges are left out). */
export function portsOf(publish: string[]): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const p of publish) {
    const [spec, proto = "tcp"] = p.split("/");
    const parts = spec.split(":");
    const ctr = Number(parts.pop());
    const host = parts.length ? Number(parts.pop()) : undefined;
    const ip = parts.join(":").replace(/^\[|\]$/g, "");
    if (!Number.isInteger(ctr) || ctr <= 0) continue;
    out.push({
      containerPort: ctr,
      ...(host ? { hostPort: host } : {}),
      ...(ip ? { hostIP: ip } : {}),
      ...(proto.toLowerCase() !== "tcp" ? { protocol: proto.toUpperCase() } : {}),
    });
  }
  return out;
}

function securityOf(c: ContainerRecord): Container["securityContext"] | undefined {
  const cfg = c.config;
  const sc: NonNullable<Container["securityContext"]> = {};
  if (cfg.privileged) sc.privileged = true;
  if (cfg.readOnly) sc.readOnlyRootFilesystem = true;
  const m = /^(\d+)(?::(\d+))?$/.exec(cfg.process.user);
  if (m && cfg.process.user !== "0" && !cfg.isInfra) {
    sc.runAsUser = Number(m[1]);
    if (m[2] !== undefined) sc.runAsGroup = Number(m[2]);
  }
  const cap = (n: string) => (n.startsWith("CAP_") || n === "ALL" ? n : `CAP_${n}`);
  const add = (cfg.security?.capAdd ?? []).filter((a) =>
    a === "ALL" || !DEFAULT_CAPABILITIES.includes(a.replace(/^CAP_/, ""))
  );
  const drop = cfg.security?.capDrop ?? [];
  if (add.length || drop.length) {
    sc.capabilities = {
      ...(add.length ? { add: add.map(cap) } : {}),
      ...(drop.length ? { drop: drop.map(cap) } : {}),
    };
  }
  return Object.keys(sc).length ? sc : undefined;
}

/** The containers' mounts as volume mounts, collecting the pod's volumes (by name, once each). */
async function mountsOf(
  c: ContainerRecord,
  volumes: Map<string, Volume>,
): Promise<Container["volumeMounts"]> {
  const out: NonNullable<Container["volumeMounts"]> = [];
  for (const m of c.config.mounts) {
    let vol: Volume;
    if (m.type === "bind" && m.source) {
      const base = dnsLabel(m.source.replace(/^\/+/, "") || "root").slice(0, 50);
      let type: string | undefined;
      try {
        const st = await Deno.stat(m.source);
        type = st.isDirectory ? "Directory" : st.isFile ? "File" : undefined;
      } catch { /* gone: no type */ }
      const existing = [...volumes.values()].find((v) => v.hostPath?.path === m.source);
      vol = existing ?? {
        name: `${base}-host-${[...volumes.values()].filter((v) => v.hostPath).length}`,
        hostPath: { path: m.source, ...(type ? { type } : {}) },
      };
    } else if (m.type === "volume" && m.name) {
      vol = { name: dnsLabel(`${m.name}-pvc`), persistentVolumeClaim: { claimName: m.name } };
    } else if (m.type === "tmpfs") {
      vol = { name: dnsLabel(`${m.destination}-tmpfs`), emptyDir: { medium: "Memory" } };
    } else continue;
    volumes.set(vol.name, vol);
    out.push({ mountPath: m.destination, name: vol.name, ...(m.readonly ? { readOnly: true } : {}) });
  }
  return out.length ? out : undefined;
}

/** One container of the pod spec (`podName`: the prefix kube play gave its name, left out again). */
async function containerOf(
  root: string,
  c: ContainerRecord,
  podName: string | undefined,
  volumes: Map<string, Volume>,
  ports: ContainerPort[],
): Promise<Container> {
  const img = await findImage(root, c.config.image.id);
  const image: ImageConfig = img ? await readImageConfig(root, img) : ({} as ImageConfig);
  let name = c.config.name;
  if (podName && name.startsWith(`${podName}-`) && name.length > podName.length + 1) {
    name = name.slice(podName.length + 1);
  }
  const cwd = c.config.process.cwd;
  const out: Container = {
    name: dnsLabel(name),
    image: c.config.image.ref ?? c.config.image.name,
    ...commandOf(c, image),
    ...(envOf(c, image) ? { env: envOf(c, image) } : {}),
    ...(cwd !== (image.config?.WorkingDir || "/") ? { workingDir: cwd } : {}),
    ...(ports.length ? { ports } : {}),
    ...(securityOf(c) ? { securityContext: securityOf(c) } : {}),
    ...(c.config.process.terminal ? { tty: true } : {}),
    ...(c.config.process.stdin ? { stdin: true } : {}),
  };
  const mounts = await mountsOf(c, volumes);
  if (mounts) out.volumeMounts = mounts;
  return out;
}

interface Group {
  name: string;
  pod?: PodRecord;
  containers: ContainerRecord[];
  created: string;
}

/** Resolves the names: pods first, else containers (which together make one pod, as podman). */
async function groupsOf(root: string, names: string[]): Promise<Group[]> {
  const groups: Group[] = [];
  const loose: ContainerRecord[] = [];
  const all = await listContainers(root);
  for (const n of names) {
    const pod = await getPod(root, n).catch(() => undefined);
    if (pod) {
      const members = all.filter((c) => c.config.pod === pod.id && !c.config.isInfra)
        .sort((a, b) => (a.config.created < b.config.created ? -1 : 1));
      if (!members.length) throw new PodError(`pod ${pod.name} has no containers to generate YAML for`);
      groups.push({ name: pod.name, pod, containers: members, created: pod.created });
      continue;
    }
    const c = await getContainer(root, n).catch(() => undefined);
    if (!c) throw new PodError(`${n} does not refer to a container or pod`, { code: "NOT_FOUND" });
    if (c.config.isInfra) {
      throw new UsageError(`${n} is an infra container: generate YAML of its pod instead`);
    }
    loose.push(c);
  }
  if (loose.length) {
    groups.push({ name: `${loose[0].config.name}-pod`, containers: loose, created: loose[0].config.created });
  }
  return groups;
}

/** The time as Kubernetes writes it (seconds, UTC). */
function kubeTime(t: string): string {
  const ms = Date.parse(t);
  return new Date(Number.isNaN(ms) ? Date.now() : ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** The Kubernetes objects for `names` (pods or containers), as data. */
export async function generateObjects(
  root: string,
  names: string[],
  o: GenerateOptions = {},
): Promise<(PodObject | DeploymentObject | ServiceObject)[]> {
  const type = o.type ?? "pod";
  if (type !== "pod" && type !== "deployment") {
    throw new UsageError(`invalid type "${type}": use pod or deployment`);
  }
  if (!names.length) throw new UsageError("generate needs at least one container or pod");
  const objects: (PodObject | DeploymentObject | ServiceObject)[] = [];
  for (const g of await groupsOf(root, names)) {
    const name = dnsLabel(g.name);
    const volumes = new Map<string, Volume>();
    const ports = portsOf(g.pod?.ports ?? []);
    const containers: Container[] = [];
    for (const [i, c] of g.containers.entries()) {
      // the pod's published ports are the infra's: written on the first container, as podman does
      containers.push(await containerOf(root, c, g.pod?.name, volumes, i === 0 ? ports : []));
    }
    const infra = g.pod?.infraId ? await getContainer(root, g.pod.infraId).catch(() => undefined) : undefined;
    const first = g.containers[0].config;
    const spec: PodSpec = {
      automountServiceAccountToken: false,
      containers,
      enableServiceLinks: false,
      hostname: g.pod ? g.pod.hostname : first.hostname,
      ...((infra ?? g.containers[0]).config.namespaces.net === "host" ? { hostNetwork: true } : {}),
      ...(g.pod?.share.includes("pid") ? { shareProcessNamespace: true } : {}),
      restartPolicy: "Never",
      ...(volumes.size ? { volumes: [...volumes.values()] } : {}),
    };
    const annotations: Record<string, string> = {};
    for (const c of containers) if (c.tty) annotations[`io.kubernetes.cri-o.TTY/${c.name}`] = "true";
    const metadata = {
      ...(Object.keys(annotations).length ? { annotations } : {}),
      creationTimestamp: kubeTime(g.created),
      labels: { app: name },
      name,
    };
    if (type === "pod") {
      objects.push({ apiVersion: "v1", kind: "Pod", metadata, spec, status: {} });
    } else {
      objects.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: {
          creationTimestamp: metadata.creationTimestamp,
          labels: metadata.labels,
          name: `${name}-deployment`,
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: {
              ...metadata.annotations ? { annotations: metadata.annotations } : {},
              labels: metadata.labels,
            },
            spec,
          },
        },
        status: {},
      });
    }
    if (o.service) {
      const svcPorts = containers.flatMap((c) => c.ports ?? []).map((p) => ({
        name: String(p.containerPort),
        // podman picks a node port at random in Kubernetes' default range
        nodePort: 30000 + Math.floor(Math.random() * 2768),
        port: p.containerPort,
        ...(p.protocol ? { protocol: p.protocol } : {}),
        targetPort: p.containerPort,
      }));
      objects.unshift({
        apiVersion: "v1",
        kind: "Service",
        metadata: { creationTimestamp: metadata.creationTimestamp, labels: { app: name }, name },
        spec: { ports: svcPorts, selector: { app: name }, type: "NodePort" },
        status: { loadBalancer: {} },
      });
    }
  }
  return objects;
}

/** `kube generate`: the YAML text (podman's header comment, then the documents). */
export async function generateKube(root: string, names: string[], o: GenerateOptions = {}): Promise<string> {
  const objects = await generateObjects(root, names, o);
  const { stringifyYamlDocuments } = await import("./yaml.ts");
  return GENERATED_HEADER + await stringifyYamlDocuments(JSON.parse(JSON.stringify(objects)));
}
