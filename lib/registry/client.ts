/**
 * A Docker Registry HTTP API v2 / OCI Distribution client: ping, auth (anonymous, Basic, Bearer token),
 * manifests with digest verification, capped blobs, and resumable streaming blob downloads.
 *
 * One file over 400 lines on purpose: the Distribution API's request flows share their auth state.
 * @module
 */

import { PodError } from "../errors.ts";
import { debug, warnOnce } from "../log.ts";
import type { Descriptor } from "../oci/manifest.ts";
import { MANIFEST_ACCEPT } from "../oci/media_types.ts";
import type { Credentials } from "./credentials.ts";
import {
  Http,
  type HttpOptions,
  type HttpResponse,
  isLoopbackHost,
  RegistryError,
  transportMessage,
} from "./http.ts";
import type { Challenge } from "./www_authenticate.ts";

/** Cap on manifest bodies. */
export const MANIFEST_CAP = 4 * 1024 * 1024;
/** Cap on config blobs. */
export const CONFIG_CAP = 8 * 1024 * 1024;
/** Cap on token-server answers. */
export const TOKEN_CAP = 1024 * 1024;

/** Options of {@link RegistryClient}. */
export interface ClientOptions extends HttpOptions {
  /**
   * `false`: HTTPS without certificate verification, then plain HTTP if the registry does not speak TLS (as
   * podman). `true`: verify, even for a registry registries.conf marks insecure. Default (undefined): verify
   * unless registries.conf marks the registry insecure (plain HTTP only for loopback registries).
   */
  tlsVerify?: boolean;
  /** Credentials to use; when undefined they are looked up in the auth files (unless `anonymous`). */
  credentials?: Credentials;
  /** Never use credentials. */
  anonymous?: boolean;
  /** Explicit auth file (`--authfile`). */
  authFile?: string;
}

/** A fetched manifest document. */
export interface FetchedManifest {
  /** Raw bytes, exactly as served (their sha256 is the digest). */
  bytes: Uint8Array;
  /** `Content-Type` the registry sent. */
  contentType: string;
  /** sha256 digest of `bytes`. */
  digest: string;
}

/** Where a blob download writes: the store's blob writer implements this. */
export interface BlobSink {
  /** Bytes accepted so far. */
  readonly written: number;
  /**
   * Appends a chunk (rejects data beyond the expected size). The chunk is a view of a reused buffer, valid
   * only until the returned promise settles: copy what must be kept.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Drops everything written so far (server ignored our Range). */
  reset(): Promise<void>;
}

/** The sha256 digest (`sha256:<hex>`) of some bytes (Web Crypto; no node:crypto load). */
export async function sha256Bytes(bytes: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return "sha256:" + Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The host to talk to for a registry name (Docker Hub's API lives at `registry-1.docker.io`). */
export function registryEndpoint(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

function b64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** A client for one registry. */
export class RegistryClient {
  /** Registry name as in references (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  /** Host (and port) requests go to. */
  readonly host: string;
  readonly #http: Http;
  #tlsVerify: boolean;
  readonly #opts: ClientOptions;
  #base?: URL;
  #creds?: Credentials | null;
  #challenge?: Challenge | null;
  #tokens = new Map<string, string>();

  /** A client for `registry` (as in references: `docker.io`, `localhost:5000`). */
  constructor(registry: string, opts: ClientOptions = {}) {
    this.registry = registry;
    this.host = registryEndpoint(registry);
    this.#http = new Http({ ...opts, insecureTls: opts.tlsVerify === false, tlsHost: this.host });
    this.#tlsVerify = opts.tlsVerify ?? true;
    this.#opts = opts;
    if (opts.anonymous) this.#creds = null;
    else if (opts.credentials) this.#creds = opts.credentials;
  }

  /** The HTTP layer (for tests and tuning). */
  get http(): Http {
    return this.#http;
  }

  /** True when plain HTTP may be tried after HTTPS fails. */
  get allowsHttp(): boolean {
    return !this.#tlsVerify || isLoopbackHost(this.host);
  }

  async #credentials(repository?: string): Promise<Credentials | undefined> {
    if (this.#creds === undefined) {
      // loaded when first needed (an auth challenge): an anonymous registry's requests never load them
      const { findCredentials } = await import("./credentials.ts");
      this.#creds = (await findCredentials(this.registry, repository, { authFile: this.#opts.authFile })) ??
        null;
    }
    return this.#creds ?? undefined;
  }

  /** May credentials go to this URL? Only over HTTPS, or plain HTTP to loopback. */
  #credsAllowed(u: URL): boolean {
    return u.protocol === "https:" || isLoopbackHost(u.hostname);
  }

  /**
   * Finds the base URL (HTTPS, or HTTP when allowed and HTTPS fails at the transport level) and the auth
   * challenge with `GET /v2/`.
   */
  async #ensureBase(): Promise<URL> {
    if (this.#base) return this.#base;
    // registries.conf decides only when the caller did not: an explicit `tlsVerify: true` (`--tls-verify=true`)
    // keeps verification on for a registry marked insecure there, as podman
    const insecure = this.#opts.tlsVerify === undefined &&
      await (await import("./registries_conf.ts")).isInsecureRegistry(this.registry);
    if (insecure) {
      debug(`${this.registry} is marked insecure in registries.conf`);
      this.#tlsVerify = false;
      this.#http.skipVerification();
    }
    const plain = isLoopbackHost(this.host) ? await this.#plainLoopback() : undefined;
    if (plain) {
      this.#base = new URL("/v2/", plain.url);
      await this.#noteChallenge(plain);
      return this.#base;
    }
    const https = new URL(`https://${this.host}/v2/`);
    let r: HttpResponse;
    try {
      r = await this.#http.send(https, {
        what: `pinging container registry ${this.registry}`,
        tries: this.allowsHttp ? 1 : undefined,
      });
    } catch (e) {
      if (!this.allowsHttp || !(e instanceof RegistryError) || e.status !== undefined) throw e;
      debug(`https://${this.host} failed (${e.message}); trying plain HTTP`);
      const http = new URL(`http://${this.host}/v2/`);
      r = await this.#http.send(http, { what: `pinging container registry ${this.registry}` });
      if (r.status === 400) {
        // "Client sent an HTTP request to an HTTPS server": the HTTPS failure (a certificate…) is the news
        await r.cancel();
        throw e;
      }
    }
    this.#base = new URL("/v2/", r.url);
    await this.#noteChallenge(r);
    return this.#base;
  }

  /**
   * A loopback registry (plain HTTP allowed, as podman allows it) is asked over plain HTTP first: that costs
   * one local round trip, where a TLS attempt costs the TLS stack's set-up (certificate stores, with
   * `--tls-verify=false` node's https module) and a failed handshake. The outcome is the one HTTPS-first
   * gives: a TLS server answers plain HTTP with 400 ("Client sent an HTTP request to an HTTPS server"), a
   * closed connection or a 5xx/429 falls through too, and the HTTPS path then runs as before (with
   * verification unless told otherwise).
   */
  async #plainLoopback(): Promise<HttpResponse | undefined> {
    let r: HttpResponse;
    try {
      r = await this.#http.send(new URL(`http://${this.host}/v2/`), {
        what: `pinging container registry ${this.registry}`,
        tries: 1,
      });
    } catch {
      return undefined;
    }
    if (r.status === 400 || r.status === 429 || r.status >= 500) {
      await r.cancel();
      return undefined;
    }
    return r;
  }

  async #noteChallenge(r: HttpResponse): Promise<void> {
    if (r.status === 401) {
      const h = r.header("www-authenticate");
      await r.cancel();
      if (!h) {
        throw new RegistryError(`registry ${this.registry} answered 401 without a WWW-Authenticate header`);
      }
      const { parseWwwAuthenticate } = await import("./www_authenticate.ts");
      let chs: Challenge[];
      try {
        chs = parseWwwAuthenticate(h);
      } catch (e) {
        throw new RegistryError(`registry ${this.registry}: ${(e as Error).message}`);
      }
      this.#challenge = chs.find((c) => c.scheme === "bearer") ?? chs.find((c) => c.scheme === "basic") ??
        null;
      if (!this.#challenge) {
        throw new RegistryError(
          `registry ${this.registry} wants unsupported authentication "${
            chs.map((c) => c.scheme).join(", ")
          }"`,
        );
      }
      return;
    }
    if (r.status >= 200 && r.status < 300) {
      this.#challenge ??= null;
      await r.cancel();
      return;
    }
    const msg = await r.errorMessage();
    throw new RegistryError(
      `pinging container registry ${this.registry}: HTTP ${r.status}${msg ? `: ${msg}` : ""}`,
      { status: r.status },
    );
  }

  async #token(ch: Challenge, scope: string | undefined, repository?: string): Promise<string> {
    const key = `${ch.params.realm}|${ch.params.service ?? ""}|${scope ?? ""}`;
    const cached = this.#tokens.get(key);
    if (cached) return cached;
    let realm: URL;
    try {
      realm = new URL(ch.params.realm);
    } catch {
      throw new RegistryError(`registry ${this.registry}: invalid token realm "${ch.params.realm}"`);
    }
    if (realm.protocol !== "https:" && realm.protocol !== "http:") {
      throw new RegistryError(`registry ${this.registry}: token realm must be http(s), got "${realm.href}"`);
    }
    if (ch.params.service) realm.searchParams.set("service", ch.params.service);
    if (scope) realm.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    const creds = await this.#credentials(repository);
    if (creds) {
      if (this.#credsAllowed(realm)) {
        headers.authorization = `Basic ${b64(`${creds.username}:${creds.password}`)}`;
      } else {warnOnce(
          `plain-realm-${realm.host}`,
          `not sending credentials to ${realm.host} over plain HTTP`,
        );}
    }
    const r = await this.#http.send(realm, { headers, what: `requesting a token from ${realm.host}` });
    if (r.status === 401 || r.status === 403) {
      const msg = await r.errorMessage();
      throw new RegistryError(
        `authenticating to ${this.registry}: ${
          creds ? "invalid username/password" : "authentication required"
        }${msg ? ` (${msg})` : ""}`,
        { status: r.status },
      );
    }
    if (r.status !== 200) {
      const msg = await r.errorMessage();
      throw new RegistryError(
        `token server ${realm.host} answered HTTP ${r.status}${msg ? `: ${msg}` : ""}`,
        {
          status: r.status,
        },
      );
    }
    const body = await r.bytes(TOKEN_CAP, `token response from ${realm.host}`);
    let tok: unknown;
    try {
      const v = JSON.parse(new TextDecoder().decode(body));
      tok = v?.token || v?.access_token;
    } catch {
      throw new RegistryError(`token server ${realm.host} sent an answer that is not JSON`);
    }
    if (typeof tok !== "string" || tok === "") {
      throw new RegistryError(`token server ${realm.host} sent no token`);
    }
    this.#tokens.set(key, tok);
    return tok;
  }

  async #authHeader(url: URL, scope: string | undefined, repository?: string): Promise<string | undefined> {
    const ch = this.#challenge;
    if (!ch) return undefined;
    if (ch.scheme === "basic") {
      const creds = await this.#credentials(repository);
      if (!creds) return undefined;
      if (!this.#credsAllowed(url)) {
        throw new RegistryError(`refusing to send credentials to ${this.registry} over plain HTTP`);
      }
      return `Basic ${b64(`${creds.username}:${creds.password}`)}`;
    }
    const tok = await this.#token(ch, scope, repository);
    // an anonymous token is no secret; one obtained with credentials stays off plain HTTP (except loopback)
    if (!this.#credsAllowed(url) && (await this.#credentials(repository))) {
      throw new RegistryError(`refusing to send a token to ${this.registry} over plain HTTP`);
    }
    return `Bearer ${tok}`;
  }

  /**
   * Sends an authenticated request for `path` (below `/v2/`). A 401 is answered once by re-reading the challenge
   * (new scope, expired token) and retrying.
   */
  async request(
    path: string,
    init: {
      headers?: Record<string, string>;
      what: string;
      repository?: string;
      method?: string;
      /** Body, made afresh per attempt. */
      body?: () => BodyInit | null;
      /** Ask for push access to `repository` (token scope `pull,push`). */
      push?: boolean;
      /** Statuses to retry (default: 429, 408, 5xx). */
      retryStatus?: (status: number) => boolean;
      /** Token scope when it is not a repository's (`registry:catalog:*`). */
      scope?: string;
    },
  ): Promise<HttpResponse> {
    const base = await this.#ensureBase();
    // `path` may also be an absolute URL (an upload's Location): credentials go only to the registry's origin
    const url = new URL(path, base);
    const sameOrigin = url.origin === base.origin;
    const scope = init.scope ??
      (init.repository ? `repository:${init.repository}:${init.push ? "pull,push" : "pull"}` : undefined);
    for (let round = 0;; round++) {
      const headers: Record<string, string> = { ...init.headers };
      const auth = sameOrigin ? await this.#authHeader(url, scope, init.repository) : undefined;
      if (auth) headers.authorization = auth;
      const r = await this.#http.send(url, {
        headers,
        what: init.what,
        method: init.method,
        body: init.body,
        retryStatus: init.retryStatus,
      });
      if (r.status !== 401 || round > 0) return r;
      // (re)authenticate: drop cached tokens, read the new challenge.
      this.#tokens.clear();
      const before = this.#challenge;
      await this.#noteChallenge(r);
      if (before && this.#challenge?.scheme === "basic" && !(await this.#credentials(init.repository))) {
        throw new RegistryError(`${init.what}: authentication required`, { status: 401 });
      }
    }
  }

  /**
   * Finds the endpoint and, for a token registry, fetches the token for `repository` (`pull`, or `pull,push`
   * with `push`) now: requests sent at once afterwards share it instead of each asking for one.
   */
  async prepare(repository: string, push = false): Promise<void> {
    await this.#ensureBase();
    const ch = this.#challenge;
    if (ch?.scheme === "bearer") {
      await this.#token(ch, `repository:${repository}:${push ? "pull,push" : "pull"}`, repository);
    }
  }

  /** Checks that the registry answers `/v2/` with the credentials at hand (used by `pod login`). */
  async ping(): Promise<void> {
    await this.#ensureBase();
    const ch = this.#challenge;
    if (ch?.scheme === "bearer") await this.#token(ch, undefined);
    const r = await this.request("/v2/", { what: `logging into ${this.registry}` });
    if (r.status === 401) {
      await r.cancel();
      throw new RegistryError(
        `logging into "${this.registry}": ${
          (await this.#credentials()) ? "invalid username/password" : "authentication required"
        }`,
        { status: 401 },
      );
    }
    if (r.status !== 200) {
      const msg = await r.errorMessage();
      throw new RegistryError(`logging into "${this.registry}": HTTP ${r.status}${msg ? `: ${msg}` : ""}`, {
        status: r.status,
      });
    }
    await r.cancel();
  }

  /** Throws a {@link RegistryError} for an unexpected answer, with the registry's message. */
  async fail(r: HttpResponse, what: string): Promise<never> {
    return await this.#fail(r, what);
  }

  async #fail(r: HttpResponse, what: string): Promise<never> {
    const msg = await r.errorMessage();
    let why = msg || `HTTP ${r.status}`;
    if (r.status === 401 || r.status === 403) why = `${msg || "authentication required"} (HTTP ${r.status})`;
    else if (r.status === 404 && !msg) why = "not found (HTTP 404)";
    else if (msg) why = `${msg} (HTTP ${r.status})`;
    throw new RegistryError(`${what}: ${why}`, { status: r.status });
  }

  /**
   * Fetches a manifest by tag or digest (capped at 4 MiB). When `reference` is a digest the body must hash to
   * it; when the registry sends `Docker-Content-Digest` for a tag, it must match too.
   */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `reading manifest ${reference} in ${this.registry}/${repository}`;
    const r = await this.request(`/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      what,
      repository,
    });
    if (r.status !== 200) await this.#fail(r, what);
    const contentType = r.header("content-type") ?? "";
    const headerDigest = r.header("docker-content-digest");
    const bytes = await r.bytes(MANIFEST_CAP, `manifest ${reference} in ${this.registry}/${repository}`);
    const digest = await sha256Bytes(bytes);
    if (reference.includes(":") && reference !== digest) {
      throw new RegistryError(`${what}: manifest digest mismatch (got ${digest})`, {
        code: "DIGEST_MISMATCH",
      });
    }
    if (headerDigest && headerDigest.startsWith("sha256:") && headerDigest !== digest) {
      throw new RegistryError(
        `${what}: Docker-Content-Digest ${headerDigest} does not match the body (${digest})`,
      );
    }
    return { bytes, contentType, digest };
  }

  /** Fetches a small blob into memory (capped), verifying size and sha256. */
  async getBlobBytes(repository: string, desc: Descriptor, max: number, what = "blob"): Promise<Uint8Array> {
    const label = `${what} ${desc.digest} in ${this.registry}/${repository}`;
    if (desc.size > max) throw new RegistryError(`${label} is too large (${desc.size} bytes, limit ${max})`);
    const r = await this.request(`/v2/${repository}/blobs/${desc.digest}`, {
      what: `fetching ${label}`,
      repository,
    });
    if (r.status !== 200) await this.#fail(r, `fetching ${label}`);
    const bytes = await r.bytes(max, label);
    if (bytes.length !== desc.size) {
      throw new RegistryError(`${label}: size mismatch (got ${bytes.length} bytes, want ${desc.size})`, {
        code: "DIGEST_MISMATCH",
      });
    }
    const d = await sha256Bytes(bytes);
    if (d !== desc.digest) {
      throw new RegistryError(`${label}: digest mismatch (got ${d})`, { code: "DIGEST_MISMATCH" });
    }
    return bytes;
  }

  /**
   * Streams a blob into `sink`. A broken transfer is resumed with `Range: bytes=N-` when the registry answers
   * `206` with a matching `Content-Range`; any other answer restarts from 0. Bounded attempts. The caller
   * verifies the digest when committing the sink.
   */
  async downloadBlob(
    repository: string,
    desc: Descriptor,
    sink: BlobSink,
    onProgress?: (done: number, total: number) => void,
  ): Promise<void> {
    const label = `blob ${desc.digest} in ${this.registry}/${repository}`;
    const tries = this.#http.maxTries;
    let lastErr = "";
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (attempt > 1) await this.#http.sleep(this.#http.backoff(attempt - 1));
      const from = sink.written;
      const headers: Record<string, string> = {};
      if (from > 0 && from < desc.size) headers.range = `bytes=${from}-`;
      let r: HttpResponse;
      try {
        r = await this.request(`/v2/${repository}/blobs/${desc.digest}`, {
          headers,
          what: `fetching ${label}`,
          repository,
        });
      } catch (e) {
        if (e instanceof RegistryError && e.retryable && attempt < tries) {
          lastErr = e.message;
          continue;
        }
        throw e;
      }
      if (r.status === 206 && from > 0) {
        const m = CONTENT_RANGE.exec(r.header("content-range") ?? "");
        const ok = m && Number(m[1]) === from && Number(m[2]) === desc.size - 1 &&
          (m[3] === "*" || Number(m[3]) === desc.size);
        if (!ok) {
          debug(`${label}: bad Content-Range "${r.header("content-range")}"; restarting from 0`);
          await r.cancel();
          await sink.reset();
          lastErr = "bad Content-Range in resumed download";
          continue;
        }
        debug(`${label}: resuming at ${from}`);
      } else if (r.status === 200) {
        if (sink.written > 0) {
          debug(`${label}: registry ignored Range; restarting from 0`);
          await sink.reset();
        }
      } else {
        await this.#fail(r, `fetching ${label}`);
      }
      try {
        for await (const chunk of r.chunks(true)) {
          await sink.write(chunk);
          onProgress?.(sink.written, desc.size);
        }
      } catch (e) {
        if (e instanceof PodError) throw e;
        lastErr = transportMessage(e);
        debug(`${label}: transfer broken at ${sink.written} bytes: ${lastErr}`);
        continue;
      }
      if (sink.written === desc.size) return;
      lastErr = `connection closed after ${sink.written} of ${desc.size} bytes`;
      debug(`${label}: ${lastErr}`);
    }
    throw new RegistryError(`fetching ${label}: ${lastErr} (gave up after ${tries} attempts)`, {
      retryable: true,
    });
  }
}
