/**
 * Pod records (scope "pods", issue 15): `pods/<id>/pod.json`, written atomically; creates, renames and
 * removals hold the pods lock (`pods/lock`), so two creates cannot take the same name. A pod's members are
 * the containers whose config names it (`ContainerConfig.pod`); the record only knows its infra container.
 * @module
 */

import { NotFoundError, PodError } from "../errors.ts";
import { readJsonIfExists, writeJsonAtomic } from "./atomic.ts";
import { withLock } from "./lock.ts";

/** What a pod was created with (`pod.json`). */
export interface PodRecord {
  /** 64 hex characters. */
  id: string;
  /** Unique among pods. */
  name: string;
  /** RFC 3339 with nanoseconds. */
  created: string;
  /** `--label`. */
  labels: Record<string, string>;
  /** The hostname its members share (default: the pod's name). */
  hostname: string;
  /** The namespaces the members share with the infra container: `net`, `ipc`, `uts`, `pid`. */
  share: string[];
  /** `--exit-policy`: `continue` (default) or `stop` (the pod stops when its last member exits). */
  exitPolicy: "continue" | "stop";
  /** The infra container's id (absent with `--infra=false`). */
  infraId?: string;
  /** `-p` as written: published on the infra container. */
  ports: string[];
  /** The command line that created it. */
  createCommand: string[];
  /** `--infra-image`, `--infra-command`, `--infra-name` as given. */
  infraOptions?: { image?: string; command?: string[]; name?: string };
}

/** The pods directory and lock of a store. */
export function podPaths(root: string): { dir: string; lock: string } {
  return { dir: `${root}/pods`, lock: `${root}/pods/lock` };
}

function recordPath(root: string, id: string): string {
  return `${podPaths(root).dir}/${id}/pod.json`;
}

/** Runs `fn` holding the pods lock (pod creates, removals and renames). */
export async function withPodsLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(podPaths(root).dir, { recursive: true, mode: 0o700 });
  return await withLock(podPaths(root).lock, fn);
}

/** A new pod id (64 hex). */
export function newPodId(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Every pod, newest first. */
export async function listPods(root: string): Promise<PodRecord[]> {
  const out: PodRecord[] = [];
  try {
    for await (const e of Deno.readDir(podPaths(root).dir)) {
      if (!e.isDirectory || !/^[a-f0-9]{64}$/.test(e.name)) continue;
      const r = await readJsonIfExists<PodRecord>(recordPath(root, e.name));
      if (r) out.push(r);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
}

/** podman's error for an unknown pod. */
export function podNotFound(nameOrId: string): NotFoundError {
  return new NotFoundError(`no pod with name or ID ${nameOrId} found: no such pod`);
}

/** Finds a pod by full id, name or unique id prefix (podman's order). */
export async function getPod(root: string, nameOrId: string): Promise<PodRecord> {
  const pods = await listPods(root);
  const exact = pods.find((p) => p.id === nameOrId) ?? pods.find((p) => p.name === nameOrId);
  if (exact) return exact;
  if (/^[a-f0-9]+$/.test(nameOrId)) {
    const hits = pods.filter((p) => p.id.startsWith(nameOrId));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) {
      throw new PodError(`more than one result for pod "${nameOrId}": more than one result for ID`);
    }
  }
  throw podNotFound(nameOrId);
}

/** Reads a pod by full id (undefined when it is gone). */
export async function readPod(root: string, id: string): Promise<PodRecord | undefined> {
  return await readJsonIfExists<PodRecord>(recordPath(root, id));
}

/**
 * Stores a new pod; the name must be free among pods. Call inside {@link withPodsLock}. `durable: false`: without
 * fsync (pods7: the record is rewritten durably right after, with its infra container's id).
 */
export async function createPodRecord(root: string, pod: PodRecord, durable = true): Promise<void> {
  if ((await listPods(root)).some((p) => p.name === pod.name)) {
    throw new PodError(`pod ${pod.name} already exists: pod already exists`, { code: "EXISTS" });
  }
  await Deno.mkdir(`${podPaths(root).dir}/${pod.id}`, { recursive: true, mode: 0o700 });
  await writeJsonAtomic(recordPath(root, pod.id), pod, undefined, durable);
}

/** Rewrites a pod's record (e.g. its infra id once that container exists). */
export async function writePodRecord(root: string, pod: PodRecord): Promise<void> {
  await writeJsonAtomic(recordPath(root, pod.id), pod);
}

/** Removes a pod's record. */
export async function removePodRecord(root: string, id: string): Promise<void> {
  await Deno.remove(`${podPaths(root).dir}/${id}`, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
