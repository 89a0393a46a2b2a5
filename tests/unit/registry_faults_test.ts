/**
 * The registry client and pull against a fake registry (Deno.serve on 127.0.0.1) that injects faults:
 * 429/503, cut and stalled bodies, bad ranges, wrong digests, oversized or HTML answers, redirects, auth.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RegistryClient } from "../../lib/registry/client.ts";
import { pullImage } from "../../lib/image/pull.ts";
import { openBlobWriter } from "../../lib/store/blobs.ts";
import { MediaType } from "../../lib/oci/media_types.ts";
import { parseManifestDocument } from "../../lib/oci/manifest.ts";

const enc = new TextEncoder();
const sha = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");

type Bytes = Uint8Array<ArrayBuffer>;

interface Img {
  layer: Bytes;
  layerDigest: string;
  config: Bytes;
  configDigest: string;
  manifest: Bytes;
  manifestDigest: string;
}

function makeImage(layerSize = 300_000): Img {
  const layer = new Uint8Array(layerSize);
  crypto.getRandomValues(layer.subarray(0, Math.min(layerSize, 65536)));
  for (let i = 65536; i < layerSize; i++) layer[i] = (i * 31) & 0xff;
  const layerDigest = sha(layer);
  const config = enc.encode(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [layerDigest] },
    config: { Cmd: ["sh"] },
  }));
  const configDigest = sha(config);
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
    layers: [{ mediaType: MediaType.OciLayerGzip, digest: layerDigest, size: layer.length }],
  }));
  return { layer, layerDigest, config, configDigest, manifest, manifestDigest: sha(manifest) };
}

type Handler = (req: Request, url: URL, n: number) => Response | Promise<Response> | undefined;

interface Fake {
  host: string;
  port: number;
  seen: { path: string; headers: Headers }[];
  close(): Promise<void>;
}

/** A fake registry: `hook` may answer a request first (n = how many requests for that path so far). */
function startFake(img: Img, hook?: Handler): Fake {
  const counts = new Map<string, number>();
  const seen: Fake["seen"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const n = (counts.get(url.pathname) ?? 0) + 1;
    counts.set(url.pathname, n);
    seen.push({ path: url.pathname, headers: req.headers });
    const r = await hook?.(req, url, n);
    if (r) return r;
    if (url.pathname === "/v2/") return new Response("{}");
    if (url.pathname.startsWith("/v2/test/img/manifests/")) {
      return new Response(img.manifest, { headers: { "content-type": MediaType.OciManifest } });
    }
    if (url.pathname === `/v2/test/img/blobs/${img.configDigest}`) return new Response(img.config);
    if (url.pathname === `/v2/test/img/blobs/${img.layerDigest}`) return serveBlob(req, img.layer);
    return Response.json({ errors: [{ code: "NOT_FOUND", message: "nothing here" }] }, { status: 404 });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return { host: `127.0.0.1:${port}`, port, seen, close: () => server.shutdown() };
}

function serveBlob(req: Request, data: Bytes): Response {
  const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
  if (range) {
    const from = Number(range[1]);
    return new Response(data.slice(from), {
      status: 206,
      headers: { "content-range": `bytes ${from}-${data.length - 1}/${data.length}` },
    });
  }
  return new Response(data);
}

/** A body that sends `n` bytes, then breaks the connection (or stalls forever with `stall`). */
function cutBody(data: Uint8Array, n: number, stall = false): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream({
    start(c) {
      c.enqueue(data.slice(0, n));
      if (!stall) timer = setTimeout(() => c.error(new Error("cut")), 20);
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

// the fake registry's layers are not archives: these tests are about transfers, so no image tree is built
const quick = { backoffMs: 5, retryAfterCapMs: 50, timeoutMs: 2000, buildTree: false };

async function tmpRoot(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "pod-pull-" });
}

async function pullFrom(fake: Fake, root: string, extra = {}) {
  return await pullImage(root, `${fake.host}/test/img:latest`, { ...quick, ...extra });
}

Deno.test("faults: 429 with Retry-After, then OK (wait capped)", async () => {
  const img = makeImage();
  const fake = startFake(
    img,
    (_r, url, n) =>
      url.pathname.includes("/manifests/") && n === 1
        ? new Response("slow down", { status: 429, headers: { "retry-after": "30" } })
        : undefined,
  );
  const root = await tmpRoot();
  try {
    const t0 = Date.now();
    const r = await pullFrom(fake, root);
    assert.ok(Date.now() - t0 < 5000, "Retry-After is capped");
    assert.equal(r.id, img.configDigest.slice(7));
    assert.equal(fake.seen.filter((s) => s.path.includes("/manifests/")).length, 2);
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: 503 twice then OK; 503 forever fails with the registry's message", async () => {
  const img = makeImage();
  let forever = false;
  const fake = startFake(
    img,
    (_r, url, n) =>
      url.pathname.includes("/blobs/sha256") && (forever || n <= 2)
        ? Response.json({ errors: [{ code: "UNAVAILABLE", message: "try later\nplease" }] }, { status: 503 })
        : undefined,
  );
  const root = await tmpRoot();
  try {
    await pullFrom(fake, root);
    forever = true;
    const root2 = await tmpRoot();
    try {
      await assert.rejects(pullFrom(fake, root2), (e: Error) => {
        assert.match(e.message, /test\/img:latest/);
        assert.match(e.message, /try later please \(HTTP 503\)/);
        assert.ok(!e.message.includes("\n"));
        return true;
      });
    } finally {
      await Deno.remove(root2, { recursive: true });
    }
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: body cut after N bytes is resumed with Range", async () => {
  const img = makeImage();
  const fake = startFake(img, (req, url, n) => {
    if (url.pathname.endsWith(img.layerDigest) && n === 1 && !req.headers.has("range")) {
      return new Response(cutBody(img.layer, 100_000));
    }
  });
  const root = await tmpRoot();
  try {
    await pullFrom(fake, root);
    const layerReqs = fake.seen.filter((s) => s.path.endsWith(img.layerDigest));
    assert.equal(layerReqs.length, 2);
    const range = layerReqs[1].headers.get("range");
    assert.match(range ?? "", /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(range!)![0]) > 0);
    const stored = await Deno.readFile(`${root}/blobs/sha256/${img.layerDigest.slice(7)}`);
    assert.equal(sha(stored), img.layerDigest);
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: a stalled body times out, then the download resumes", async () => {
  const img = makeImage();
  const fake = startFake(img, (req, url, n) => {
    if (url.pathname.endsWith(img.layerDigest) && n === 1 && !req.headers.has("range")) {
      return new Response(cutBody(img.layer, 50_000, true));
    }
  });
  const root = await tmpRoot();
  try {
    await pullFrom(fake, root, { timeoutMs: 300 });
    assert.match(
      fake.seen.filter((s) => s.path.endsWith(img.layerDigest))[1].headers.get("range") ?? "",
      /bytes=/,
    );
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: stalled headers give a clear timeout error, not a hang", async () => {
  const img = makeImage();
  const pending: ((r: Response) => void)[] = [];
  const never = () => new Promise<Response>((r) => pending.push(r));
  const fake = startFake(img, (_r, url) => url.pathname.includes("/manifests/") ? never() : undefined);
  const root = await tmpRoot();
  try {
    await assert.rejects(
      pullImage(root, `${fake.host}/test/img:latest`, { backoffMs: 1, timeoutMs: 150, buildTree: false }),
      /timed out after 150 ms/,
    );
  } finally {
    for (const r of pending) r(new Response("late"));
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: Range ignored (200) or a wrong Content-Range restarts from 0", async () => {
  for (const mode of ["ignore", "badrange"]) {
    const img = makeImage();
    const fake = startFake(img, (req, url, n) => {
      if (!url.pathname.endsWith(img.layerDigest)) return;
      if (n === 1) return new Response(cutBody(img.layer, 70_000));
      if (req.headers.has("range")) {
        if (mode === "ignore") return new Response(img.layer);
        return new Response(img.layer.slice(10), {
          status: 206,
          headers: { "content-range": `bytes 10-${img.layer.length - 1}/${img.layer.length}` },
        });
      }
    });
    const root = await tmpRoot();
    try {
      await pullFrom(fake, root);
      const stored = await Deno.readFile(`${root}/blobs/sha256/${img.layerDigest.slice(7)}`);
      assert.equal(sha(stored), img.layerDigest, mode);
    } finally {
      await fake.close();
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("faults: wrong blob content is refused and nothing is registered", async () => {
  const img = makeImage();
  const fake = startFake(img, (_req, url) => {
    if (url.pathname.endsWith(img.layerDigest)) {
      const bad = img.layer.slice();
      bad[5] ^= 1;
      return new Response(bad);
    }
  });
  const root = await tmpRoot();
  try {
    await assert.rejects(pullFrom(fake, root), /digest mismatch/);
    const idx = JSON.parse(await Deno.readTextFile(`${root}/index.json`));
    assert.deepEqual(idx.manifests, []);
    assert.deepEqual([...Deno.readDirSync(`${root}/blobs/sha256`)], []);
    assert.deepEqual([...Deno.readDirSync(`${root}/tmp`)].filter((e) => e.name.startsWith(".blob")), []);
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: a blob larger than its descriptor is cut off", async () => {
  const img = makeImage();
  const fake = startFake(img, (_req, url) => {
    if (url.pathname.endsWith(img.layerDigest)) {
      const more = new Uint8Array(img.layer.length + 10);
      more.set(img.layer);
      return new Response(more);
    }
  });
  const root = await tmpRoot();
  try {
    await assert.rejects(pullFrom(fake, root), /more data than the expected/);
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: oversized manifest, HTML instead of JSON, manifest digest mismatch", async () => {
  const img = makeImage();
  let mode = "big";
  const fake = startFake(img, (_r, url) => {
    if (!url.pathname.includes("/manifests/")) return;
    if (mode === "big") return new Response(new Uint8Array(5 * 1024 * 1024).fill(32));
    if (mode === "bigchunked") {
      let sent = 0;
      return new Response(
        new ReadableStream({
          pull(c) {
            if (sent > 6 * 1024 * 1024) return c.close();
            sent += 65536;
            c.enqueue(new Uint8Array(65536).fill(32));
          },
        }),
      );
    }
    if (mode === "html") {
      return new Response("<!DOCTYPE html><html><title>Login</title></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (mode === "htmlerror") {
      return new Response("<html><title>502 Bad Gateway</title></html>", {
        status: 404,
        headers: { "content-type": "text/html" },
      });
    }
    if (mode === "digest") return new Response(img.manifest.slice(0, -1));
  });
  const root = await tmpRoot();
  try {
    await assert.rejects(pullFrom(fake, root), /too large \(5242880 bytes, limit 4194304\)/);
    mode = "bigchunked";
    await assert.rejects(pullFrom(fake, root), /too large \(over 4194304 bytes\)/);
    mode = "html";
    await assert.rejects(pullFrom(fake, root), /HTML page/);
    mode = "htmlerror";
    await assert.rejects(pullFrom(fake, root), /HTML page "502 Bad Gateway" \(HTTP 404\)/);
    mode = "digest";
    await assert.rejects(
      pullImage(root, `${fake.host}/test/img@${img.manifestDigest}`, quick),
      /manifest digest mismatch/,
    );
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("faults: blob redirect to another host never carries Authorization", async () => {
  const img = makeImage();
  const storageSeen: Headers[] = [];
  const storage = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    storageSeen.push(req.headers);
    return serveBlob(req, img.layer);
  });
  const sport = (storage.addr as Deno.NetAddr).port;
  const fake = startFake(img, (req, url) => {
    if (req.headers.get("authorization") !== `Basic ${btoa("u:p")}`) {
      return new Response("no", { status: 401, headers: { "www-authenticate": 'Basic realm="fake"' } });
    }
    if (url.pathname.endsWith(img.layerDigest)) {
      return new Response(null, {
        status: 307,
        headers: { location: `http://127.0.0.1:${sport}/store/layer?sig=1` },
      });
    }
  });
  const root = await tmpRoot();
  try {
    await pullFrom(fake, root, { credentials: { username: "u", password: "p" } });
    assert.ok(storageSeen.length >= 1);
    for (const h of storageSeen) assert.equal(h.get("authorization"), null);
    assert.ok(fake.seen.some((s) => s.headers.get("authorization")));
  } finally {
    await fake.close();
    await storage.shutdown();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("auth: bearer token flow with scope, service and Basic to the token server", async () => {
  const img = makeImage();
  const tokenReqs: URL[] = [];
  let realm = "";
  const fake = startFake(img, (req, url) => {
    if (url.pathname === "/token") {
      tokenReqs.push(url);
      if (req.headers.get("authorization") !== `Basic ${btoa("u:p")}`) {
        return new Response("no", { status: 401 });
      }
      return Response.json({ access_token: "T0K" });
    }
    if (req.headers.get("authorization") !== "Bearer T0K") {
      return new Response("{}", {
        status: 401,
        headers: { "www-authenticate": `Bearer realm="${realm}",service="fake-reg"` },
      });
    }
  });
  realm = `http://${fake.host}/token`;
  const root = await tmpRoot();
  try {
    await pullFrom(fake, root, { credentials: { username: "u", password: "p" } });
    assert.ok(tokenReqs.length >= 1);
    assert.equal(tokenReqs.at(-1)!.searchParams.get("service"), "fake-reg");
    assert.equal(tokenReqs.at(-1)!.searchParams.get("scope"), "repository:test/img:pull");
    await assert.rejects(
      pullFrom(fake, root, { credentials: { username: "u", password: "wrong" } }),
      /invalid username\/password/,
    );
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("auth: malformed WWW-Authenticate and missing credentials are clear errors", async () => {
  const img = makeImage();
  let header = 'Bearer realm="http://x';
  const fake = startFake(
    img,
    () => new Response("", { status: 401, headers: { "www-authenticate": header } }),
  );
  const root = await tmpRoot();
  try {
    await assert.rejects(pullFrom(fake, root), /malformed WWW-Authenticate header .*unterminated/);
    header = 'Basic realm="r"';
    await assert.rejects(pullFrom(fake, root, { authFile: `${root}/none.json` }), /authentication required/);
    const client = new RegistryClient(fake.host, { ...quick, credentials: { username: "a", password: "b" } });
    await assert.rejects(client.ping(), /invalid username\/password/);
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("client: connection refused is bounded and clear", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const client = new RegistryClient(`127.0.0.1:${port}`, quick);
  await assert.rejects(client.getManifest("x/y", "latest"), /connection refused/i);
});

Deno.test("client: resume logic against a sink directly", async () => {
  const img = makeImage(200_000);
  const fake = startFake(img, (req, url, n) => {
    if (url.pathname.endsWith(img.layerDigest) && n <= 2) {
      const from = Number(/\d+/.exec(req.headers.get("range") ?? "0")?.[0] ?? 0);
      const part = img.layer.slice(from);
      const body = cutBody(part, 30_000);
      return from
        ? new Response(body, {
          status: 206,
          headers: { "content-range": `bytes ${from}-${img.layer.length - 1}/${img.layer.length}` },
        })
        : new Response(body);
    }
  });
  const root = await tmpRoot();
  try {
    const client = new RegistryClient(fake.host, quick);
    const w = await openBlobWriter(root, img.layerDigest, img.layer.length);
    const progress: number[] = [];
    await client.downloadBlob(
      "test/img",
      { mediaType: MediaType.OciLayerGzip, digest: img.layerDigest, size: img.layer.length },
      w,
      (d) => progress.push(d),
    );
    await w.commit();
    assert.equal(progress.at(-1), img.layer.length);
    const m = await client.getManifest("test/img", "latest");
    assert.equal(m.digest, img.manifestDigest);
    assert.equal(parseManifestDocument(m.bytes, m.contentType).kind, "manifest");
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
});
