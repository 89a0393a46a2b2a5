/**
 * A fault-injecting HTTP proxy for registry tests: `Deno.serve` on 127.0.0.1 in front of a real registry
 * (`registry.ts` `startRegistry()`). Requests are forwarded unchanged (redirects are not followed, so the
 * client sees them); {@linkcode FaultRule}s replace or damage chosen answers: error statuses N times, bodies cut
 * after N bytes (the connection is reset), corrupted or replaced bodies, stalls, throttled transfers, redirects
 * of blob GETs to a second 127.0.0.1 listener, synthetic auth challenges and token answers.
 *
 * Run pod against it with `pod.ts` (`pod`, `startPod`, `tempPodHome`); compare stores with `store_listing.ts`.
 *
 * ```ts
 * const reg = await startRegistry();
 * const proxy = await startFaultProxy(reg.url);
 * proxy.add({ when: "blob", times: 2, fault: { status: 503 } });
 * // pull `${proxy.host}/test/busybox:latest`
 * await proxy.stop();
 * ```
 * @module
 */

/** Which requests a rule applies to. */
export type FaultTarget =
  | "any"
  | "ping"
  | "manifest"
  | "blob"
  | "token"
  | ((req: Request, url: URL) => boolean);

/** What a rule does to a matching request. */
export type Fault =
  /** Answer with this status (and optional headers/body) instead of forwarding. */
  | { status: number; headers?: Record<string, string>; body?: string | Uint8Array }
  /** Forward, send the first `cutAfter` body bytes, then reset the connection. */
  | { cutAfter: number }
  /** Forward, flip one body byte (at `at`, default the middle) so the content no longer matches its digest. */
  | { corrupt: true; at?: number }
  /** Forward the status and headers, but send this body (Content-Length/Docker-Content-Digest dropped). */
  | { replaceBody: Uint8Array | string; contentType?: string }
  /** Forward, transform the body bytes. */
  | { transform: (body: Uint8Array) => Uint8Array | Promise<Uint8Array>; contentType?: string }
  /** Wait `stallMs` before answering (`afterBytes` set: send that many body bytes first, then wait). */
  | { stallMs: number; afterBytes?: number }
  /** Forward, sending the body in `chunk`-byte pieces with `delayMs` between them. */
  | { throttle: { chunk: number; delayMs: number } }
  /** Answer 307 to the same path on the proxy's second listener ({@linkcode FaultProxy.redirectHost}). */
  | { redirect: true };

/** One rule. The first rule (in order of adding) that matches and has uses left applies. */
export interface FaultRule {
  /** Which requests. */
  when: FaultTarget;
  /** Only this method (default: any). */
  method?: string;
  /** How many times the rule applies (default: always). */
  times?: number;
  /** What to do. */
  fault: Fault;
}

/** A request the proxy (or its redirect listener) saw. */
export interface SeenRequest {
  /** Method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers (lower-case names). */
  headers: Record<string, string>;
  /** The fault applied, if any (its kind: `status`, `cutAfter`, …). */
  fault?: string;
}

/** A running proxy. */
export interface FaultProxy {
  /** `127.0.0.1:PORT` — use as the registry part of references. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT2` of the redirect target listener (serves blobs from upstream without client auth). */
  redirectHost: string;
  /** Requests seen by the proxy, in order. */
  seen: SeenRequest[];
  /** Requests seen by the redirect listener, in order. */
  redirectSeen: SeenRequest[];
  /** Adds a rule (returns it; its `times` counts down as it is used). */
  add(rule: FaultRule): FaultRule;
  /** Removes every rule and forgets seen requests. */
  reset(): void;
  /** Stops both listeners (stalled answers are released first). */
  stop(): Promise<void>;
}

/** Options of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** `Authorization` the redirect listener uses towards upstream (for registries with auth). */
  upstreamAuth?: string;
}

function classify(url: URL): "ping" | "manifest" | "blob" | "token" | "other" {
  const p = url.pathname;
  if (p === "/v2/" || p === "/v2") return "ping";
  if (/^\/v2\/.+\/manifests\/[^/]+$/.test(p)) return "manifest";
  if (/^\/v2\/.+\/blobs\/[^/]+$/.test(p)) return "blob";
  if (p === "/token") return "token";
  return "other";
}

function headersOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

function faultKind(f: Fault): string {
  return Object.keys(f)[0];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

const HOP_HEADERS = ["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"];

async function forward(upstream: string, req: Request, url: URL, auth?: string): Promise<Response> {
  const headers = new Headers(req.headers);
  headers.delete("host");
  headers.delete("accept-encoding");
  if (auth !== undefined) headers.set("authorization", auth);
  return await fetch(`${upstream}${url.pathname}${url.search}`, {
    method: req.method,
    headers,
    body: req.body,
    redirect: "manual",
  });
}

function copyHeaders(res: Response, drop: string[] = []): Headers {
  const h = new Headers(res.headers);
  for (const k of [...HOP_HEADERS, ...drop]) h.delete(k);
  return h;
}

/** Start a proxy on 127.0.0.1 (random port) in front of `upstream` (`http://127.0.0.1:PORT`). */
export function startFaultProxy(upstream: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const rules: FaultRule[] = [];
  const seen: SeenRequest[] = [];
  const redirectSeen: SeenRequest[] = [];
  const stopping = new AbortController();

  const pick = (req: Request, url: URL): FaultRule | undefined => {
    const kind = classify(url);
    for (const r of rules) {
      if ((r.times ?? 1) <= 0) continue;
      if (r.method && r.method !== req.method) continue;
      const ok = typeof r.when === "function" ? r.when(req, url) : r.when === "any" || r.when === kind;
      if (!ok) continue;
      if (r.times !== undefined) r.times--;
      return r;
    }
    return undefined;
  };

  const redirectServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    redirectSeen.push({
      method: req.method,
      path: url.pathname + url.search,
      headers: headersOf(req.headers),
    });
    const fresh = new Request(req.url, { method: req.method, headers: new Headers() });
    const range = req.headers.get("range");
    if (range) fresh.headers.set("range", range);
    const res = await forward(upstream, fresh, url, opts.upstreamAuth);
    return new Response(res.body, { status: res.status, headers: copyHeaders(res) });
  });
  const redirectHost = `127.0.0.1:${(redirectServer.addr as Deno.NetAddr).port}`;

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const rule = pick(req, url);
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      headers: headersOf(req.headers),
      ...(rule ? { fault: faultKind(rule.fault) } : {}),
    });
    const f = rule?.fault;
    if (f && "status" in f) {
      await req.body?.cancel();
      return new Response((f.body ?? null) as BodyInit | null, {
        status: f.status,
        headers: f.headers ?? {},
      });
    }
    if (f && "redirect" in f) {
      await req.body?.cancel();
      return new Response(null, {
        status: 307,
        headers: { location: `http://${redirectHost}${url.pathname}${url.search}` },
      });
    }
    if (f && "stallMs" in f && !f.afterBytes) {
      await sleep(f.stallMs, stopping.signal);
    }
    const res = await forward(upstream, req, url);
    if (!f || "stallMs" in f && !f.afterBytes) {
      return new Response(res.body, { status: res.status, headers: copyHeaders(res) });
    }
    if ("replaceBody" in f || "transform" in f) {
      const orig = new Uint8Array(await res.arrayBuffer());
      const body = "replaceBody" in f
        ? (typeof f.replaceBody === "string" ? new TextEncoder().encode(f.replaceBody) : f.replaceBody)
        : await f.transform(orig);
      const h = copyHeaders(res, ["docker-content-digest"]);
      if (f.contentType) h.set("content-type", f.contentType);
      return new Response(body as BodyInit, { status: res.status, headers: h });
    }
    if ("corrupt" in f) {
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length > 0) {
        const at = Math.min(f.at ?? Math.floor(body.length / 2), body.length - 1);
        body[at] ^= 0xff;
      }
      return new Response(body as BodyInit, { status: res.status, headers: copyHeaders(res) });
    }
    // streaming faults: cut, stall mid-body, throttle
    const src = res.body;
    const stopSignal = stopping.signal;
    const h = copyHeaders(res);
    const total = Number(res.headers.get("content-length") ?? NaN);
    if (Number.isFinite(total)) h.set("content-length", String(total));
    const body = new ReadableStream<Uint8Array>({
      async start(ctl) {
        if (!src) return ctl.close();
        const reader = src.getReader();
        let sent = 0;
        let stallAt = "stallMs" in f && f.afterBytes !== undefined ? f.afterBytes : Infinity;
        try {
          while (true) {
            const r = await reader.read();
            if (r.done) break;
            let chunk = r.value;
            while (chunk.length > 0) {
              if ("cutAfter" in f && sent + chunk.length > f.cutAfter) {
                const n = f.cutAfter - sent;
                if (n > 0) ctl.enqueue(chunk.slice(0, n));
                await new Promise((r) => setTimeout(r, 20)); // let the bytes out first
                ctl.error(new Error("fault proxy: connection cut"));
                await reader.cancel().catch(() => {});
                return;
              }
              if ("stallMs" in f && sent + chunk.length > stallAt) {
                const n = stallAt - sent;
                if (n > 0) ctl.enqueue(chunk.slice(0, n));
                sent += Math.max(0, n);
                chunk = chunk.slice(Math.max(0, n));
                await sleep(f.stallMs, stopSignal);
                if (stopSignal.aborted) {
                  ctl.error(new Error("fault proxy: stopped"));
                  await reader.cancel().catch(() => {});
                  return;
                }
                stallAt = Infinity; // stall once per answer
                continue;
              }
              if ("throttle" in f) {
                const piece = chunk.slice(0, f.throttle.chunk);
                ctl.enqueue(piece);
                sent += piece.length;
                chunk = chunk.slice(piece.length);
                await sleep(f.throttle.delayMs, stopSignal);
                if (stopSignal.aborted) {
                  ctl.error(new Error("fault proxy: stopped"));
                  await reader.cancel().catch(() => {});
                  return;
                }
                continue;
              }
              ctl.enqueue(chunk);
              sent += chunk.length;
              chunk = chunk.subarray(chunk.length);
            }
          }
          ctl.close();
        } catch (e) {
          try {
            ctl.error(e);
          } catch { /* already errored */ }
        }
      },
    });
    return new Response(body, { status: res.status, headers: h });
  };

  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      onError: () => new Response("proxy error", { status: 502 }),
    },
    handler,
  );
  const port = (server.addr as Deno.NetAddr).port;
  return Promise.resolve({
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    redirectHost,
    seen,
    redirectSeen,
    add(rule: FaultRule) {
      rules.push(rule);
      return rule;
    },
    reset() {
      rules.length = 0;
      seen.length = 0;
      redirectSeen.length = 0;
    },
    async stop() {
      stopping.abort();
      await Promise.all([server.shutdown(), redirectServer.shutdown()]);
    },
  });
}
