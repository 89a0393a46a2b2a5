/**
 * Image manifest, index and config types with validating parsers (OCI image spec and Docker schema 2).
 * Parsers take untrusted registry bytes and either return a well-typed value or throw an `Error` with a
 * one-line reason.
 * @module
 */

import { validateDigest } from "./digest.ts";
import {
  CONFIG_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MediaType,
} from "./media_types.ts";

/** A platform as in an index entry or image config. */
export interface Platform {
  /** CPU architecture, Go style (`amd64`, `arm64`, `arm`…). */
  architecture: string;
  /** Operating system (`linux`). */
  os: string;
  /** CPU variant (`v7`, `v8`), optional. */
  variant?: string;
  /** OS version (Windows), optional. */
  "os.version"?: string;
  /** OS features, optional. */
  "os.features"?: string[];
}

/** A content descriptor. */
export interface Descriptor {
  /** Media type of the referenced content. */
  mediaType: string;
  /** sha256 digest of the content. */
  digest: string;
  /** Size in bytes. */
  size: number;
  /** Platform, for index entries. */
  platform?: Platform;
  /** Free-form annotations. */
  annotations?: Record<string, string>;
  /** Alternate download URLs (foreign layers). */
  urls?: string[];
}

/** An image index / Docker manifest list. */
export interface ImageIndex {
  /** Always 2. */
  schemaVersion: 2;
  /** Index media type (from the body or the Content-Type). */
  mediaType: string;
  /** The per-platform manifests. */
  manifests: Descriptor[];
  /** Annotations. */
  annotations?: Record<string, string>;
}

/** A single-platform image manifest. */
export interface ImageManifest {
  /** Always 2. */
  schemaVersion: 2;
  /** Manifest media type (from the body or the Content-Type). */
  mediaType: string;
  /** The image config blob. */
  config: Descriptor;
  /** Layer blobs, base first. */
  layers: Descriptor[];
  /** Annotations. */
  annotations?: Record<string, string>;
}

/** The parts of an image config pod uses (the rest is kept as-is in the blob). */
export interface ImageConfig {
  /** Architecture the image was built for. */
  architecture: string;
  /** OS the image was built for. */
  os: string;
  /** CPU variant. */
  variant?: string;
  /** Creation time (RFC 3339). */
  created?: string;
  /** Author. */
  author?: string;
  /** Runtime defaults. */
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Volumes?: Record<string, unknown> | null;
    StopSignal?: string;
    [k: string]: unknown;
  };
  /** Layer diff ids. */
  rootfs: { type: string; diff_ids: string[] };
  /** Build history. */
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

/** Either kind of manifest document. */
export type ParsedManifest =
  | { kind: "index"; index: ImageIndex }
  | { kind: "manifest"; manifest: ImageManifest };

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseJson(bytes: Uint8Array | string, what: string): Json {
  const text = typeof bytes === "string" ? bytes : new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const head = text.trimStart().slice(0, 20).toLowerCase();
  if (head.startsWith("<!doctype") || head.startsWith("<html")) {
    throw new Error(`${what} is an HTML page, not JSON`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObj(v)) throw new Error(`${what} is not a JSON object`);
  return v;
}

function parseAnnotations(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new Error(`${what}: annotations must be an object`);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string") throw new Error(`${what}: annotation "${k}" must be a string`);
  }
  return v as Record<string, string>;
}

function parsePlatformObj(v: unknown, what: string): Platform | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new Error(`${what}: platform must be an object`);
  if (typeof v.architecture !== "string" || typeof v.os !== "string") {
    throw new Error(`${what}: platform needs string "os" and "architecture"`);
  }
  const p: Platform = { architecture: v.architecture, os: v.os };
  if (typeof v.variant === "string" && v.variant !== "") p.variant = v.variant;
  if (typeof v["os.version"] === "string") p["os.version"] = v["os.version"];
  if (Array.isArray(v["os.features"])) {
    p["os.features"] = v["os.features"].filter((x) => typeof x === "string");
  }
  return p;
}

/** Validates one descriptor object. */
export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isObj(v)) throw new Error(`${what} is not an object`);
  if (typeof v.mediaType !== "string" || v.mediaType === "") throw new Error(`${what} has no mediaType`);
  if (typeof v.digest !== "string") throw new Error(`${what} has no digest`);
  let digest: string;
  try {
    digest = validateDigest(v.digest);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw new Error(`${what} has an invalid size`);
  }
  const d: Descriptor = { mediaType: v.mediaType, digest, size: v.size };
  const platform = parsePlatformObj(v.platform, what);
  if (platform) d.platform = platform;
  const ann = parseAnnotations(v.annotations, what);
  if (ann) d.annotations = ann;
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u) => typeof u === "string");
  return d;
}

/**
 * Parses a manifest document of either kind. `contentType` is the registry's `Content-Type`, used when the
 * body has no `mediaType`. Docker schema 1 is refused with a clear message.
 */
export function parseManifestDocument(bytes: Uint8Array | string, contentType?: string): ParsedManifest {
  const v = parseJson(bytes, "manifest");
  const ct = (contentType ?? "").split(";")[0].trim().toLowerCase();
  const bodyType = typeof v.mediaType === "string" ? v.mediaType : undefined;
  if (
    v.schemaVersion === 1 || ct === MediaType.DockerSchema1 || ct === MediaType.DockerSchema1Signed ||
    bodyType === MediaType.DockerSchema1 || bodyType === MediaType.DockerSchema1Signed
  ) {
    throw new Error(
      "Docker schema 1 manifests are not supported (deprecated format): rebuild or re-push the image",
    );
  }
  if (v.schemaVersion !== 2) {
    throw new Error(`unsupported manifest schemaVersion ${JSON.stringify(v.schemaVersion)}`);
  }
  let mt = bodyType;
  if (mt === undefined) {
    if (INDEX_MEDIA_TYPES.includes(ct) || MANIFEST_MEDIA_TYPES.includes(ct)) mt = ct;
    else if (Array.isArray(v.manifests)) mt = MediaType.OciIndex;
    else if (v.config !== undefined) mt = MediaType.OciManifest;
  }
  if (mt !== undefined && INDEX_MEDIA_TYPES.includes(mt)) {
    return { kind: "index", index: parseIndexObj(v, mt) };
  }
  if (mt !== undefined && MANIFEST_MEDIA_TYPES.includes(mt)) {
    return { kind: "manifest", manifest: parseManifestObj(v, mt) };
  }
  throw new Error(`unsupported manifest media type "${mt ?? ct ?? "(none)"}"`);
}

function parseIndexObj(v: Json, mediaType: string): ImageIndex {
  if (!Array.isArray(v.manifests)) throw new Error("image index has no manifests array");
  const manifests = v.manifests.map((m, i) => parseDescriptor(m, `index entry ${i}`));
  const idx: ImageIndex = { schemaVersion: 2, mediaType, manifests };
  const ann = parseAnnotations(v.annotations, "image index");
  if (ann) idx.annotations = ann;
  return idx;
}

function parseManifestObj(v: Json, mediaType: string): ImageManifest {
  if (v.config === undefined) throw new Error("image manifest has no config");
  const config = parseDescriptor(v.config, "manifest config");
  if (!Array.isArray(v.layers)) throw new Error("image manifest has no layers array");
  const layers = v.layers.map((l, i) => parseDescriptor(l, `manifest layer ${i}`));
  const m: ImageManifest = { schemaVersion: 2, mediaType, config, layers };
  const ann = parseAnnotations(v.annotations, "image manifest");
  if (ann) m.annotations = ann;
  return m;
}

/** Parses a document that must be a single-platform image manifest. */
export function parseImageManifest(bytes: Uint8Array | string, contentType?: string): ImageManifest {
  const p = parseManifestDocument(bytes, contentType);
  if (p.kind !== "manifest") throw new Error("expected an image manifest, got an image index");
  return p.manifest;
}

/** Parses a document that must be an image index / manifest list. */
export function parseImageIndex(bytes: Uint8Array | string, contentType?: string): ImageIndex {
  const p = parseManifestDocument(bytes, contentType);
  if (p.kind !== "index") throw new Error("expected an image index, got an image manifest");
  return p.index;
}

/**
 * Checks that a manifest describes a container image pod can run: a known config media type and known layer
 * media types. Throws with the offending media type otherwise (e.g. a Helm chart or other OCI artifact).
 */
export function checkRunnableManifest(m: ImageManifest): void {
  if (!CONFIG_MEDIA_TYPES.includes(m.config.mediaType)) {
    throw new Error(`not a container image: config media type "${m.config.mediaType}"`);
  }
  for (const l of m.layers) {
    if (!LAYER_MEDIA_TYPES.includes(l.mediaType)) {
      if (l.mediaType.includes("foreign")) {
        throw new Error(`foreign layers are not supported ("${l.mediaType}")`);
      }
      throw new Error(`unsupported layer media type "${l.mediaType}"`);
    }
  }
}

/** Parses and validates an image config blob. */
export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  const v = parseJson(bytes, "image config");
  if (typeof v.architecture !== "string" || typeof v.os !== "string") {
    throw new Error('image config needs string "architecture" and "os"');
  }
  if (!isObj(v.rootfs) || !Array.isArray(v.rootfs.diff_ids)) {
    throw new Error("image config has no rootfs.diff_ids");
  }
  for (const d of v.rootfs.diff_ids) {
    if (typeof d !== "string") throw new Error("image config has a non-string diff_id");
    try {
      validateDigest(d);
    } catch (e) {
      throw new Error(`image config diff_id: ${(e as Error).message}`);
    }
  }
  if (v.config !== undefined && v.config !== null && !isObj(v.config)) {
    throw new Error('image config "config" must be an object');
  }
  if (v.history !== undefined && v.history !== null && !Array.isArray(v.history)) {
    throw new Error('image config "history" must be an array');
  }
  return v as unknown as ImageConfig;
}
