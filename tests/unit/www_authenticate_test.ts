import assert from "node:assert/strict";
import { parseWwwAuthenticate } from "../../lib/registry/www_authenticate.ts";

Deno.test("www-authenticate: bearer", () => {
  const [c] = parseWwwAuthenticate(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
  );
  assert.equal(c.scheme, "bearer");
  assert.deepEqual(c.params, {
    realm: "https://auth.docker.io/token",
    service: "registry.docker.io",
    scope: "repository:library/alpine:pull",
  });
});

Deno.test("www-authenticate: spaces, unquoted values, escapes, case", () => {
  const [c] = parseWwwAuthenticate('bearer  Realm = "http://127.0.0.1:1/t" , service=reg, error="a \\"b\\""');
  assert.deepEqual(c.params, { realm: "http://127.0.0.1:1/t", service: "reg", error: 'a "b"' });
});

Deno.test("www-authenticate: basic and several challenges", () => {
  assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [
    { scheme: "basic", params: { realm: "Registry Realm" } },
  ]);
  const cs = parseWwwAuthenticate('Basic realm="x", Bearer realm="https://a/t",service="s"');
  assert.deepEqual(cs.map((c) => c.scheme), ["basic", "bearer"]);
  assert.equal(cs[1].params.service, "s");
  assert.deepEqual(parseWwwAuthenticate("Basic"), [{ scheme: "basic", params: {} }]);
});

Deno.test("www-authenticate: malformed is a clear error", () => {
  const bad: [string, RegExp][] = [
    ["", /no challenge/],
    ['Bearer realm="https://x', /unterminated/],
    ["Bearer realm=", /no value/],
    ['Bearer service="x"', /without realm/],
    ['realm="x"', /before any scheme/],
    ['Bearer realm="a" service="b"', /expected ","/],
    ["Bearer realm=@", /no value/],
  ];
  for (const [h, re] of bad) {
    assert.throws(() => parseWwwAuthenticate(h), (e: Error) => {
      assert.match(e.message, /malformed WWW-Authenticate/);
      assert.match(e.message, re, h);
      return true;
    });
  }
});
