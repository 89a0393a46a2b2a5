/**
 * Image references, parsed and normalised the way podman (containers/image, docker/distribution) does:
 * `alpine` → `docker.io/library/alpine:latest`.
 * @module
 */

import { validateDigest } from "./digest.ts";

/** The registry short names without a domain resolve to. */
export const DEFAULT_REGISTRY = "docker.io";
/** The namespace of Docker Hub's official images. */
export const OFFICIAL_NAMESPACE = "library";
/** The tag used when a reference names neither a tag nor a digest. */
export const DEFAULT_TAG = "latest";

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** Registry domain, possibly with a port: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path inside the registry: `library/alpine`. */
  readonly repository: string;
  /** Tag, when given (or defaulted to `latest` when there is no digest either). */
  readonly tag?: string;
  /** Digest (`sha256:…`), when given. */
  readonly digest?: string;
  /** The full normalised reference: `docker.io/library/alpine:latest`. */
  toString(): string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;
const MAX_NAME = 255;

function fail(input: string, why: string): never {
  throw new Error(`invalid reference "${input}": ${why}`);
}

/** True when the first path component of a name is a registry domain (has `.` or `:`, or is `localhost`). */
export function isDomain(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

/**
 * Parses and normalises an image reference such as `alpine`, `quay.io/ns/app:1.2`,
 * `localhost:5000/x@sha256:…` or `name:tag@sha256:…`. Throws an `Error` with a clear message for an
 * invalid one.
 */
export function parseReference(input: string): ImageReference {
  const s = input.trim();
  if (s === "") fail(input, "empty reference");
  if (s !== input) fail(input, "leading or trailing white space");
  if (HEX64_RE.test(s)) fail(input, "cannot use a 64-character hexadecimal string (an image ID) as a name");
  if (/^[a-z]+:\/\//i.test(s)) fail(input, "a reference does not take a URL scheme");

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (d === "") fail(input, "empty digest after @");
    try {
      digest = validateDigest(d);
    } catch (e) {
      fail(input, (e as Error).message);
    }
  }
  if (rest === "") fail(input, "missing repository name");

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === "") fail(input, "empty tag after :");
    if (!TAG_RE.test(tag)) {
      fail(input, `invalid tag "${tag}": use up to 128 letters, digits, _ . - (not starting with . or -)`);
    }
  }
  if (rest === "") fail(input, "missing repository name");

  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // docker/distribution: a first component with upper-case letters is treated as a domain too.
    if (isDomain(first) || first.toLowerCase() !== first) {
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (registry !== DEFAULT_REGISTRY || slash >= 0) {
    if (!DOMAIN_RE.test(registry)) fail(input, `invalid registry domain "${registry}"`);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DEFAULT_REGISTRY;
  if (path === "") fail(input, "missing repository name");
  if (path.toLowerCase() !== path) fail(input, `repository name "${path}" must be lowercase`);
  for (const comp of path.split("/")) {
    if (comp === "") fail(input, `empty path component in repository name "${path}"`);
    if (!PATH_COMPONENT.test(comp)) {
      fail(
        input,
        `invalid repository name component "${comp}": use lowercase letters and digits separated by . _ __ or -`,
      );
    }
  }
  if (registry === DEFAULT_REGISTRY && !path.includes("/")) path = `${OFFICIAL_NAMESPACE}/${path}`;
  if (registry.length + 1 + path.length > MAX_NAME) {
    fail(input, `repository name longer than ${MAX_NAME} characters`);
  }
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return makeReference(registry, path, tag, digest);
}

/** Builds a reference object from its parts (no validation). */
export function makeReference(
  registry: string,
  repository: string,
  tag?: string,
  digest?: string,
): ImageReference {
  const ref: ImageReference = {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    toString: () => formatReference(ref),
  };
  return ref;
}

/** `registry/repository`, e.g. `docker.io/library/alpine`. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The full normalised string: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/**
 * The short form Docker shows: `alpine:latest` for `docker.io/library/alpine:latest`,
 * `user/app:1` for `docker.io/user/app:1`; other registries stay in full.
 */
export function familiarName(ref: ImageReference): string {
  let name = repositoryName(ref);
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith(`${OFFICIAL_NAMESPACE}/`)
      ? ref.repository.slice(OFFICIAL_NAMESPACE.length + 1)
      : ref.repository;
  }
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}

/** Parses and returns the full normalised string of a reference. */
export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}

/**
 * The name an image is stored under: `registry/repo:tag` when there is a tag, else `registry/repo@digest`.
 */
export function storageName(ref: ImageReference): string {
  if (ref.tag !== undefined) return `${repositoryName(ref)}:${ref.tag}`;
  return `${repositoryName(ref)}@${ref.digest}`;
}
