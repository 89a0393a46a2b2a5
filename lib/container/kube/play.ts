/**
 * `kube play` and `kube down` (scope "pods", issue 15): runs the Pods and Deployments (one replica, as
 * podman) of a Kubernetes YAML stream as pods, with the ConfigMaps, Secrets and PersistentVolumeClaims it
 * (or `--configmap`) holds. Container names are `<pod>-<container>`; a Deployment's pod is
 * `<deployment>-pod-0`. Init containers run first, in order, each to a successful exit (then removed).
 * Fields pod does not support get one warning each; a kind it does not know, or invalid YAML, is one
 * error naming the document and its line.
 * @module
 */

import { PodError, UsageError } from "../../errors.ts";
import type { PullEvent } from "../../image/events.ts";
import type { ContainerSpec } from "../create.ts";
import { type KeyData, mountRequests, resolveKubeVolumes } from "./play_volumes.ts";
import type { Container, PodSpec } from "./types.ts";
import { parseYamlDocuments, type YamlDoc } from "./yaml.ts";
import { traceTime } from "../../log.ts";

/** Options of {@link playKube}. */
export interface PlayOptions {
  /** Start the pods (default true). */
  start?: boolean;
  /** Remove pods of the same names first. */
  replace?: boolean;
  /** `--network` of every pod. */
  network?: string;
  /** Texts of `--configmap` files. */
  configmaps?: { name: string; text: string }[];
  /** `--publish` ports added to every pod. */
  publish?: string[];
  /** Warnings (unsupported fields…). */
  onWarning?: (msg: string) => void;
  /** TLS verification of the pulls (undefined: pull's default). */
  tlsVerify?: boolean;
  /** Pull progress. */
  onEvent?: (e: PullEvent) => void;
  /** The command line (for the pods' inspect). */
  createCommand?: string[];
}

/** What `kube play` made: per pod its id and its containers' ids. */
export interface PlayResult {
  pods: { id: string; name: string; containers: string[]; initContainers: string[] }[];
  volumes: string[];
}

const SUPPORTED = ["Pod", "Deployment", "ConfigMap", "Secret", "PersistentVolumeClaim", "Service"];

const POD_SPEC_FIELDS = new Set([
  "containers",
  "initContainers",
  "volumes",
  "hostname",
  "restartPolicy",
  "hostNetwork",
  "shareProcessNamespace",
  "automountServiceAccountToken",
  "enableServiceLinks",
  "securityContext",
  "dnsPolicy",
  "terminationGracePeriodSeconds",
]);
const CONTAINER_FIELDS = new Set([
  "name",
  "image",
  "command",
  "args",
  "env",
  "envFrom",
  "workingDir",
  "ports",
  "volumeMounts",
  "securityContext",
  "resources",
  "tty",
  "stdin",
  "imagePullPolicy",
  "terminationMessagePath",
  "terminationMessagePolicy",
]);
const SECURITY_FIELDS = new Set([
  "privileged",
  "readOnlyRootFilesystem",
  "runAsUser",
  "runAsGroup",
  "capabilities",
]);

interface Workload {
  doc: YamlDoc;
  podName: string;
  labels: Record<string, string>;
  spec: PodSpec;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

function where(doc: YamlDoc): string {
  return `document ${doc.index}, line ${doc.line}`;
}

function stringMap(v: unknown, at: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new PodError(`${at}: expected a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === "string" ? x : String(x);
  return out;
}

function strings(v: unknown, at: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new PodError(`${at}: expected a list of strings`);
  return v.map((x) => (typeof x === "string" ? x : String(x)));
}

/** The documents split by kind (unknown kinds refused). */
async function readDocuments(text: string, extraConfigMaps: { name: string; text: string }[]) {
  const docs = await parseYamlDocuments(text, "kube play");
  const workloads: Workload[] = [];
  const configMaps: KeyData = new Map();
  const secrets: KeyData = new Map();
  const claims: string[] = [];
  const readMeta = (d: YamlDoc) => {
    const v = d.value as Record<string, unknown>;
    const meta = isObject(v.metadata) ? v.metadata : {};
    const name = meta.name;
    if (typeof name !== "string" || !name) {
      throw new PodError(`kube play: ${where(d)}: metadata.name is missing`);
    }
    return { name, labels: stringMap(meta.labels, `kube play: ${where(d)}: metadata.labels`) };
  };
  const addKeys = (d: YamlDoc, into: KeyData, b64: boolean) => {
    const v = d.value as Record<string, unknown>;
    const { name } = readMeta(d);
    const data = stringMap(v.data, `kube play: ${where(d)}: data`);
    if (b64) {
      for (const [k, x] of Object.entries(data)) {
        try {
          data[k] = new TextDecoder().decode(Uint8Array.from(atob(x), (c) => c.charCodeAt(0)));
        } catch {
          throw new PodError(`kube play: ${where(d)}: data.${k} is not base64`);
        }
      }
    }
    into.set(name, { ...data, ...stringMap(v.stringData, `kube play: ${where(d)}: stringData`) });
  };
  for (const d of docs) {
    if (!isObject(d.value) || typeof d.value.kind !== "string") {
      throw new PodError(`kube play: ${where(d)}: not a Kubernetes object (no kind)`);
    }
    const kind = d.value.kind;
    if (!SUPPORTED.includes(kind)) {
      throw new PodError(`kube play: ${where(d)}: kind "${kind}" is not supported (${SUPPORTED.join(", ")})`);
    }
    const v = d.value;
    if (kind === "ConfigMap") addKeys(d, configMaps, false);
    else if (kind === "Secret") addKeys(d, secrets, true);
    else if (kind === "PersistentVolumeClaim") claims.push(readMeta(d).name);
    else if (kind === "Pod") {
      const { name, labels } = readMeta(d);
      if (!isObject(v.spec)) throw new PodError(`kube play: ${where(d)}: spec is missing`);
      workloads.push({ doc: d, podName: name, labels, spec: v.spec as unknown as PodSpec });
    } else if (kind === "Deployment") {
      const { name } = readMeta(d);
      const spec = isObject(v.spec) ? v.spec : undefined;
      const tpl = spec && isObject(spec.template) ? spec.template : undefined;
      if (!tpl || !isObject(tpl.spec)) {
        throw new PodError(`kube play: ${where(d)}: spec.template.spec is missing`);
      }
      const tplMeta = isObject(tpl.metadata) ? tpl.metadata : {};
      workloads.push({
        doc: d,
        podName: `${name}-pod-0`,
        labels: stringMap(tplMeta.labels, `kube play: ${where(d)}: template labels`),
        spec: tpl.spec as unknown as PodSpec,
      });
    }
  }
  for (const f of extraConfigMaps) {
    for (const d of await parseYamlDocuments(f.text, `--configmap ${f.name}`)) {
      if (!isObject(d.value) || d.value.kind !== "ConfigMap") {
        throw new PodError(`--configmap ${f.name}: ${where(d)}: not a ConfigMap`);
      }
      addKeys(d, configMaps, false);
    }
  }
  if (!workloads.length && !claims.length && !configMaps.size && !secrets.size) {
    throw new PodError("kube play: the YAML holds no Pod, Deployment or PersistentVolumeClaim");
  }
  return { docs, workloads, configMaps, secrets, claims };
}

/** The pod names a YAML stream's Pods and Deployments give (for `kube down`, `--replace`). */
export async function kubePodNames(text: string): Promise<string[]> {
  return (await readDocuments(text, [])).workloads.map((w) => w.podName);
}

function envOf(
  c: Container,
  configMaps: KeyData,
  secrets: KeyData,
  at: string,
): string[] {
  const out: string[] = [];
  for (const f of c.envFrom ?? []) {
    const ref = f?.configMapRef ?? f?.secretRef;
    const src = f?.configMapRef ? configMaps : secrets;
    const data = ref ? src.get(ref.name) : undefined;
    if (!data) {
      if (ref?.optional) continue;
      throw new PodError(`${at}: envFrom names no known ConfigMap or Secret (${ref?.name ?? "?"})`);
    }
    for (const [k, v] of Object.entries(data)) out.push(`${k}=${v}`);
  }
  for (const e of c.env ?? []) {
    if (!isObject(e) || typeof e.name !== "string") throw new PodError(`${at}: an env entry has no name`);
    if (e.valueFrom) {
      const ref = e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef;
      const src = e.valueFrom.configMapKeyRef ? configMaps : secrets;
      const v = ref ? src.get(ref.name)?.[ref.key] : undefined;
      if (v === undefined) {
        if (ref?.optional) continue;
        throw new PodError(`${at}: env ${e.name}: key ${ref?.key ?? "?"} of ${ref?.name ?? "?"} not found`);
      }
      out.push(`${e.name}=${v}`);
    } else out.push(`${e.name}=${e.value ?? ""}`);
  }
  return out;
}

function pullPolicy(p: unknown): string | undefined {
  return ({ Always: "always", IfNotPresent: "missing", Never: "never" } as Record<string, string>)[String(p)];
}

/** A container of the YAML as a {@link ContainerSpec} of pod `podId`. */
function containerSpec(
  w: Workload,
  c: Container,
  podId: string,
  volumes: Awaited<ReturnType<typeof resolveKubeVolumes>>,
  maps: { configMaps: KeyData; secrets: KeyData },
  o: PlayOptions,
): ContainerSpec {
  const at = `kube play: ${where(w.doc)}: container ${c?.name ?? "?"}`;
  if (!isObject(c) || typeof c.name !== "string" || !c.name) throw new PodError(`${at}: name is missing`);
  if (typeof c.image !== "string" || !c.image) throw new PodError(`${at}: image is missing`);
  const warn = o.onWarning ?? (() => {});
  for (const k of Object.keys(c)) {
    if (!CONTAINER_FIELDS.has(k)) warn(`${at}: field ${k} is not supported: ignored`);
  }
  const sc = isObject(c.securityContext) ? c.securityContext : {};
  for (const k of Object.keys(sc)) {
    if (!SECURITY_FIELDS.has(k)) warn(`${at}: securityContext.${k} is not supported: ignored`);
  }
  const podSc = isObject(w.spec.securityContext) ? w.spec.securityContext as Record<string, unknown> : {};
  const uid = sc.runAsUser ?? podSc.runAsUser;
  const gid = sc.runAsGroup ?? podSc.runAsGroup;
  if (uid !== undefined && !Number.isInteger(uid)) throw new PodError(`${at}: runAsUser must be an integer`);
  if (gid !== undefined && !Number.isInteger(gid)) throw new PodError(`${at}: runAsGroup must be an integer`);
  const limits = isObject(c.resources)
    ? Object.keys(c.resources).filter((k) => isObject(c.resources![k]))
    : [];
  if (limits.length) warn(`${at}: resources (${limits.join(", ")}) are not enforced by pod: ignored`);
  const caps = isObject(sc.capabilities) ? sc.capabilities : {};
  const mounts = mountRequests(c.volumeMounts ?? [], volumes, at, warn);
  return {
    image: c.image,
    args: strings(c.args, `${at}: args`) ?? [],
    entrypoint: strings(c.command, `${at}: command`),
    name: `${w.podName}-${c.name}`,
    pod: podId,
    env: envOf(c, maps.configMaps, maps.secrets, at),
    mounts,
    mountArgs: mounts.map((m) =>
      `${m.source ?? m.name ?? m.type}:${m.destination}${m.readonly ? ":ro" : ""}`
    ),
    workdir: c.workingDir || undefined,
    user: uid !== undefined ? `${uid}${gid !== undefined ? `:${gid}` : ""}` : undefined,
    privileged: !!sc.privileged,
    readOnly: !!sc.readOnlyRootFilesystem,
    security: caps.add || caps.drop
      ? {
        capAdd: (strings(caps.add, `${at}: capabilities.add`) ?? []).map((x) =>
          x.toUpperCase().replace(/^CAP_/, "")
        ),
        capDrop: (strings(caps.drop, `${at}: capabilities.drop`) ?? []).map((x) =>
          x.toUpperCase().replace(/^CAP_/, "")
        ),
      }
      : undefined,
    tty: !!c.tty,
    interactive: !!c.stdin,
    pull: pullPolicy(c.imagePullPolicy),
    tlsVerify: o.tlsVerify,
    createCommand: o.createCommand,
    onEvent: o.onEvent,
  };
}

/** The `-p` values of the containers' host ports. */
function publishOf(spec: PodSpec): string[] {
  const out: string[] = [];
  for (const c of spec.containers ?? []) {
    for (const p of c?.ports ?? []) {
      if (!p?.hostPort) continue;
      const proto = (p.protocol ?? "TCP").toLowerCase();
      out.push(`${p.hostIP ? `${p.hostIP}:` : ""}${p.hostPort}:${p.containerPort}/${proto}`);
    }
  }
  return out;
}

/** Runs one Pod/Deployment. */
async function playWorkload(
  root: string,
  w: Workload,
  maps: { configMaps: KeyData; secrets: KeyData },
  o: PlayOptions,
): Promise<PlayResult["pods"][number]> {
  const at = `kube play: ${where(w.doc)}`;
  const warn = o.onWarning ?? (() => {});
  const spec = w.spec;
  if (!Array.isArray(spec.containers) || !spec.containers.length) {
    throw new PodError(`${at}: spec.containers is empty`);
  }
  for (const k of Object.keys(spec)) {
    if (!POD_SPEC_FIELDS.has(k)) warn(`${at}: field spec.${k} is not supported: ignored`);
  }
  if (spec.restartPolicy && spec.restartPolicy !== "Never") {
    warn(`${at}: restartPolicy ${spec.restartPolicy} is not supported: containers are not restarted`);
  }
  const replicas = (w.doc.value as { spec?: { replicas?: number } }).spec?.replicas;
  if (typeof replicas === "number" && replicas > 1) {
    warn(`${at}: replicas ${replicas}: pod runs one, as podman`);
  }
  const { beginInfraStart, createPod, startPod, removePod } = await import("../pod/pods.ts");
  const { validateName } = await import("../../store/containers.ts");
  validateName(w.podName);
  if (o.replace) await removePod(root, w.podName, { force: true, timeout: 0 }).catch(() => {});
  const publish = [...publishOf(spec), ...(o.publish ?? [])];
  const volumes = await resolveKubeVolumes(
    root,
    Array.isArray(spec.volumes) ? spec.volumes : [],
    maps.configMaps,
    maps.secrets,
    at,
  );
  const pod = await createPod(root, {
    name: w.podName,
    labels: w.labels,
    hostname: typeof spec.hostname === "string" ? spec.hostname : undefined,
    share: spec.shareProcessNamespace ? "net,ipc,uts,pid" : undefined,
    network: o.network ?? (spec.hostNetwork ? "host" : undefined),
    publish,
    createCommand: o.createCommand,
  });
  const result = { id: pod.id, name: pod.name, containers: [] as string[], initContainers: [] as string[] };
  const init = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  // pods4: the infra starts while the containers are created (init containers start it themselves)
  const infra = o.start !== false && !init.length && pod.infraId
    ? beginInfraStart(root, pod.infraId)
    : undefined;
  infra?.done.catch(() => {}); // awaited by startPod, or below
  try {
    const { createFromSpec } = await import("../create.ts");
    if (init.length && o.start !== false) {
      const { startDetached } = await import("../start.ts");
      const { waitExited, removeById } = await import("../lifecycle.ts");
      for (const c of init) {
        const rec = await createFromSpec(root, containerSpec(w, c, pod.id, volumes, maps, o));
        result.initContainers.push(rec.config.id);
        await startDetached(root, rec.config.id);
        const done = await waitExited(root, rec.config.id);
        if (done.state.exitCode !== 0) {
          throw new PodError(`${at}: init container ${c.name} exited with code ${done.state.exitCode}`);
        }
        await removeById(root, rec.config.id, { force: true, volumes: true });
      }
    } else if (init.length) warn(`${at}: --start=false: the init containers are not run`);
    for (const c of spec.containers) {
      const rec = await createFromSpec(root, containerSpec(w, c, pod.id, volumes, maps, o));
      result.containers.push(rec.config.id);
    }
    if (o.start !== false) await startPod(root, pod.id, infra);
  } catch (e) {
    await infra?.done.catch(() => {});
    await removePod(root, pod.id, { force: true, timeout: 0 }).catch(() => {});
    throw e;
  }
  return result;
}

/** `kube play`: runs the YAML stream `text`. */
export async function playKube(root: string, text: string, o: PlayOptions = {}): Promise<PlayResult> {
  if (o.network !== undefined) {
    const { nsMode } = await import("../namespaces.ts");
    nsMode("network", o.network);
  }
  const { workloads, configMaps, secrets, claims } = await readDocuments(text, o.configmaps ?? []);
  traceTime("kube: YAML read");
  const names = new Set<string>();
  for (const w of workloads) {
    if (names.has(w.podName)) throw new UsageError(`kube play: two pods named ${w.podName}`);
    names.add(w.podName);
  }
  const { ensureVolume, VOLUME_NAME_RE } = await import("../../store/volumes.ts");
  for (const c of claims) {
    if (!VOLUME_NAME_RE.test(c)) throw new PodError(`kube play: invalid PersistentVolumeClaim name "${c}"`);
    await ensureVolume(root, c);
  }
  const result: PlayResult = { pods: [], volumes: claims };
  for (const w of workloads) result.pods.push(await playWorkload(root, w, { configMaps, secrets }, o));
  return result;
}

/** `kube down`: stops and removes the pods the YAML names. Returns their ids (missing pods are skipped). */
export async function downKube(root: string, text: string): Promise<string[]> {
  const { getPod } = await import("../../store/pods.ts");
  const { removePod } = await import("../pod/pods.ts");
  const out: string[] = [];
  for (const name of await kubePodNames(text)) {
    const pod = await getPod(root, name).catch(() => undefined);
    if (!pod) continue;
    await removePod(root, pod.id, { force: true }); // each container's own stop timeout, as podman
    out.push(pod.id);
  }
  return out;
}
