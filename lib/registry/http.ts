/**
 * HTTP plumbing for registry traffic: idle timeouts on every wait, bounded retries with backoff (429 with
 * Retry-After, 5xx, connection errors), manual redirects that drop credentials when the origin changes, size
 * caps on bodies and one-line error messages from registry error bodies.
 *
 * One file over 400 lines on purpose: every rule of registry HTTP traffic in one place.
 * @module
 */

import { type ErrorCode, PodError } from "../errors.ts";
import { debug } from "../log.ts";
import type { TlsFiles } from "./cert_dir.ts";

/** Default idle timeout per wait (headers or one body read), overridable with `POD_REGISTRY_TIMEOUT_MS`. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Cap on error bodies read to build a message. */
export const ERROR_BODY_CAP = 64 * 1024;

/** Buffer of {@link HttpResponse.chunks} with `reuse`. */
const REUSED_CHUNK = 256 * 1024;

/** A registry or transport failure (one-line message). `status` is the HTTP status when there was one. */
export class RegistryError extends PodError {
  /** HTTP status, when the failure is an HTTP answer. */
  readonly status?: number;
  /** True for failures worth retrying (transport errors, timeouts, 429, 5xx). */
  readonly retryable: boolean;
  /** A registry failure with an optional HTTP status and whether a retry may help. */
  constructor(
    message: string,
    opts: { status?: number; retryable?: boolean; cause?: unknown; code?: ErrorCode } = {},
  ) {
    super(message, { code: opts.code ?? "REGISTRY", cause: opts.cause });
    this.name = "RegistryError";
    this.status = opts.status;
    this.retryable = opts.retryable ?? false;
  }
}

/** Tunables of {@link Http}. */
export interface HttpOptions {
  /** Idle timeout per wait in ms (default `$POD_REGISTRY_TIMEOUT_MS` or 30 s). */
  timeoutMs?: number;
  /** Attempts per request, including the first (default 4). */
  maxTries?: number;
  /** First backoff delay in ms, doubled each retry (default 500). */
  backoffMs?: number;
  /** Cap on a Retry-After wait in ms (default 30 s). */
  retryAfterCapMs?: number;
  /** Maximum redirects followed (default 10). */
  maxRedirects?: number;
  /** Cancels every request (and body read) of the client: they fail with a `CANCELLED` {@link PodError}. */
  signal?: AbortSignal;
  /** HTTPS without certificate verification (`--tls-verify=false`). Default false. */
  insecureTls?: boolean;
  /** The registry's `HOST[:PORT]`: its TLS files (CAs, client certificate) are read as podman does. */
  tlsHost?: string;
  /** `--cert-dir`: the directory of {@link HttpOptions.tlsHost}'s TLS files instead of podman's defaults. */
  certDir?: string;
}

/** The error a cancelled request fails with. */
export function cancelledError(signal: AbortSignal): PodError {
  const r = signal.reason;
  if (r instanceof PodError && r.code === "CANCELLED") return r;
  return new PodError(`cancelled${r instanceof Error && r.name !== "AbortError" ? `: ${r.message}` : ""}`, {
    code: "CANCELLED",
    cause: r,
  });
}

/** The idle timeout from the environment (`POD_REGISTRY_TIMEOUT_MS`) or the default. */
export function envTimeoutMs(): number {
  const v = Number(Deno.env.get("POD_REGISTRY_TIMEOUT_MS"));
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

/** `host:port` of a URL with default ports made explicit, and the scheme, for origin comparisons. */
export function originOf(u: URL): string {
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  return `${u.protocol}//${u.hostname}:${port}`;
}

/** True for `localhost`, `127.0.0.0/8` and `::1` (with or without brackets / port). */
export function isLoopbackHost(hostname: string): boolean {
  let h = hostname.toLowerCase();
  if (h.startsWith("[")) h = h.slice(1, h.indexOf("]"));
  else if (h.split(":").length === 2) h = h.split(":")[0];
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Parses a Retry-After value (seconds or HTTP date) into ms; undefined when absent or bad. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (v === null || v.trim() === "") return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const d = Date.parse(t);
  if (Number.isNaN(d)) return undefined;
  return Math.max(0, d - now);
}

/** One line describing a transport error (connection refused, reset, TLS…). */
export function transportMessage(e: unknown): string {
  if (e instanceof TimeoutError) return e.message;
  let msg = e instanceof Error ? e.message : String(e);
  // fetch wraps the cause: "fetch failed" ← "error sending request …: tcp connect error: Connection refused"
  for (let c = (e as { cause?: unknown })?.cause, depth = 0; c instanceof Error && depth < 4; depth++) {
    msg = c.message;
    c = (c as { cause?: unknown }).cause;
  }
  const line = msg.split("\n")[0]
    .replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^client error \(\w+\): /, "")
    .replace(/^tcp connect error: /, "");
  return line.slice(0, 300);
}

/** The idle timeout fired: no progress for `ms`. */
export class TimeoutError extends Error {
  /** `what` says what was being waited for. */
  constructor(what: string, ms: number) {
    super(`timed out after ${ms} ms without data while ${what}`);
    this.name = "TimeoutError";
  }
}

/** Builds a one-line message from a registry error body (`{"errors":[{code,message}]}`, text or HTML). */
export function errorBodyMessage(body: Uint8Array, contentType: string | null): string {
  const text = new TextDecoder().decode(body).trim();
  if (text === "") return "";
  if (/^\s*(<!doctype|<html)/i.test(text) || (contentType ?? "").includes("html")) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    return title ? `HTML page "${title.slice(0, 100)}"` : "an HTML page";
  }
  try {
    const v = JSON.parse(text);
    const errs = Array.isArray(v?.errors) ? v.errors : Array.isArray(v) ? v : undefined;
    if (errs) {
      const parts = errs.slice(0, 3).map((e: { code?: unknown; message?: unknown }) => {
        const code = typeof e?.code === "string" ? e.code.toLowerCase().replaceAll("_", " ") : "";
        const msg = typeof e?.message === "string" ? e.message : "";
        return msg && code && !msg.toLowerCase().startsWith(code) ? `${code}: ${msg}` : msg || code;
      }).filter(Boolean);
      if (parts.length) return oneLine(parts.join("; "));
    }
    if (typeof v?.error === "string") return oneLine(v.error);
    if (typeof v?.message === "string") return oneLine(v.message);
    if (typeof v?.details === "string") return oneLine(v.details);
  } catch { /* not JSON */ }
  return oneLine(text);
}

function oneLine(s: string): string {
  const l = s.replace(/\s+/g, " ").trim();
  return l.length > 300 ? l.slice(0, 300) + "…" : l;
}

/** A response plus helpers that keep enforcing the idle timeout while its body is read. */
export class HttpResponse {
  /** The underlying response. */
  readonly res: Response;
  /** The URL that produced it (after redirects). */
  readonly url: URL;
  readonly #ctl: AbortController;
  readonly #timeoutMs: number;
  readonly #what: string;
  readonly #done?: () => void;

  /**
   * Wraps a response whose reads are guarded by `ctl` (aborted when a read stalls for `timeoutMs`); `done` is
   * called once its body was read or cancelled.
   */
  constructor(
    res: Response,
    url: URL,
    ctl: AbortController,
    timeoutMs: number,
    what: string,
    done?: () => void,
  ) {
    this.res = res;
    this.url = url;
    this.#ctl = ctl;
    this.#timeoutMs = timeoutMs;
    this.#what = what;
    this.#done = done;
  }

  /** HTTP status. */
  get status(): number {
    return this.res.status;
  }

  /** A response header. */
  header(name: string): string | null {
    return this.res.headers.get(name);
  }

  /**
   * Reads the body chunk by chunk; each read must make progress within the idle timeout. With `reuse`, the
   * body is read into one reused buffer (a BYOB reader, when the body is a byte stream): a chunk is a view
   * valid only until the next one is requested, and no buffer per chunk is allocated (downloads make no
   * garbage). Without it every chunk is the caller's to keep.
   */
  async *chunks(reuse = false): AsyncGenerator<Uint8Array> {
    const body = this.res.body;
    if (!body) return;
    let byob: ReadableStreamBYOBReader | undefined;
    if (reuse) {
      try {
        byob = body.getReader({ mode: "byob" });
      } catch { /* not a byte stream: the default reader */ }
    }
    const reader = byob ?? body.getReader();
    let buf = byob ? new Uint8Array(REUSED_CHUNK) : undefined;
    try {
      while (true) {
        const timer = setTimeout(
          () => this.#ctl.abort(new TimeoutError(`reading ${this.#what}`, this.#timeoutMs)),
          this.#timeoutMs,
        );
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = byob ? await byob.read(buf!) : await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        } catch (e) {
          const reason = this.#ctl.signal.reason;
          throw reason instanceof TimeoutError || reason instanceof PodError ? reason : e;
        } finally {
          clearTimeout(timer);
        }
        if (r.done) return;
        // a BYOB read transfers the buffer: the next read reuses the memory through the returned view's buffer
        if (byob) buf = new Uint8Array(r.value.buffer as ArrayBuffer);
        if (r.value.length > 0) yield r.value;
      }
    } finally {
      reader.releaseLock();
      await body.cancel().catch(() => {});
      this.#done?.();
    }
  }

  /**
   * Reads the whole body, refusing more than `max` bytes (checked against Content-Length first).
   * `what` names the content in the error message.
   */
  async bytes(max: number, what: string): Promise<Uint8Array> {
    const cl = Number(this.res.headers.get("content-length") ?? NaN);
    if (Number.isFinite(cl) && cl > max) {
      await this.cancel();
      throw new RegistryError(`${what} is too large (${cl} bytes, limit ${max})`);
    }
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const c of this.chunks()) {
      n += c.length;
      if (n > max) throw new RegistryError(`${what} is too large (over ${max} bytes)`);
      parts.push(c);
    }
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  /** Discards the body. */
  async cancel(): Promise<void> {
    await this.res.body?.cancel().catch(() => {});
    this.#done?.();
  }

  /** Reads (capped) and discards the body, returning the registry's one-line error message. */
  async errorMessage(): Promise<string> {
    try {
      const b = await this.bytes(ERROR_BODY_CAP, "error body");
      return errorBodyMessage(b, this.res.headers.get("content-type"));
    } catch {
      await this.cancel();
      return "";
    }
  }
}

/** Request parameters for {@link Http.send}. */
export interface SendInit {
  /** Method (default GET). */
  method?: string;
  /** Headers; `authorization` is dropped when a redirect leaves the origin it was meant for. */
  headers?: Record<string, string>;
  /** Request body, made afresh for every attempt and redirect (a stream cannot be sent twice). */
  body?: () => BodyInit | null;
  /** What this request is, for messages ("fetching manifest …"). */
  what: string;
  /** Attempts (overrides the default). */
  tries?: number;
  /** Called on each retry with the reason. */
  onRetry?: (why: string, attempt: number) => void;
  /** Statuses to retry (default 429 and 5xx except 501/505). */
  retryStatus?: (status: number) => boolean;
}

function defaultRetryStatus(s: number): boolean {
  return s === 429 || s === 408 || (s >= 500 && s !== 501 && s !== 505);
}

/** HTTP with the registry policies; one per registry client. */
export class Http {
  /** Idle timeout in ms. */
  readonly timeoutMs: number;
  /** Attempts per request. */
  readonly maxTries: number;
  readonly #backoffMs: number;
  readonly #retryAfterCapMs: number;
  readonly #maxRedirects: number;
  /** Cancels every request. */
  readonly signal?: AbortSignal;
  #insecure: boolean;
  readonly #tlsHost?: string;
  readonly #certDir?: string;
  #tls?: Promise<{ files?: TlsFiles; client?: Deno.HttpClient }>;

  /** Uses the given tunables (defaults otherwise). */
  constructor(o: HttpOptions = {}) {
    this.signal = o.signal;
    this.timeoutMs = o.timeoutMs ?? envTimeoutMs();
    this.maxTries = o.maxTries ?? 4;
    this.#backoffMs = o.backoffMs ?? 500;
    this.#retryAfterCapMs = o.retryAfterCapMs ?? 30_000;
    this.#maxRedirects = o.maxRedirects ?? 10;
    this.#insecure = o.insecureTls ?? false;
    this.#tlsHost = o.tlsHost;
    this.#certDir = o.certDir;
  }

  /** HTTPS without certificate verification from now on (a registry marked insecure in registries.conf). */
  skipVerification(): void {
    this.#insecure = true;
    this.#tls = undefined;
  }

  /** The registry's TLS files, read once (and a `fetch` client trusting them). */
  #tlsSetup(): Promise<{ files?: TlsFiles; client?: Deno.HttpClient }> {
    this.#tls ??= (async () => {
      if (this.#tlsHost === undefined) return {};
      const { loadTlsFiles } = await import("./cert_dir.ts"); // HTTPS only: plain loopback never loads it
      const files = await loadTlsFiles(this.#tlsHost, this.#certDir);
      if (!files) return {};
      debug(
        `TLS files for ${this.#tlsHost}: ${files.caCerts.length} CA(s)${files.cert ? ", a client cert" : ""}`,
      );
      if (this.#insecure) return { files };
      const opts: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {
        caCerts: files.caCerts,
      };
      if (files.cert && files.key) Object.assign(opts, { cert: files.cert, key: files.key });
      try {
        return { files, client: Deno.createHttpClient(opts as Deno.CreateHttpClientOptions) };
      } catch (e) {
        throw new PodError(`TLS files for ${this.#tlsHost}: ${(e as Error).message}`);
      }
    })();
    return this.#tls;
  }

  /** `fetch`, or HTTPS with this client's TLS policy (no verification, extra CAs, a client certificate). */
  async #fetch(
    url: URL,
    init: RequestInit & { signal: AbortSignal; body: BodyInit | null },
  ): Promise<Response> {
    if (url.protocol !== "https:") return fetch(url, init);
    const own = url.host === this.#tlsHost;
    const tls = own || this.#insecure ? await this.#tlsSetup() : {};
    if (this.#insecure) {
      const { insecureFetch } = await import("./tls_fetch.ts");
      return insecureFetch(url, {
        method: init.method ?? "GET",
        headers: init.headers as Record<string, string>,
        body: init.body,
        signal: init.signal,
      }, own ? tls.files : undefined);
    }
    return own && tls.client ? fetch(url, { ...init, client: tls.client }) : fetch(url, init);
  }

  /** Backoff before retry number `attempt` (1-based), with jitter. */
  backoff(attempt: number): number {
    const base = this.#backoffMs * 2 ** (attempt - 1);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** Sleeps `ms` (rejects when the client is cancelled). */
  sleep(ms: number): Promise<void> {
    const signal = this.signal;
    if (!signal) return new Promise((r) => setTimeout(r, ms));
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(cancelledError(signal));
      const stop = () => {
        clearTimeout(t);
        reject(cancelledError(signal));
      };
      const t = setTimeout(() => {
        signal.removeEventListener("abort", stop);
        resolve();
      }, ms);
      signal.addEventListener("abort", stop, { once: true });
    });
  }

  /**
   * One exchange without retries: follows redirects by hand (dropping `authorization` when the origin
   * changes or the target is plain HTTP on a non-loopback host), with the idle timeout on the headers.
   */
  async once(url: URL, init: SendInit): Promise<HttpResponse> {
    let cur = url;
    const headers: Record<string, string> = { ...init.headers };
    const authOrigin = originOf(url);
    for (let hop = 0;; hop++) {
      if (this.signal?.aborted) throw cancelledError(this.signal);
      const ctl = new AbortController();
      const cancel = () => ctl.abort(cancelledError(this.signal!));
      this.signal?.addEventListener("abort", cancel, { once: true });
      const timer = setTimeout(
        () => ctl.abort(new TimeoutError(`waiting for ${cur.host} (${init.what})`, this.timeoutMs)),
        this.timeoutMs,
      );
      let res: Response;
      try {
        res = await this.#fetch(cur, {
          method: init.method ?? "GET",
          headers,
          body: init.body?.() ?? null,
          redirect: "manual",
          signal: ctl.signal,
        });
      } catch (e) {
        this.signal?.removeEventListener("abort", cancel);
        const reason = ctl.signal.reason;
        throw reason instanceof TimeoutError || reason instanceof PodError ? reason : e;
      } finally {
        clearTimeout(timer);
      }
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && res.headers.has("location")) {
        await res.body?.cancel().catch(() => {});
        this.signal?.removeEventListener("abort", cancel);
        if (hop >= this.#maxRedirects) throw new RegistryError(`too many redirects while ${init.what}`);
        const next = new URL(res.headers.get("location")!, cur);
        if (next.protocol !== "https:" && next.protocol !== "http:") {
          throw new RegistryError(`refusing redirect to ${next.protocol} URL while ${init.what}`);
        }
        if (
          originOf(next) !== authOrigin || (next.protocol === "http:" && !isLoopbackHost(next.hostname))
        ) {
          if ("authorization" in headers || "Authorization" in headers) {
            debug(`redirect to ${next.host}: not forwarding credentials`);
          }
          delete headers.authorization;
          delete headers.Authorization;
        }
        debug(`redirect ${res.status} → ${next.href}`);
        cur = next;
        continue;
      }
      return new HttpResponse(res, cur, ctl, this.timeoutMs, init.what, () => {
        this.signal?.removeEventListener("abort", cancel);
      });
    }
  }

  /**
   * Sends a request with retries: transport errors and timeouts, 429 (waiting Retry-After, capped) and 5xx
   * are retried up to `maxTries` with exponential backoff. Other statuses are returned to the caller.
   */
  async send(url: URL, init: SendInit): Promise<HttpResponse> {
    const tries = init.tries ?? this.maxTries;
    const retryStatus = init.retryStatus ?? defaultRetryStatus;
    for (let attempt = 1;; attempt++) {
      let r: HttpResponse;
      try {
        r = await this.once(url, init);
      } catch (e) {
        if (e instanceof PodError) throw e; // a registry refusal, or cancelled
        const msg = transportMessage(e);
        if (attempt >= tries) {
          throw new RegistryError(`${init.what}: ${msg}`, { retryable: true, cause: e });
        }
        init.onRetry?.(msg, attempt);
        debug(`${init.what}: ${msg}; retry ${attempt}/${tries - 1}`);
        await this.sleep(this.backoff(attempt));
        continue;
      }
      if (retryStatus(r.status) && attempt < tries) {
        let wait = this.backoff(attempt);
        if (r.status === 429 || r.status === 503) {
          const ra = parseRetryAfter(r.header("retry-after"));
          if (ra !== undefined) wait = Math.min(ra, this.#retryAfterCapMs);
        }
        const why = `HTTP ${r.status}`;
        await r.cancel();
        init.onRetry?.(why, attempt);
        debug(`${init.what}: ${why}; retry ${attempt}/${tries - 1} in ${wait} ms`);
        await this.sleep(wait);
        continue;
      }
      return r;
    }
  }
}
