/**
 * Test images: OCI (and Docker schema2) images built from the host's static busybox and pushed to a test registry
 * with the Distribution HTTP API (blob upload POST + PUT `?digest=`, manifest PUT), handling Basic and Bearer auth
 * the way a client does.
 *
 * Layers are staged in a temp dir and archived with GNU tar (`--numeric-owner`, owner 0:0 except for listed paths,
 * fixed mtime, sorted names: builds are reproducible, so digests are stable within a host), then compressed with
 * `gzip -n`, the `zstd` CLI, or left uncompressed. Raw tar bytes (e.g. from `tarwriter.ts` `buildTar()`) are accepted
 * by {@linkcode customImage}.
 *
 * ```ts
 * const reg = await startRegistry();
 * const img = await busybox(reg); // img.ref = "127.0.0.1:PORT/test/busybox:latest"
 * ```
 * @module
 */

import { buildTar, type TarEntryInput } from "./tarwriter.ts";

/** Where to push: a {@linkcode Registry} from `registry.ts` fits. */
export interface PushTarget {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** User for Basic / token auth. */
  user?: string;
  /** Password for Basic / token auth. */
  password?: string;
}

/** Layer compression. */
export type Compression = "gzip" | "zstd" | "none";

/** Manifest flavour. */
export type ManifestFormat = "oci" | "docker";

/** A layer blob, ready to push. */
export interface BuiltLayer {
  /** Media type of the layer descriptor. */
  mediaType: string;
  /** `sha256:…` of the (compressed) blob. */
  digest: string;
  /** Size of the blob in bytes. */
  size: number;
  /** `sha256:…` of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
  diffId: string;
  /** The blob bytes. */
  blob: Uint8Array;
}

/** A pushed image (or index). */
export interface PushedImage {
  /** `127.0.0.1:PORT/repo:tag`. */
  ref: string;
  /** `127.0.0.1:PORT/repo@sha256:…` (the manifest or index digest). */
  digestRef: string;
  /** Repository name, e.g. `test/busybox`. */
  repo: string;
  /** Tag. */
  tag: string;
  /** Digest of the pushed top-level manifest (the index for multi-platform images). */
  manifestDigest: string;
  /** Media type of the top-level manifest. */
  manifestMediaType: string;
  /** Raw bytes of the top-level manifest. */
  manifest: Uint8Array;
  /** Config digest (for an index: the linux/amd64 image's). */
  configDigest: string;
  /** Raw config bytes (for an index: the linux/amd64 image's). */
  config: Uint8Array;
  /** Layer descriptors with blobs (for an index: the linux/amd64 image's). */
  layers: BuiltLayer[];
  /** For an index: each platform's image, keyed `os/arch` (e.g. `linux/arm64`). */
  platforms?: Record<string, PushedImage>;
  /** Free-form facts the fixture guarantees, for assertions (e.g. expected paths after unpacking). */
  expect?: Record<string, unknown>;
}

/** The runtime part of an image config (`config` in the OCI image config). */
export interface ContainerConfig {
  /** `User`. */
  User?: string;
  /** `Env`. */
  Env?: string[];
  /** `Entrypoint`. */
  Entrypoint?: string[];
  /** `Cmd`. */
  Cmd?: string[];
  /** `WorkingDir`. */
  WorkingDir?: string;
  /** `Labels`. */
  Labels?: Record<string, string>;
  /** `StopSignal`. */
  StopSignal?: string;
  /** `ExposedPorts`. */
  ExposedPorts?: Record<string, Record<string, never>>;
  /** `Volumes`. */
  Volumes?: Record<string, Record<string, never>>;
}

/** A layer given to {@linkcode customImage}. */
export type LayerInput =
  /** Raw uncompressed tar bytes, compressed with the image's default compression. */
  | Uint8Array
  /** Raw tar with its own compression / media type; `diffId` overrides the computed one (hostile tests). */
  | { tar: Uint8Array; compression?: Compression; mediaType?: string; diffId?: string }
  /** Hand-made entries, archived with `tarwriter.ts` `buildTar()` (hostile names, odd types, …). */
  | { entries: TarEntryInput[]; compression?: Compression; mediaType?: string; diffId?: string }
  /** A staged directory (archived with GNU tar); `owners` maps relative paths (`home/u1000`) to `[uid, gid]`. */
  | { dir: string; owners?: Record<string, [number, number]>; compression?: Compression }
  /** An already built layer (pushed as is). */
  | BuiltLayer;

/** Options of {@linkcode customImage}. */
export interface CustomImageOptions {
  /** Repository. Default `test/custom`. */
  repo?: string;
  /** Tag. Default `latest`. */
  tag?: string;
  /** Layers, bottom first. */
  layers: LayerInput[];
  /** Default compression for raw tar layers. Default gzip. */
  compression?: Compression;
  /** Manifest format. Default `oci`. */
  format?: ManifestFormat;
  /** Runtime config. Default `{Env: [PATH], Cmd: ["sh"]}`. */
  config?: ContainerConfig;
  /** `architecture`. Default `amd64`. */
  architecture?: string;
  /** `os`. Default `linux`. */
  os?: string;
  /** `variant`, if any. */
  variant?: string;
  /** Manifest annotations (OCI only). */
  annotations?: Record<string, string>;
}

/** Default PATH of test images. */
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Fixed mtime and `created` of fixture content (reproducible builds). */
export const FIXTURE_EPOCH = 1704067200; // 2024-01-01T00:00:00Z

/** Media types. */
export const MT = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerTar: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

const te = new TextEncoder();
const td = new TextDecoder();

// ---------------------------------------------------------------------------------------------------------------
// bytes helpers

/** `sha256:<hex>` of bytes. */
export async function sha256(data: Uint8Array): Promise<string> {
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return "sha256:" + Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function pipeThrough(cmd: string, args: string[], input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const writing = (async () => {
    const w = child.stdin.getWriter();
    await w.write(input);
    await w.close();
  })();
  const [out] = await Promise.all([child.output(), writing]);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${td.decode(out.stderr)}`);
  return out.stdout;
}

/** Compress bytes with the `gzip -n` / `zstd` CLI (identity for `none`). */
export function compress(data: Uint8Array, c: Compression): Promise<Uint8Array> {
  if (c === "gzip") return pipeThrough("gzip", ["-n", "-c"], data);
  if (c === "zstd") return pipeThrough("zstd", ["-q", "-c", "-3"], data);
  return Promise.resolve(data);
}

/** Make a layer from uncompressed tar bytes. */
export async function makeLayer(
  tar: Uint8Array,
  compression: Compression = "gzip",
  opts: { format?: ManifestFormat; mediaType?: string; diffId?: string } = {},
): Promise<BuiltLayer> {
  if (opts.format === "docker" && compression !== "gzip") {
    throw new Error("docker schema2 layers must be gzip");
  }
  const blob = await compress(tar, compression);
  const mediaType = opts.mediaType ??
    (opts.format === "docker"
      ? MT.dockerLayerGzip
      : compression === "gzip"
      ? MT.ociLayerGzip
      : compression === "zstd"
      ? MT.ociLayerZstd
      : MT.ociLayerTar);
  return {
    mediaType,
    digest: await sha256(blob),
    size: blob.length,
    diffId: opts.diffId ?? await sha256(tar),
    blob,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// tar with GNU tar

async function walk(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  const names: string[] = [];
  for await (const e of Deno.readDir(rel ? `${root}/${rel}` : root)) names.push(e.name);
  names.sort();
  for (const n of names) {
    const r = rel ? `${rel}/${n}` : n;
    out.push(r);
    const st = await Deno.lstat(`${root}/${r}`);
    if (st.isDirectory) out.push(...await walk(root, r));
  }
  return out;
}

/**
 * Archive a staged directory with GNU tar: entries `./…`, sorted, numeric owner 0:0 except the paths in `owners`
 * (relative, no leading `./`), mtime {@linkcode FIXTURE_EPOCH}, gnu format. Returns the uncompressed tar.
 */
export async function tarDir(
  dir: string,
  owners: Record<string, [number, number]> = {},
): Promise<Uint8Array> {
  const paths = [".", ...await walk(dir)];
  // Runs of consecutive paths with the same owner → one `tar -c` then `tar -r` appends (keeps the order).
  const runs: { owner: [number, number]; paths: string[] }[] = [];
  for (const p of paths) {
    const owner = owners[p] ?? [0, 0];
    const last = runs[runs.length - 1];
    if (last && last.owner[0] === owner[0] && last.owner[1] === owner[1]) last.paths.push(p);
    else runs.push({ owner, paths: [p] });
  }
  const work = await Deno.makeTempDir({ prefix: "pod-tar-" });
  try {
    const out = `${work}/layer.tar`;
    for (let i = 0; i < runs.length; i++) {
      const list = `${work}/list`;
      await Deno.writeTextFile(list, runs[i].paths.map((p) => (p === "." ? "." : `./${p}`) + "\0").join(""));
      const args = [
        i === 0 ? "-cf" : "-rf",
        out,
        "--format=gnu",
        "--numeric-owner",
        `--owner=${runs[i].owner[0]}`,
        `--group=${runs[i].owner[1]}`,
        `--mtime=@${FIXTURE_EPOCH}`,
        "--no-recursion",
        "-C",
        dir,
        "--null",
        "-T",
        list,
      ];
      const res = await new Deno.Command("tar", { args, stdout: "piped", stderr: "piped" }).output();
      if (!res.success) throw new Error(`tar ${args.join(" ")} failed: ${td.decode(res.stderr)}`);
    }
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/** A staged file tree: path → content (string/bytes = file, `{dir}`, `{symlink}`, `{hardlink}`), with modes. */
export type TreeEntry =
  | string
  | Uint8Array
  | { file: string | Uint8Array; mode?: number }
  | { dir: true; mode?: number }
  | { symlink: string }
  | { hardlink: string };

/** Write a tree into `dir` (parents created 0755; modes applied with chmod, so umask does not matter). */
export async function stageTree(dir: string, tree: Record<string, TreeEntry>): Promise<void> {
  const modes: [string, number][] = [];
  for (const [rel, e] of Object.entries(tree)) {
    const p = `${dir}/${rel.replace(/^\/+/, "")}`;
    const parent = p.slice(0, p.lastIndexOf("/"));
    await Deno.mkdir(parent, { recursive: true });
    if (typeof e === "string" || e instanceof Uint8Array) {
      await Deno.writeFile(p, typeof e === "string" ? te.encode(e) : e);
      modes.push([p, 0o644]);
    } else if ("file" in e) {
      await Deno.writeFile(p, typeof e.file === "string" ? te.encode(e.file) : e.file);
      modes.push([p, e.mode ?? 0o644]);
    } else if ("dir" in e) {
      await Deno.mkdir(p, { recursive: true });
      modes.push([p, e.mode ?? 0o755]);
    } else if ("symlink" in e) {
      await Deno.symlink(e.symlink, p);
    } else {
      await Deno.link(`${dir}/${e.hardlink.replace(/^\/+/, "")}`, p);
    }
  }
  for (const [p, m] of modes) await Deno.chmod(p, m);
}

/** Stage a tree in a temp dir and return its tar (see {@linkcode tarDir}). */
export async function tarTree(
  tree: Record<string, TreeEntry>,
  owners: Record<string, [number, number]> = {},
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "pod-stage-" });
  try {
    await Deno.chmod(dir, 0o755);
    await stageTree(dir, tree);
    return await tarDir(dir, owners);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// busybox rootfs

/** Path of the static busybox used for images. */
export const BUSYBOX = "/bin/busybox";

let appletsCache: Promise<string[]> | undefined;

/** `busybox --list-full` (paths like `usr/bin/env`), without `bin/busybox`. */
export function busyboxApplets(): Promise<string[]> {
  appletsCache ??= (async () => {
    const out = await new Deno.Command(BUSYBOX, { args: ["--list-full"], stdout: "piped" }).output();
    return td.decode(out.stdout).split("\n").map((s) => s.trim()).filter((s) => s && s !== "bin/busybox");
  })();
  return appletsCache;
}

/** Options of the busybox root filesystem. */
export interface BusyboxTreeOptions {
  /** Omit `/run` and `/dev`. */
  noRunNoDev?: boolean;
  /** Extra entries. */
  extra?: Record<string, TreeEntry>;
}

/**
 * The busybox root filesystem: `/bin/busybox` + a symlink per applet (`/bin/sh` → `/bin/busybox`, …),
 * `/etc/passwd` (root, u1000:1000, nobody), `/etc/group`, `/tmp` 1777, `/root` 0700, `/home/u1000/own` (1000:1000),
 * `/dev`, `/proc`, `/sys`, `/run`, `/var`. Returns the tree and the owners map.
 */
export async function busyboxTree(opts: BusyboxTreeOptions = {}): Promise<{
  tree: Record<string, TreeEntry>;
  owners: Record<string, [number, number]>;
}> {
  const tree: Record<string, TreeEntry> = {
    "bin/busybox": { file: await Deno.readFile(BUSYBOX), mode: 0o755 },
  };
  for (const a of await busyboxApplets()) tree[a] = { symlink: "/bin/busybox" };
  Object.assign(
    tree,
    {
      "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n" +
        "u1000:x:1000:1000:u1000:/home/u1000:/bin/sh\n" +
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
      "etc/group": "root:x:0:\nu1000:x:1000:\nnogroup:x:65534:\n",
      "etc/hostname": "busybox\n",
      "tmp": { dir: true, mode: 0o1777 },
      "root": { dir: true, mode: 0o700 },
      "home/u1000": { dir: true, mode: 0o755 },
      "home/u1000/own": { file: "owned by 1000\n", mode: 0o644 },
      "proc": { dir: true },
      "sys": { dir: true },
      "var/tmp": { dir: true, mode: 0o1777 },
      "usr/local/bin": { dir: true },
    } satisfies Record<string, TreeEntry>,
  );
  if (!opts.noRunNoDev) {
    tree["dev"] = { dir: true };
    tree["run"] = { dir: true };
  }
  Object.assign(tree, opts.extra ?? {});
  return { tree, owners: { "home/u1000": [1000, 1000], "home/u1000/own": [1000, 1000] } };
}

const busyboxTarCache = new Map<string, Promise<Uint8Array>>();

/** The busybox rootfs as an uncompressed tar (cached per process). */
export function busyboxTar(opts: { noRunNoDev?: boolean } = {}): Promise<Uint8Array> {
  const key = opts.noRunNoDev ? "norundev" : "default";
  let p = busyboxTarCache.get(key);
  if (!p) {
    p = busyboxTree(opts).then(({ tree, owners }) => tarTree(tree, owners));
    busyboxTarCache.set(key, p);
    p.catch(() => busyboxTarCache.delete(key));
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// registry client

function parseChallenge(h: string): { scheme: string; params: Record<string, string> } {
  const sp = h.indexOf(" ");
  const scheme = (sp < 0 ? h : h.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)="([^"]*)"/g;
  let m;
  while ((m = re.exec(h.slice(sp + 1))) !== null) params[m[1].toLowerCase()] = m[2];
  return { scheme, params };
}

/** A minimal Distribution API client for fixtures and harness tests (Basic and Bearer auth). */
export class RegistryClient {
  #target: PushTarget;
  #auth = new Map<string, string>(); // repo → Authorization header value
  /** `http://host`. */
  readonly base: string;

  /** Make a client for a registry. */
  constructor(target: PushTarget) {
    this.#target = target;
    this.base = `http://${target.host}`;
  }

  /** Request `path` (or absolute URL) for `repo`, answering one 401 challenge like a client. */
  async request(repo: string, pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const send = () => {
      const headers = new Headers(init.headers);
      const a = this.#auth.get(repo);
      if (a) headers.set("authorization", a);
      return fetch(url, { ...init, headers });
    };
    let res = await send();
    if (res.status !== 401) return res;
    const challenge = res.headers.get("www-authenticate") ?? "";
    await res.body?.cancel();
    await this.#authenticate(repo, challenge);
    res = await send();
    return res;
  }

  async #authenticate(repo: string, challenge: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    const { user, password } = this.#target;
    const basic = user !== undefined ? "Basic " + btoa(`${user}:${password ?? ""}`) : undefined;
    if (scheme === "basic") {
      if (!basic) throw new Error(`registry wants Basic auth, no credentials given`);
      this.#auth.set(repo, basic);
      return;
    }
    if (scheme !== "bearer" || !params.realm) throw new Error(`unsupported challenge: ${challenge}`);
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set("service", params.service);
    if (repo) u.searchParams.set("scope", `repository:${repo}:pull,push`);
    const res = await fetch(u, { headers: basic ? { authorization: basic } : {} });
    if (!res.ok) throw new Error(`token server: ${res.status} ${await res.text()}`);
    const j = await res.json();
    const token = j.token ?? j.access_token;
    if (!token) throw new Error("token server returned no token");
    this.#auth.set(repo, `Bearer ${token}`);
  }

  /** Upload a blob (skipped when HEAD says it exists). Returns its digest. */
  async pushBlob(repo: string, blob: Uint8Array, digest?: string): Promise<string> {
    digest ??= await sha256(blob);
    const head = await this.request(repo, `/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
    await head.body?.cancel();
    if (head.status === 200) return digest;
    const post = await this.request(repo, `/v2/${repo}/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    if (post.status !== 202) throw new Error(`blob upload POST: ${post.status}`);
    const loc = new URL(post.headers.get("location") ?? "", this.base);
    loc.searchParams.set("digest", digest);
    const put = await this.request(repo, loc.href, {
      method: "PUT",
      body: blob as BodyInit,
      headers: { "content-type": "application/octet-stream", "content-length": String(blob.length) },
    });
    const text = await put.text();
    if (put.status !== 201) throw new Error(`blob upload PUT ${digest}: ${put.status} ${text}`);
    return digest;
  }

  /** PUT a manifest under `reference` (tag or digest); returns the digest the registry reports. */
  async pushManifest(repo: string, reference: string, body: Uint8Array, mediaType: string): Promise<string> {
    const res = await this.request(repo, `/v2/${repo}/manifests/${reference}`, {
      method: "PUT",
      body: body as BodyInit,
      headers: { "content-type": mediaType },
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`manifest PUT ${repo}:${reference}: ${res.status} ${text}`);
    const digest = res.headers.get("docker-content-digest") ?? await sha256(body);
    return digest;
  }

  /** GET a manifest; returns bytes, content type and the `Docker-Content-Digest` header. */
  async getManifest(
    repo: string,
    reference: string,
    accept: string[] = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest],
  ): Promise<{ status: number; body: Uint8Array; mediaType: string | null; digest: string | null }> {
    const res = await this.request(repo, `/v2/${repo}/manifests/${reference}`, {
      headers: { accept: accept.join(", ") },
    });
    const body = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      body,
      mediaType: res.headers.get("content-type"),
      digest: res.headers.get("docker-content-digest"),
    };
  }

  /** GET a blob's bytes. */
  async getBlob(repo: string, digest: string): Promise<{ status: number; body: Uint8Array }> {
    const res = await this.request(repo, `/v2/${repo}/blobs/${digest}`);
    return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// building and pushing images

async function toLayer(l: LayerInput, compression: Compression, format: ManifestFormat): Promise<BuiltLayer> {
  if (l instanceof Uint8Array) return makeLayer(l, compression, { format });
  if ("blob" in l) return l;
  if ("entries" in l) {
    return makeLayer(buildTar(l.entries), l.compression ?? compression, {
      format,
      mediaType: l.mediaType,
      diffId: l.diffId,
    });
  }
  if ("tar" in l) {
    return makeLayer(l.tar, l.compression ?? compression, {
      format,
      mediaType: l.mediaType,
      diffId: l.diffId,
    });
  }
  return makeLayer(await tarDir(l.dir, l.owners ?? {}), l.compression ?? compression, { format });
}

interface BuiltImage {
  manifest: Uint8Array;
  manifestDigest: string;
  mediaType: string;
  config: Uint8Array;
  configDigest: string;
  configMediaType: string;
  layers: BuiltLayer[];
}

async function buildImage(opts: CustomImageOptions): Promise<BuiltImage> {
  const format = opts.format ?? "oci";
  const compression = opts.compression ?? "gzip";
  const layers = await Promise.all(opts.layers.map((l) => toLayer(l, compression, format)));
  const created = new Date(FIXTURE_EPOCH * 1000).toISOString();
  const cfg = opts.config ?? { Env: [DEFAULT_PATH], Cmd: ["sh"] };
  const history: Record<string, unknown>[] = layers.map((l, i) => ({
    created,
    created_by: `pod-test fixture layer ${i} (${l.mediaType})`,
  }));
  history.push({
    created,
    created_by: `/bin/sh -c #(nop) CMD ${JSON.stringify(cfg.Cmd ?? [])}`,
    empty_layer: true,
  });
  const configObj: Record<string, unknown> = {
    created,
    author: "pod tests",
    architecture: opts.architecture ?? "amd64",
    os: opts.os ?? "linux",
    ...(opts.variant ? { variant: opts.variant } : {}),
    config: cfg,
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  const config = te.encode(JSON.stringify(configObj));
  const configDigest = await sha256(config);
  const configMediaType = format === "docker" ? MT.dockerConfig : MT.ociConfig;
  const mediaType = format === "docker" ? MT.dockerManifest : MT.ociManifest;
  const manifestObj: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: configMediaType, digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  if (opts.annotations && format === "oci") manifestObj.annotations = opts.annotations;
  const manifest = te.encode(JSON.stringify(manifestObj, null, 2));
  return {
    manifest,
    manifestDigest: await sha256(manifest),
    mediaType,
    config,
    configDigest,
    configMediaType,
    layers,
  };
}

async function pushBuilt(
  target: PushTarget,
  repo: string,
  reference: string,
  img: BuiltImage,
): Promise<string> {
  const c = new RegistryClient(target);
  for (const l of img.layers) await c.pushBlob(repo, l.blob, l.digest);
  await c.pushBlob(repo, img.config, img.configDigest);
  const got = await c.pushManifest(repo, reference, img.manifest, img.mediaType);
  if (got !== img.manifestDigest) throw new Error(`registry digest ${got} != computed ${img.manifestDigest}`);
  return got;
}

function pushed(target: PushTarget, repo: string, tag: string, img: BuiltImage): PushedImage {
  return {
    ref: tag.startsWith("sha256:") ? `${target.host}/${repo}@${tag}` : `${target.host}/${repo}:${tag}`,
    digestRef: `${target.host}/${repo}@${img.manifestDigest}`,
    repo,
    tag,
    manifestDigest: img.manifestDigest,
    manifestMediaType: img.mediaType,
    manifest: img.manifest,
    configDigest: img.configDigest,
    config: img.config,
    layers: img.layers,
  };
}

/**
 * Build an image from arbitrary layers (raw tar bytes, staged dirs, prepared blobs) and push it under
 * `repo:tag`. The generic entry point for hostile/odd images.
 */
export async function customImage(target: PushTarget, opts: CustomImageOptions): Promise<PushedImage> {
  const repo = opts.repo ?? "test/custom";
  const tag = opts.tag ?? "latest";
  const img = await buildImage(opts);
  await pushBuilt(target, repo, tag, img);
  return pushed(target, repo, tag, img);
}

// ---------------------------------------------------------------------------------------------------------------
// the catalogue

/** Common options of the catalogue fixtures. */
export interface FixtureOptions {
  /** Repository (defaults differ per fixture, e.g. `test/busybox`). */
  repo?: string;
  /** Tag. Default `latest`. */
  tag?: string;
}

/** The busybox runtime config. */
export const BUSYBOX_CONFIG: ContainerConfig = { Env: [DEFAULT_PATH], Cmd: ["sh"] };

/**
 * busybox: one layer, `Cmd ["sh"]`, `Env [PATH]`; see {@linkcode busyboxTree} for the content. Default repo
 * `test/busybox`, compression gzip.
 */
export async function busybox(
  target: PushTarget,
  opts: FixtureOptions & { compression?: Compression } = {},
): Promise<PushedImage> {
  const compression = opts.compression ?? "gzip";
  const r = await customImage(target, {
    repo: opts.repo ?? "test/busybox",
    tag: opts.tag ?? "latest",
    layers: [{ tar: await busyboxTar(), compression }],
    config: BUSYBOX_CONFIG,
  });
  r.expect = {
    files: ["bin/busybox", "bin/sh", "etc/passwd", "home/u1000/own"],
    ownedBy1000: "home/u1000/own",
  };
  return r;
}

/** busybox with a gzip layer (default repo `test/busybox-gzip`). */
export function busyboxGzip(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  return busybox(target, { repo: "test/busybox-gzip", ...opts, compression: "gzip" });
}

/** busybox with a zstd layer (default repo `test/busybox-zstd`). */
export function busyboxZstd(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  return busybox(target, { repo: "test/busybox-zstd", ...opts, compression: "zstd" });
}

/** busybox with an uncompressed layer (default repo `test/busybox-plain`). */
export function busyboxUncompressed(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  return busybox(target, { repo: "test/busybox-plain", ...opts, compression: "none" });
}

/**
 * Three layers with whiteouts (default repo `test/layered`):
 * 1. busybox + `/x`, `/d/a`, `/d/b`, `/keep`, `/e/f`;
 * 2. `/.wh.x` (deletes `/x`), `/d/.wh..wh..opq` (opaque: hides `/d/a`, `/d/b`) + `/d/c`, `/e/.wh.f`;
 * 3. `/l3`, `/d/sub/g`, `/x2`.
 *
 * After unpacking: `expect.present` exist, `expect.absent` do not (and no `.wh.*` file exists anywhere).
 */
export async function layeredWhiteouts(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  const { tree, owners } = await busyboxTree({
    extra: { "x": "x\n", "d/a": "a\n", "d/b": "b\n", "keep": "keep\n", "e/f": "f\n" },
  });
  const l1 = await tarTree(tree, owners);
  const l2 = await tarTree({ ".wh.x": "", "d/.wh..wh..opq": "", "d/c": "c\n", "e/.wh.f": "" });
  const l3 = await tarTree({ "l3": "layer 3\n", "d/sub/g": "g\n", "x2": "x2\n" });
  const r = await customImage(target, {
    repo: opts.repo ?? "test/layered",
    tag: opts.tag ?? "latest",
    layers: [l1, l2, l3],
    config: BUSYBOX_CONFIG,
  });
  r.expect = {
    present: ["keep", "d/c", "d/sub/g", "l3", "x2", "e", "bin/sh"],
    absent: ["x", "d/a", "d/b", "e/f", ".wh.x", "d/.wh..wh..opq", "e/.wh.f"],
  };
  return r;
}

/**
 * A multi-platform OCI index (default repo `test/multi`): `linux/amd64` = busybox, `linux/arm64` (variant v8) = a
 * fake image with one layer holding `/arch` = `arm64`. `manifestDigest` is the index digest; `configDigest` and
 * `layers` are the amd64 image's; `platforms["linux/amd64"|"linux/arm64"]` has each.
 */
export async function multiPlatform(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  const repo = opts.repo ?? "test/multi";
  const tag = opts.tag ?? "latest";
  const amd = await buildImage({ layers: [await busyboxTar()], config: BUSYBOX_CONFIG });
  const arm = await buildImage({
    layers: [
      await tarTree({ "arch": "arm64\n", "bin/sh": { file: "not a real arm64 shell\n", mode: 0o755 } }),
    ],
    config: BUSYBOX_CONFIG,
    architecture: "arm64",
    variant: "v8",
  });
  await pushBuilt(target, repo, amd.manifestDigest, amd);
  await pushBuilt(target, repo, arm.manifestDigest, arm);
  const index = te.encode(JSON.stringify(
    {
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: [
        {
          mediaType: MT.ociManifest,
          digest: amd.manifestDigest,
          size: amd.manifest.length,
          platform: { architecture: "amd64", os: "linux" },
        },
        {
          mediaType: MT.ociManifest,
          digest: arm.manifestDigest,
          size: arm.manifest.length,
          platform: { architecture: "arm64", os: "linux", variant: "v8" },
        },
      ],
    },
    null,
    2,
  ));
  const indexDigest = await sha256(index);
  const got = await new RegistryClient(target).pushManifest(repo, tag, index, MT.ociIndex);
  if (got !== indexDigest) throw new Error(`index digest ${got} != ${indexDigest}`);
  return {
    ref: `${target.host}/${repo}:${tag}`,
    digestRef: `${target.host}/${repo}@${indexDigest}`,
    repo,
    tag,
    manifestDigest: indexDigest,
    manifestMediaType: MT.ociIndex,
    manifest: index,
    configDigest: amd.configDigest,
    config: amd.config,
    layers: amd.layers,
    platforms: {
      "linux/amd64": pushed(target, repo, amd.manifestDigest, amd),
      "linux/arm64": pushed(target, repo, arm.manifestDigest, arm),
    },
  };
}

/** busybox without `/run` and `/dev` (default repo `test/norundev`). */
export async function noRunNoDev(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  const r = await customImage(target, {
    repo: opts.repo ?? "test/norundev",
    tag: opts.tag ?? "latest",
    layers: [await busyboxTar({ noRunNoDev: true })],
    config: BUSYBOX_CONFIG,
  });
  r.expect = { absent: ["run", "dev"] };
  return r;
}

/** The config of {@linkcode customConfig}. */
export const CUSTOM_CONFIG: ContainerConfig = {
  Entrypoint: ["/bin/echo", "entry"],
  Cmd: ["from-cmd"],
  WorkingDir: "/srv/app",
  User: "1000:1000",
  Env: [DEFAULT_PATH, "FOO=bar", "SPACED=a b  c", "EMPTY="],
  Labels: { "org.example.name": "custom", "maintainer": "pod tests" },
  StopSignal: "SIGUSR1",
  ExposedPorts: { "8080/tcp": {} },
  Volumes: { "/data": {} },
};

/**
 * busybox with a custom config (default repo `test/custom-config`): see {@linkcode CUSTOM_CONFIG} (Entrypoint
 * `/bin/echo entry`, Cmd `from-cmd`, WorkingDir `/srv/app` (exists, owned 1000:1000), User `1000:1000`, Env,
 * Labels, StopSignal `SIGUSR1`).
 */
export async function customConfig(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  const { tree, owners } = await busyboxTree({
    extra: { "srv/app": { dir: true }, "srv/app/hello": "hello\n" },
  });
  const r = await customImage(target, {
    repo: opts.repo ?? "test/custom-config",
    tag: opts.tag ?? "latest",
    layers: [await tarTree(tree, { ...owners, "srv/app": [1000, 1000], "srv/app/hello": [1000, 1000] })],
    config: CUSTOM_CONFIG,
  });
  r.expect = { config: CUSTOM_CONFIG };
  return r;
}

/** busybox as a Docker v2 schema2 manifest with a Docker config and a gzip layer (default repo `test/docker`). */
export function dockerSchema2(target: PushTarget, opts: FixtureOptions = {}): Promise<PushedImage> {
  return busyboxTar().then((tar) =>
    customImage(target, {
      repo: opts.repo ?? "test/docker",
      tag: opts.tag ?? "latest",
      layers: [tar],
      format: "docker",
      config: BUSYBOX_CONFIG,
    })
  );
}

/** A seeded xorshift32 generator of numbers in [0, 1): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** `n` deterministic incompressible bytes (xorshift from `seed`), so a layer is big on the wire. */
export function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Fill `buf` with random-ish, compressible text (16 distinct letters, newlines): gzip gets ~2x. */
function fillCompressible(buf: Uint8Array): void {
  for (let off = 0; off < buf.length; off += 65536) {
    const chunk = buf.subarray(off, Math.min(off + 65536, buf.length));
    crypto.getRandomValues(chunk);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (chunk[i] & 15) + 97;
    for (let i = 79; i < chunk.length; i += 80) chunk[i] = 10;
  }
}

/**
 * A large image for benchmarks (default repo `test/big`): busybox plus 4 layers of 1 MiB compressible files,
 * `mb` MiB of file data in total (default 64, at least 50 is what benchmarks want). Content is random each call.
 */
export async function bigImage(
  target: PushTarget,
  mb = 64,
  opts: FixtureOptions & { layers?: number; compression?: Compression } = {},
): Promise<PushedImage> {
  const nLayers = opts.layers ?? 4;
  const perLayer = Math.max(1, Math.ceil(mb / nLayers));
  const tars: Uint8Array[] = [await busyboxTar()];
  for (let l = 0; l < nLayers; l++) {
    const tree: Record<string, TreeEntry> = {};
    for (let f = 0; f < perLayer; f++) {
      const b = new Uint8Array(1 << 20);
      fillCompressible(b);
      tree[`data/layer${l}/dir${f % 8}/file${f}.txt`] = b;
    }
    tars.push(await tarTree(tree));
  }
  const r = await customImage(target, {
    repo: opts.repo ?? "test/big",
    tag: opts.tag ?? "latest",
    layers: tars,
    compression: opts.compression ?? "gzip",
    config: BUSYBOX_CONFIG,
  });
  r.expect = { dataBytes: nLayers * perLayer * (1 << 20) };
  return r;
}
