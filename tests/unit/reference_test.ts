import assert from "node:assert/strict";
import {
  familiarName,
  formatReference,
  normalizeReference,
  parseReference,
  storageName,
} from "../../lib/oci/reference.ts";

const D = "sha256:" + "ab".repeat(32);

Deno.test("reference: normalisation like podman", () => {
  const cases: [string, string][] = [
    ["alpine", "docker.io/library/alpine:latest"],
    ["alpine:3.19", "docker.io/library/alpine:3.19"],
    ["library/alpine", "docker.io/library/alpine:latest"],
    ["docker.io/alpine", "docker.io/library/alpine:latest"],
    ["docker.io/library/alpine:edge", "docker.io/library/alpine:edge"],
    ["index.docker.io/alpine:3", "docker.io/library/alpine:3"],
    ["registry-1.docker.io/user/app", "docker.io/user/app:latest"],
    ["user/app:1.0", "docker.io/user/app:1.0"],
    ["quay.io/ns/app", "quay.io/ns/app:latest"],
    ["quay.io/app", "quay.io/app:latest"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/ns/app:tag", "localhost:5000/ns/app:tag"],
    ["127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"],
    [`127.0.0.1:5000/app@${D}`, `127.0.0.1:5000/app@${D}`],
    [`app:tag@${D}`, `docker.io/library/app:tag@${D}`],
    [`app@${D}`, `docker.io/library/app@${D}`],
    ["[::1]:5000/app", "[::1]:5000/app:latest"],
    ["a/b/c/d:x", "docker.io/a/b/c/d:x"],
    ["foo_bar/b-a-z", "docker.io/foo_bar/b-a-z:latest"],
    ["a__b", "docker.io/library/a__b:latest"],
    ["a---b.c", "docker.io/library/a---b.c:latest"],
    ["localhost", "docker.io/library/localhost:latest"],
    ["localhost:5000", "docker.io/library/localhost:5000"],
    ["my-registry.example.com:443/team/app:v1.0-rc_1", "my-registry.example.com:443/team/app:v1.0-rc_1"],
    ["Foo/bar", "Foo/bar:latest"],
    ["busybox:" + "t".repeat(128), "docker.io/library/busybox:" + "t".repeat(128)],
    ["app:_tag", "docker.io/library/app:_tag"],
  ];
  for (const [input, want] of cases) {
    assert.equal(normalizeReference(input), want, input);
    assert.equal(String(parseReference(input)), want, input);
  }
});

Deno.test("reference: parts", () => {
  const r = parseReference(`localhost:5000/ns/app:v2@${D}`);
  assert.equal(r.registry, "localhost:5000");
  assert.equal(r.repository, "ns/app");
  assert.equal(r.tag, "v2");
  assert.equal(r.digest, D);
  const d = parseReference(`app@${D}`);
  assert.equal(d.tag, undefined);
  assert.equal(d.digest, D);
  const a = parseReference("alpine");
  assert.deepEqual([a.registry, a.repository, a.tag, a.digest], [
    "docker.io",
    "library/alpine",
    "latest",
    undefined,
  ]);
  assert.equal(formatReference(a), "docker.io/library/alpine:latest");
});

Deno.test("reference: familiar names and storage names", () => {
  assert.equal(familiarName(parseReference("alpine")), "alpine:latest");
  assert.equal(familiarName(parseReference("docker.io/user/app:1")), "user/app:1");
  assert.equal(familiarName(parseReference("quay.io/ns/app:1")), "quay.io/ns/app:1");
  assert.equal(familiarName(parseReference(`alpine@${D}`)), `alpine@${D}`);
  assert.equal(storageName(parseReference(`alpine:3@${D}`)), "docker.io/library/alpine:3");
  assert.equal(storageName(parseReference(`alpine@${D}`)), `docker.io/library/alpine@${D}`);
});

Deno.test("reference: invalid ones are rejected with a reason", () => {
  const cases: [string, RegExp][] = [
    ["", /empty reference/],
    ["  ", /empty reference/],
    [" alpine", /white space/],
    ["Alpine", /must be lowercase/],
    ["docker.io/Alpine", /must be lowercase/],
    ["quay.io/NS/app", /must be lowercase/],
    ["alpine:", /empty tag/],
    ["alpine:-bad", /invalid tag/],
    ["alpine:.x", /invalid tag/],
    ["alpine:a/b", /invalid registry domain/],
    ["alpine:" + "t".repeat(129), /invalid tag/],
    ["alpine:t@g", /invalid digest/],
    ["alpine@sha256:abc", /invalid digest/],
    ["alpine@sha256:" + "AB".repeat(32), /invalid digest/],
    ["alpine@md5:" + "ab".repeat(16), /unsupported digest algorithm/],
    ["alpine@sha512:" + "ab".repeat(64), /unsupported digest algorithm/],
    ["alpine@", /empty digest/],
    ["@" + D, /missing repository/],
    [":tag", /missing repository/],
    ["/alpine", /empty path component|missing repository/],
    ["alpine/", /empty path component/],
    ["a//b", /empty path component/],
    ["-alpine", /invalid repository name component/],
    ["alpine_", /invalid repository name component/],
    ["a___b", /invalid repository name component/],
    ["a..b", /invalid repository name component/],
    ["localhost:abc/x", /invalid registry domain/],
    ["-host.io/x", /invalid registry domain/],
    ["ab".repeat(32), /hexadecimal/],
    ["https://docker.io/alpine", /URL scheme/],
    ["alpine latest", /invalid/],
    ["quay.io/" + "a".repeat(250), /longer than 255/],
    ["quay.io/", /missing repository/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseReference(input), (e: Error) => {
      assert.match(e.message, re, `${JSON.stringify(input)} → ${e.message}`);
      assert.ok(!e.message.includes("\n"));
      return true;
    }, JSON.stringify(input));
  }
});
