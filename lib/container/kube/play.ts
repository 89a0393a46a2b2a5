/**
 * `kube play` and `kube down` (scope "pods", issue 15): runs the Pods and Deployments (one replica, as
 * podman) of a Kubernetes YAML stream as pods, with the ConfigMaps, Secrets and PersistentVolumeClaims it
 * (or `--configmap`) holds. Container names are `<pod>-<container>`; a Deployment's pod is
 * `<deployment>-pod-0`. Init containers run first, in order, each to a successful exit (then removed). The
 * records are made in the YAML's order, the starts overlapping them (kube9, play_run.ts).
 * Fields pod does not support get one warning each; a kind it does not know, or invalid YAML, is one
 * error naming the document and its line.
 * @module
 */

import { PodError, UsageError } from "../../errors.ts";
import type { PullEvent } from "../../image/events.ts";
import type { ContainerSpec } from "../create.ts";
import { type KeyData, mountRequests, resolveKubeVolumes } from "./play_volumes.ts";
import type { PodRecord } from "../../store/pods.ts";
import type { Container, PodSpec } from "./types.ts";
import { parseYamlDocuments, type YamlDoc } from "./yaml.ts";
import { type KubePodIds, type KubePodPlan, type KubePodRun, runKubePod } from "./play_run.ts";
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

/** A container of the YAML as a {@link ContainerSpec} (its pod is set once the pod exists). */
function containerSpec(
  w: Workload,
  c: Container,
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

/** A Pod/Deployment checked, with its fields' warnings said (nothing made yet). */
function checkWorkload(w: Workload, o: PlayOptions): void {
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
}

/** A Pod/Deployment's volumes made and its containers' specs (of no pod yet): what {@link runKubePod} runs. */
async function planWorkload(
  root: string,
  w: Workload,
  maps: { configMaps: KeyData; secrets: KeyData },
  o: PlayOptions,
): Promise<KubePodPlan> {
  const at = `kube play: ${where(w.doc)}`;
  const spec = w.spec;
  const volumes = await resolveKubeVolumes(
    root,
    Array.isArray(spec.volumes) ? spec.volumes : [],
    maps.configMaps,
    maps.secrets,
    at,
  );
  const init = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  if (init.length && o.start === false) {
    (o.onWarning ?? (() => {}))(`${at}: --start=false: the init containers are not run`);
  }
  return {
    at,
    init: o.start === false
      ? []
      : init.map((c) => ({ name: c?.name, spec: containerSpec(w, c, volumes, maps, o) })),
    containers: spec.containers.map((c) => containerSpec(w, c, volumes, maps, o)),
  };
}

/** The pod of a Pod/Deployment (and its infra container). */
async function createWorkloadPod(root: string, w: Workload, o: PlayOptions) {
  const { createPod } = await import("../pod/pods.ts");
  return await createPod(root, {
    name: w.podName,
    labels: w.labels,
    hostname: typeof w.spec.hostname === "string" ? w.spec.hostname : undefined,
    share: w.spec.shareProcessNamespace ? "net,ipc,uts,pid" : undefined,
    network: o.network ?? (w.spec.hostNetwork ? "host" : undefined),
    publish: [...publishOf(w.spec), ...(o.publish ?? [])],
    createCommand: o.createCommand,
  });
}

/**
 * `kube play`: runs the YAML stream `text`. Every Pod/Deployment is checked and its containers' specs made
 * before anything is created (a refused YAML leaves nothing behind); the pods are then created one after the
 * other in the YAML's order, each one's starts overlapping the next one's records (kube9,
 * lib/container/kube/play_run.ts). A pod that fails is removed; the first failure in the YAML's order is
 * thrown once every start has ended (the other pods stay, as podman leaves them).
 */
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
  const { validateName } = await import("../../store/containers.ts");
  const plans: KubePodPlan[] = [];
  for (const w of workloads) {
    validateName(w.podName);
    checkWorkload(w, o);
    plans.push(await planWorkload(root, w, { configMaps, secrets }, o));
  }
  if (o.replace && workloads.length) {
    // the pods of the same names go, all at once, before any is made again
    const { removePod } = await import("../pod/pods.ts");
    await Promise.all(
      workloads.map((w) => removePod(root, w.podName, { force: true, timeout: 0 }).catch(() => {})),
    );
  }
  const runs: { name: string; id: string; run: KubePodRun }[] = [];
  let failure: unknown;
  for (const [i, w] of workloads.entries()) {
    try {
      const pod = await createWorkloadPod(root, w, o);
      const run = runKubePod(root, pod, plans[i], o.start !== false);
      run.done.catch(() => {}); // settled below
      runs.push({ name: pod.name, id: pod.id, run });
      await run.created; // the next pod's records after this one's
    } catch (e) {
      failure = e;
      break;
    }
  }
  const settled = await Promise.allSettled(runs.map((r) => r.run.done));
  const failed = settled.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  if (failure) throw failure;
  return {
    pods: runs.map((r, i) => ({
      id: r.id,
      name: r.name,
      ...(settled[i] as PromiseFulfilledResult<KubePodIds>).value,
    })),
    volumes: claims,
  };
}

/**
 * `kube down`: stops and removes the pods the YAML names, all at once (kube9: each one's containers stopped
 * at once and removed in parallel by `removePod`, as `pod rm -f`). Returns their ids in the YAML's order
 * (missing pods are skipped); a failure names every pod that could not be removed.
 */
export async function downKube(root: string, text: string): Promise<string[]> {
  const { getPod } = await import("../../store/pods.ts");
  const { removePod } = await import("../pod/pods.ts");
  const pods: PodRecord[] = [];
  for (const name of await kubePodNames(text)) {
    const pod = await getPod(root, name).catch(() => undefined);
    if (pod) pods.push(pod);
  }
  // each container's own stop timeout, as podman
  const settled = await Promise.allSettled(pods.map((p) => removePod(root, p.id, { force: true })));
  const errors = settled.flatMap((r, i) =>
    r.status === "rejected"
      ? [`${pods[i].name}: ${r.reason instanceof Error ? r.reason.message : r.reason}`]
      : []
  );
  if (errors.length === 1) {
    throw (settled.find((r) => r.status === "rejected") as PromiseRejectedResult).reason;
  }
  if (errors.length) throw new PodError(errors.join("; "));
  return pods.map((p) => p.id);
}
