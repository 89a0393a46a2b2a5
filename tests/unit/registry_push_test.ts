/**
 * The upload protocol of lib/registry/push.ts against small fake registries on 127.0.0.1: relative and absolute
 * `Location`s, chunked `PATCH` uploads with `Content-Range`, cross-repository mounts, `HEAD` skips, and no
 * credentials sent to an upload `Location` on another origin.
 */
import assert from "node:assert/strict";
import { RegistryClient } from "../../lib/registry/client.ts";
import { blobExists, manifestDigest, pushBlob, putManifest } from "../../lib/registry/push.ts";

interface Seen {
  method: string;
  path: string;
  auth: string | null;
  range: string | null;
  body: number;
}

function serve(handler: (req: Request, url: URL) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.body ? (await req.arrayBuffer()).byteLength : 0;
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      auth: req.headers.get("authorization"),
      range: req.headers.get("content-range"),
      body,
    });
    return await handler(req, url);
  });
  return { seen, host: `127.0.0.1:${server.addr.port}`, stop: () => server.shutdown() };
}

async function blobFile(bytes: Uint8Array): Promise<{ path: string; digest: string; size: number }> {
  const path = await Deno.makeTempFile();
  await Deno.writeFile(path, bytes);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  const digest = "sha256:" + Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
  return { path, digest, size: bytes.length };
}

Deno.test("pushBlob: relative Locations, chunked PATCH with Content-Range, closing PUT with the digest", async () => {
  const data = new Uint8Array(2500).map((_, i) => i % 251);
  const blob = await blobFile(data);
  let got = 0;
  const fake = serve((req, url) => {
    if (url.pathname === "/v2/") return new Response("{}");
    if (req.method === "HEAD") return new Response(null, { status: 404 });
    if (req.method === "POST") {
      return new Response(null, { status: 202, headers: { location: "/v2/r/blobs/uploads/u1?_state=a" } });
    }
    if (req.method === "PATCH") {
      got++;
      return new Response(null, {
        status: 202,
        headers: { location: `/v2/r/blobs/uploads/u1?_state=p${got}` },
      });
    }
    if (req.method === "PUT") return new Response(null, { status: 201 });
    return new Response(null, { status: 400 });
  });
  try {
    const c = new RegistryClient(fake.host, { maxTries: 1 });
    assert.equal(await pushBlob(c, "r", blob, { chunkSize: 1000 }), "uploaded");
    const s = fake.seen.filter((x) => x.path !== "/v2/");
    assert.deepEqual(s.map((x) => x.method), ["HEAD", "POST", "PATCH", "PATCH", "PATCH", "PUT"]);
    assert.deepEqual(s.filter((x) => x.method === "PATCH").map((x) => [x.range, x.body]), [
      ["0-999", 1000],
      ["1000-1999", 1000],
      ["2000-2499", 500],
    ]);
    assert.equal(s[3].path, "/v2/r/blobs/uploads/u1?_state=p1");
    assert.equal(s[5].path, `/v2/r/blobs/uploads/u1?_state=p3&digest=${encodeURIComponent(blob.digest)}`);
    assert.equal(s[5].body, 0);
  } finally {
    await fake.stop();
    await Deno.remove(blob.path);
  }
});

Deno.test("pushBlob: HEAD hit skips; a mount answered 201 uploads nothing; 202 falls back to its Location", async () => {
  const blob = await blobFile(new TextEncoder().encode("hello"));
  let mountOk = true;
  const fake = serve((req, url) => {
    if (url.pathname === "/v2/") return new Response("{}");
    if (req.method === "HEAD") {
      return new Response(null, { status: url.pathname.startsWith("/v2/has/") ? 200 : 404 });
    }
    if (req.method === "POST" && url.searchParams.get("mount")) {
      return mountOk
        ? new Response(null, { status: 201 })
        : new Response(null, { status: 202, headers: { location: "/v2/dst/blobs/uploads/m1" } });
    }
    if (req.method === "PUT") return new Response(null, { status: 201 });
    return new Response(null, { status: 400 });
  });
  try {
    const c = new RegistryClient(fake.host, { maxTries: 1 });
    assert.equal(await blobExists(c, "has", blob.digest), true);
    assert.equal(await pushBlob(c, "has", blob), "exists");
    assert.equal(await pushBlob(c, "dst", blob, { mountFrom: "src/repo" }), "mounted");
    const mount = fake.seen.find((x) => x.method === "POST")!;
    assert.equal(
      mount.path,
      `/v2/dst/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=src%2Frepo`,
    );
    mountOk = false;
    assert.equal(await pushBlob(c, "dst", blob, { mountFrom: "src/repo" }), "uploaded");
    const put = fake.seen.at(-1)!;
    assert.equal(put.method, "PUT");
    assert.equal(put.path, `/v2/dst/blobs/uploads/m1?digest=${encodeURIComponent(blob.digest)}`);
    assert.equal(put.body, 5);
  } finally {
    await fake.stop();
    await Deno.remove(blob.path);
  }
});

Deno.test("pushBlob: an absolute Location on another origin gets no credentials; manifest PUT by tag", async () => {
  const blob = await blobFile(new TextEncoder().encode("secret-free"));
  const other = serve((req) => new Response(null, { status: req.method === "PUT" ? 201 : 400 }));
  const basic = "Basic " + btoa("u:p");
  const fake = serve((req, url) => {
    if (req.headers.get("authorization") !== basic) {
      return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } });
    }
    if (url.pathname === "/v2/") return new Response("{}");
    if (req.method === "HEAD") return new Response(null, { status: 404 });
    if (req.method === "POST") {
      return new Response(null, { status: 202, headers: { location: `http://${other.host}/upload/x?s=1` } });
    }
    if (req.method === "PUT") {
      return new Response(null, {
        status: 201,
        headers: { "docker-content-digest": "sha256:" + "d".repeat(64) },
      });
    }
    return new Response(null, { status: 400 });
  });
  try {
    const c = new RegistryClient(fake.host, { maxTries: 1, credentials: { username: "u", password: "p" } });
    assert.equal(await pushBlob(c, "r", blob), "uploaded");
    assert.equal(other.seen.length, 1);
    assert.equal(other.seen[0].auth, null);
    assert.equal(other.seen[0].path, `/upload/x?s=1&digest=${encodeURIComponent(blob.digest)}`);
    const d = await putManifest(
      c,
      "r",
      "v1",
      "application/vnd.oci.image.manifest.v1+json",
      new TextEncoder().encode("{}"),
    );
    assert.equal(d, "sha256:" + "d".repeat(64));
    const m = fake.seen.at(-1)!;
    assert.deepEqual([m.method, m.path, m.auth], ["PUT", "/v2/r/manifests/v1", basic]);
  } finally {
    await fake.stop();
    await other.stop();
    await Deno.remove(blob.path);
  }
});

Deno.test("manifestDigest: the tag's digest from a HEAD; none on 404, 405 or a bad header; knownMissing skips HEAD", async () => {
  const good = "sha256:" + "e".repeat(64);
  const fake = serve((req, url) => {
    if (url.pathname === "/v2/") return new Response("{}");
    if (url.pathname === "/v2/r/manifests/v1") {
      return new Response(null, { status: 200, headers: { "docker-content-digest": good } });
    }
    if (url.pathname === "/v2/r/manifests/bad") {
      return new Response(null, { status: 200, headers: { "docker-content-digest": "md5:xyz" } });
    }
    if (url.pathname === "/v2/r/manifests/nohead") return new Response(null, { status: 405 });
    if (req.method === "POST") return new Response(null, { status: 202, headers: { location: "/up/1" } });
    if (req.method === "PUT") return new Response(null, { status: 201 });
    return new Response(null, { status: 404 });
  });
  const blob = await blobFile(new TextEncoder().encode("known missing"));
  try {
    const c = new RegistryClient(fake.host, { maxTries: 1 });
    const mt = "application/vnd.oci.image.manifest.v1+json";
    assert.equal(await manifestDigest(c, "r", "v1", mt), good);
    assert.equal(await manifestDigest(c, "r", "bad", mt), undefined);
    assert.equal(await manifestDigest(c, "r", "nohead", mt), undefined);
    assert.equal(await manifestDigest(c, "r", "gone", mt), undefined);
    const heads = fake.seen.filter((s) => s.method === "HEAD").length;
    assert.equal(await pushBlob(c, "r", blob, { knownMissing: true }), "uploaded");
    assert.equal(
      fake.seen.filter((s) => s.method === "HEAD").length,
      heads,
      "no HEAD for a known-missing blob",
    );
  } finally {
    await fake.stop();
    await Deno.remove(blob.path);
  }
});

Deno.test("prepare: a token registry's token is fetched once, before requests sent at once", async () => {
  let tokens = 0;
  const fake = serve((req, url) => {
    if (url.pathname === "/token") {
      tokens++;
      assert.equal(url.searchParams.get("scope"), "repository:r:pull,push");
      return Response.json({ token: "t0k" });
    }
    if (req.headers.get("authorization") !== "Bearer t0k") {
      return new Response(null, {
        status: 401,
        headers: { "www-authenticate": `Bearer realm="http://${url.host}/token",service="fake"` },
      });
    }
    return new Response(null, { status: 200 });
  });
  try {
    const c = new RegistryClient(fake.host, { maxTries: 1, anonymous: true });
    await c.prepare("r", true);
    const digests = Array.from({ length: 6 }, (_, i) => "sha256:" + String(i).repeat(64));
    const found = await Promise.all(digests.map((d) => blobExists(c, "r", d)));
    assert.deepEqual(found, digests.map(() => true));
    assert.equal(tokens, 1);
    const untokened = fake.seen.filter((s) => s.auth === null && !s.path.startsWith("/token"));
    assert.deepEqual(untokened.map((s) => s.path), ["/v2/"], "only the ping goes without the token");
  } finally {
    await fake.stop();
  }
});
