import assert from "node:assert/strict";
import {
  checkRunnableManifest,
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
  parseManifestDocument,
} from "../../lib/oci/manifest.ts";
import { MediaType } from "../../lib/oci/media_types.ts";
import { validateDigest } from "../../lib/oci/digest.ts";

const D1 = "sha256:" + "1".repeat(64);
const D2 = "sha256:" + "2".repeat(64);
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

const ociManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: D1, size: 10 },
  layers: [{ mediaType: MediaType.OciLayerGzip, digest: D2, size: 20 }],
};

Deno.test("manifest: OCI and Docker manifests parse", () => {
  const m = parseImageManifest(enc(ociManifest));
  assert.equal(m.mediaType, MediaType.OciManifest);
  assert.equal(m.layers[0].digest, D2);
  checkRunnableManifest(m);
  const docker = {
    ...ociManifest,
    mediaType: MediaType.DockerManifest,
    config: { ...ociManifest.config, mediaType: MediaType.DockerConfig },
    layers: [{ mediaType: MediaType.DockerLayerGzip, digest: D2, size: 20 }],
  };
  const dm = parseImageManifest(enc(docker));
  assert.equal(dm.mediaType, MediaType.DockerManifest);
  checkRunnableManifest(dm);
});

Deno.test("manifest: media type from Content-Type or structure when the body has none", () => {
  const { mediaType: _, ...bare } = ociManifest;
  assert.equal(parseImageManifest(enc(bare), MediaType.DockerManifest).mediaType, MediaType.DockerManifest);
  assert.equal(parseImageManifest(enc(bare)).mediaType, MediaType.OciManifest);
  const idx = { schemaVersion: 2, manifests: [] };
  assert.equal(parseManifestDocument(enc(idx)).kind, "index");
  assert.equal(
    parseImageIndex(enc(idx), MediaType.DockerManifestList).mediaType,
    MediaType.DockerManifestList,
  );
});

Deno.test("manifest: index entries with platforms", () => {
  const idx = parseImageIndex(enc({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      {
        mediaType: MediaType.OciManifest,
        digest: D1,
        size: 5,
        platform: { os: "linux", architecture: "amd64" },
      },
      {
        mediaType: MediaType.OciManifest,
        digest: D2,
        size: 6,
        platform: { os: "linux", architecture: "arm64", variant: "v8" },
      },
    ],
  }));
  assert.equal(idx.manifests.length, 2);
  assert.deepEqual(idx.manifests[1].platform, { os: "linux", architecture: "arm64", variant: "v8" });
});

Deno.test("manifest: schema 1 refused clearly", () => {
  assert.throws(() => parseManifestDocument(enc({ schemaVersion: 1, name: "x", fsLayers: [] })), /schema 1/);
  assert.throws(
    () => parseManifestDocument(enc({ schemaVersion: 2 }), MediaType.DockerSchema1Signed),
    /schema 1/,
  );
});

Deno.test("manifest: malformed documents are rejected", () => {
  const bad: [unknown, RegExp][] = [
    [[], /not a JSON object/],
    [{ schemaVersion: 3 }, /schemaVersion/],
    [{ ...ociManifest, config: undefined }, /no config/],
    [{ ...ociManifest, layers: "x" }, /no layers/],
    [{ ...ociManifest, layers: [{ mediaType: "x", digest: "sha256:abc", size: 1 }] }, /invalid digest/],
    [{ ...ociManifest, layers: [{ mediaType: "x", digest: D1, size: -1 }] }, /invalid size/],
    [{ ...ociManifest, layers: [{ mediaType: "x", digest: D1, size: 1.5 }] }, /invalid size/],
    [{ ...ociManifest, layers: [{ digest: D1, size: 1 }] }, /no mediaType/],
    [{ ...ociManifest, annotations: { a: 1 } }, /annotation/],
    [{ schemaVersion: 2, mediaType: "application/vnd.foo+json" }, /unsupported manifest media type/],
    [{ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{}] }, /index entry 0/],
  ];
  for (const [doc, re] of bad) assert.throws(() => parseManifestDocument(enc(doc)), re, JSON.stringify(doc));
  assert.throws(() => parseManifestDocument("<!DOCTYPE html><html>hi</html>"), /HTML page/);
  assert.throws(() => parseManifestDocument("{nope"), /not valid JSON/);
  assert.throws(() => parseImageIndex(enc(ociManifest)), /expected an image index/);
});

Deno.test("manifest: not-runnable artifacts are refused", () => {
  const art = parseImageManifest(enc({
    ...ociManifest,
    config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: D1, size: 1 },
  }));
  assert.throws(() => checkRunnableManifest(art), /not a container image/);
  const foreign = parseImageManifest(enc({
    ...ociManifest,
    layers: [{ mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", digest: D2, size: 1 }],
  }));
  assert.throws(() => checkRunnableManifest(foreign), /foreign layers/);
});

Deno.test("config: validation", () => {
  const good = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [D1] }, config: {} };
  assert.equal(parseImageConfig(enc(good)).architecture, "amd64");
  assert.throws(() => parseImageConfig(enc({ ...good, os: 1 })), /architecture/);
  assert.throws(() => parseImageConfig(enc({ ...good, rootfs: {} })), /diff_ids/);
  assert.throws(() => parseImageConfig(enc({ ...good, rootfs: { diff_ids: ["x"] } })), /diff_id/);
  assert.throws(() => parseImageConfig(enc({ ...good, config: [] })), /must be an object/);
});

Deno.test("digest: validation", () => {
  assert.equal(validateDigest(D1), D1);
  assert.throws(() => validateDigest("sha256:" + "A".repeat(64)), /invalid digest/);
  assert.throws(() => validateDigest("nonsense"), /invalid digest/);
  assert.throws(() => validateDigest("sha512:" + "a".repeat(128)), /unsupported/);
});

Deno.test("convert: Docker schema 2 → OCI keeps blobs, OCI stays as is", async () => {
  const { toOciManifest } = await import("../../lib/oci/convert.ts");
  const docker = parseImageManifest(enc({
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: { mediaType: MediaType.DockerConfig, digest: D1, size: 10 },
    layers: [{ mediaType: MediaType.DockerLayerGzip, digest: D2, size: 20 }],
  }));
  const { manifest, bytes } = toOciManifest(docker);
  assert.ok(bytes);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes)), manifest);
  assert.equal(manifest.mediaType, MediaType.OciManifest);
  assert.deepEqual(manifest.config, { mediaType: MediaType.OciConfig, digest: D1, size: 10 });
  assert.deepEqual(manifest.layers, [{ mediaType: MediaType.OciLayerGzip, digest: D2, size: 20 }]);
  checkRunnableManifest(manifest);
  const oci = parseImageManifest(enc(ociManifest));
  assert.equal(toOciManifest(oci).bytes, undefined);
});
