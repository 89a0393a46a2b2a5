import assert from "node:assert/strict";
import type { Descriptor } from "../../lib/oci/manifest.ts";
import {
  formatPlatform,
  hostPlatform,
  normalizeArch,
  parsePlatform,
  platformMatches,
  selectPlatformManifest,
} from "../../lib/oci/platform.ts";

const d = (n: number, os: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: "sha256:" + String(n).repeat(64).slice(0, 64),
  size: n,
  platform: variant ? { os, architecture, variant } : { os, architecture },
});

Deno.test("platform: host mapping", () => {
  assert.deepEqual(hostPlatform({ os: "linux", arch: "x86_64" }), { os: "linux", architecture: "amd64" });
  assert.deepEqual(hostPlatform({ os: "linux", arch: "aarch64" }), {
    os: "linux",
    architecture: "arm64",
    variant: "v8",
  });
  assert.equal(normalizeArch("x86_64"), "amd64");
  assert.equal(normalizeArch("aarch64"), "arm64");
});

Deno.test("platform: parse", () => {
  assert.deepEqual(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64" });
  assert.deepEqual(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" });
  assert.deepEqual(parsePlatform("linux/x86_64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/arm64/8"), { os: "linux", architecture: "arm64", variant: "v8" });
  for (const bad of ["linux", "linux/", "/amd64", "a/b/c/d", ""]) {
    assert.throws(() => parsePlatform(bad), /invalid platform/);
  }
  assert.equal(formatPlatform({ os: "linux", architecture: "arm", variant: "v6" }), "linux/arm/v6");
});

Deno.test("platform: matching and choice", () => {
  const entries = [
    d(1, "linux", "amd64"),
    d(2, "linux", "arm", "v6"),
    d(3, "linux", "arm", "v7"),
    d(4, "linux", "arm64", "v8"),
    d(5, "unknown", "unknown"),
    d(6, "windows", "amd64"),
  ];
  assert.equal(selectPlatformManifest(entries, parsePlatform("linux/amd64"))?.size, 1);
  assert.equal(selectPlatformManifest(entries, parsePlatform("linux/arm64"))?.size, 4);
  assert.equal(selectPlatformManifest(entries, parsePlatform("linux/arm64/v8"))?.size, 4);
  assert.equal(selectPlatformManifest(entries, parsePlatform("linux/arm/v6"))?.size, 2);
  assert.equal(selectPlatformManifest(entries, parsePlatform("linux/arm"))?.size, 3); // default v7
  assert.equal(selectPlatformManifest(entries, parsePlatform("windows/amd64"))?.size, 6);
  assert.equal(selectPlatformManifest(entries, parsePlatform("linux/s390x")), undefined);
  assert.equal(selectPlatformManifest(entries, parsePlatform("linux/arm/v5")), undefined);
  // arm64 without variant matches arm64/v8
  assert.ok(platformMatches(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64" }));
  assert.ok(!platformMatches(parsePlatform("linux/amd64"), undefined));
  // attestation manifests are never chosen
  assert.equal(selectPlatformManifest([d(5, "unknown", "unknown")], hostPlatform()), undefined);
});
