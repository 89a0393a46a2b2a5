/**
 * Fuzzing the manifest, index and config parsers (`lib/oci/manifest.ts`), seeded and bounded in time: valid
 * documents mutated structurally (values swapped for other JSON types, keys dropped, huge/negative numbers,
 * bad digests) and byte-wise either parse into the promised shape or throw a plain `Error` with a message —
 * never a TypeError/RangeError from reading a field that is not there.
 */
import assert from "node:assert/strict";
import {
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
  parseManifestDocument,
} from "../../lib/oci/manifest.ts";
import { seededRandom as rng } from "../helpers/fixtures.ts";

const SEED = Number(Deno.env.get("POD_FUZZ_SEED") ?? 7331);
const BUDGET_MS = 2500; // a time budget, but the loop below never stops short of its minimum (a loaded CI machine)

const D = (c: string) => "sha256:" + c.repeat(64);
const MANIFEST = {
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: D("a"), size: 100 },
  layers: [
    { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: D("b"), size: 1000 },
    {
      mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
      digest: D("c"),
      size: 2000,
      annotations: { a: "b" },
    },
  ],
  annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
};
const INDEX = {
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    {
      mediaType: MANIFEST.mediaType,
      digest: D("d"),
      size: 500,
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: MANIFEST.mediaType,
      digest: D("e"),
      size: 500,
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
    },
  ],
};
const CONFIG = {
  created: "2024-01-01T00:00:00Z",
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/bin"], Cmd: ["sh"], Entrypoint: null, WorkingDir: "/", Labels: { a: "b" } },
  rootfs: { type: "layers", diff_ids: [D("f"), D("0")] },
  history: [{ created: "2024-01-01T00:00:00Z", created_by: "x" }, { empty_layer: true }],
};

const ODD: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  "",
  "x",
  "sha256:zz",
  D("A"),
  [],
  [null],
  {},
  { digest: 1 },
  "a".repeat(10_000),
];

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

/** Replaces or deletes a random node of `doc` (in place). */
function mutate(doc: unknown, r: () => number): void {
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (nodes.push({ parent: v, key: i }), walk(x)));
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        nodes.push({ parent: v as Record<string, unknown>, key: k }), walk(x);
      }
    }
  };
  walk(doc);
  if (nodes.length === 0) return;
  const n = nodes[Math.floor(r() * nodes.length)];
  const p = n.parent as Record<string | number, unknown>;
  if (r() < 0.25 && !Array.isArray(n.parent)) delete p[n.key];
  else p[n.key] = clone(ODD[Math.floor(r() * ODD.length)]);
}

function clean(f: () => unknown, what: string): unknown {
  try {
    return f();
  } catch (e) {
    assert.ok(e instanceof Error, `${what}: non-Error thrown`);
    assert.ok(
      !(e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError),
      `${what}: ${(e as Error).name}: ${(e as Error).message}`,
    );
    assert.ok((e as Error).message.length > 0, `${what}: empty message`);
    return undefined;
  }
}

const enc = new TextEncoder();

Deno.test("fuzz manifest: the unmutated documents parse", () => {
  const m = parseImageManifest(JSON.stringify(MANIFEST));
  assert.equal(m.layers.length, 2);
  assert.equal(parseImageIndex(JSON.stringify(INDEX)).manifests.length, 2);
  assert.equal(parseImageConfig(JSON.stringify(CONFIG)).rootfs.diff_ids.length, 2);
  assert.equal(parseManifestDocument(JSON.stringify(INDEX)).kind, "index");
});

Deno.test("fuzz manifest: structural and byte mutations give a shape or a clean Error", () => {
  const r = rng(SEED);
  const end = Date.now() + BUDGET_MS;
  let n = 0, parsed = 0, rejected = 0;
  while ((Date.now() < end || n <= 500) && n < 50_000) {
    const base = [MANIFEST, INDEX, CONFIG][n % 3];
    const doc = clone(base);
    const times = 1 + Math.floor(r() * 3);
    for (let i = 0; i < times; i++) mutate(doc, r);
    let text = JSON.stringify(doc);
    if (r() < 0.3) {
      // byte-level damage: flip, cut, or insert
      const b = enc.encode(text);
      const at = Math.floor(r() * b.length);
      const k = r();
      if (k < 0.4) b[at] ^= 1 << Math.floor(r() * 8);
      text = k < 0.4
        ? new TextDecoder().decode(b)
        : k < 0.7
        ? text.slice(0, at)
        : text.slice(0, at) + "\u0000{" +
          text.slice(at);
    }
    const label = `#${n} ${text.slice(0, 200)}`;
    const results = [
      clean(() => parseManifestDocument(text), label),
      clean(
        () => parseManifestDocument(enc.encode(text), "application/vnd.docker.distribution.manifest.v2+json"),
        label,
      ),
      clean(() => parseImageManifest(text), label),
      clean(() => parseImageIndex(text), label),
      clean(() => parseImageConfig(text), label),
    ];
    const m = results[2] as { layers?: unknown; config?: { digest?: unknown } } | undefined;
    if (m) {
      assert.ok(Array.isArray(m.layers), `${label}: manifest without layers array`);
      assert.equal(typeof m.config?.digest, "string", `${label}: config digest`);
      for (const l of m.layers as { digest: unknown; size: unknown }[]) {
        assert.match(
          String(l.digest),
          /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/,
          `${label}: layer digest`,
        );
        assert.ok(Number.isSafeInteger(l.size) && (l.size as number) >= 0, `${label}: layer size ${l.size}`);
      }
    }
    const ix = results[3] as { manifests?: unknown } | undefined;
    if (ix) assert.ok(Array.isArray(ix.manifests), `${label}: index without manifests`);
    const c = results[4] as { rootfs?: { diff_ids?: unknown } } | undefined;
    if (c) assert.ok(Array.isArray(c.rootfs?.diff_ids), `${label}: config without diff_ids`);
    if (results.some((x) => x !== undefined)) parsed++;
    else rejected++;
    n++;
  }
  assert.ok(n > 500, `only ${n} iterations`);
  assert.ok(parsed > 0 && rejected > 0, `parsed ${parsed}, rejected ${rejected}`);
});
