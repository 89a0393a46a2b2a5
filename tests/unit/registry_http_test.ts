import assert from "node:assert/strict";
import {
  envTimeoutMs,
  errorBodyMessage,
  isLoopbackHost,
  originOf,
  parseRetryAfter,
  transportMessage,
} from "../../lib/registry/http.ts";
import { registryEndpoint } from "../../lib/registry/client.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("http: loopback hosts (plain HTTP and credentials allowed only there)", () => {
  for (
    const h of ["localhost", "localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]", "[::1]:5000", "::1"]
  ) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (
    const h of ["example.com", "10.0.0.1", "128.0.0.1", "192.0.2.2:5000", "[::2]", "localhost.example.com"]
  ) {
    assert.ok(!isLoopbackHost(h), h);
  }
});

Deno.test("http: origins compare scheme, host and port", () => {
  assert.equal(originOf(new URL("https://a.io/x")), originOf(new URL("https://a.io:443/y")));
  assert.notEqual(originOf(new URL("https://a.io/x")), originOf(new URL("http://a.io/x")));
  assert.notEqual(originOf(new URL("http://127.0.0.1:1/")), originOf(new URL("http://127.0.0.1:2/")));
});

Deno.test("http: Retry-After", () => {
  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter("soon"), undefined);
  const now = Date.parse("2024-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Mon, 01 Jan 2023 00:00:05 GMT", now), 0);
});

Deno.test("http: registry error bodies become one line", () => {
  assert.equal(
    errorBodyMessage(
      enc('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}'),
      null,
    ),
    "manifest unknown",
  );
  assert.equal(
    errorBodyMessage(enc('{"errors":[{"code":"DENIED","message":"requested access\\nis denied"}]}'), null),
    "denied: requested access is denied",
  );
  assert.equal(errorBodyMessage(enc('{"details":"bad token"}'), null), "bad token");
  assert.equal(errorBodyMessage(enc("<html><title>Oops</title></html>"), "text/html"), 'HTML page "Oops"');
  assert.equal(errorBodyMessage(enc("plain\ntext"), "text/plain"), "plain text");
  assert.equal(errorBodyMessage(enc(""), null), "");
  assert.ok(errorBodyMessage(enc("x".repeat(1000)), null).length <= 301);
});

Deno.test("http: transport messages and settings", () => {
  const e = new TypeError("fetch failed", {
    cause: new Error(
      "error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp connect error: Connection refused (os error 111)",
    ),
  });
  assert.equal(transportMessage(e), "Connection refused (os error 111)");
  const old = Deno.env.get("POD_REGISTRY_TIMEOUT_MS");
  try {
    Deno.env.set("POD_REGISTRY_TIMEOUT_MS", "1234");
    assert.equal(envTimeoutMs(), 1234);
    Deno.env.set("POD_REGISTRY_TIMEOUT_MS", "nope");
    assert.equal(envTimeoutMs(), 30_000);
  } finally {
    if (old === undefined) Deno.env.delete("POD_REGISTRY_TIMEOUT_MS");
    else Deno.env.set("POD_REGISTRY_TIMEOUT_MS", old);
  }
  assert.equal(registryEndpoint("docker.io"), "registry-1.docker.io");
  assert.equal(registryEndpoint("quay.io"), "quay.io");
});
