/**
 * HTTPS without certificate verification (`--tls-verify=false`), which Deno's `fetch` cannot do per request
 * (`Deno.createHttpClient` only adds CAs): one exchange over `node:https` with `rejectUnauthorized: false`,
 * answered as a web `Response` (streamed body, manual redirects) so the registry HTTP layer treats it as a
 * `fetch` answer. Loaded only when a registry is used with `--tls-verify=false`.
 * @module
 */

import { request } from "node:https";
import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import type { TlsFiles } from "./cert_dir.ts";

/** The subset of `RequestInit` the registry layer sends. */
export interface InsecureInit {
  /** Method. */
  method: string;
  /** Request headers. */
  headers: Record<string, string>;
  /** Body: bytes, a string or a stream (sent chunked). */
  body: BodyInit | null;
  /** Aborts the exchange (the promise and the body stream fail with its reason). */
  signal: AbortSignal;
}

const NO_BODY = new Set([101, 204, 205, 304]);

async function writeBody(req: ReturnType<typeof request>, body: BodyInit | null): Promise<void> {
  if (body === null) return void req.end();
  if (typeof body === "string" || body instanceof Uint8Array) return void req.end(body);
  if (body instanceof ReadableStream) {
    for await (const chunk of body as ReadableStream<Uint8Array>) {
      if (!req.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onErr = (e: Error) => reject(e);
          req.once("drain", () => {
            req.off("error", onErr);
            resolve();
          });
          req.once("error", onErr);
        });
      }
    }
    return void req.end();
  }
  req.end(new Uint8Array(await new Response(body).arrayBuffer()));
}

/**
 * One HTTPS exchange that accepts any server certificate (and presents `tls`'s client certificate, if any).
 * Rejects on transport errors as `fetch` does; redirects are returned, not followed.
 */
export function insecureFetch(url: URL, init: InsecureInit, tls?: TlsFiles): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    if (init.signal.aborted) return reject(init.signal.reason);
    const req = request(url, {
      method: init.method,
      headers: init.headers,
      rejectUnauthorized: false,
      ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    }, (res: IncomingMessage) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
      }
      const status = res.statusCode ?? 502;
      let body: ReadableStream<Uint8Array> | null = null;
      if (NO_BODY.has(status) || init.method === "HEAD") res.resume();
      else body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
      resolve(new Response(body, { status, statusText: res.statusMessage ?? "", headers }));
    });
    const onAbort = () => req.destroy(init.signal.reason);
    init.signal.addEventListener("abort", onAbort, { once: true });
    req.on("close", () => init.signal.removeEventListener("abort", onAbort));
    req.on("error", (e: Error) => reject(init.signal.aborted ? init.signal.reason : e));
    writeBody(req, init.body).catch((e) => req.destroy(e));
  });
}
