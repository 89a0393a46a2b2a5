import assert from "node:assert/strict";
import { insecureRegistries } from "../../lib/registry/registries_conf.ts";

Deno.test("registries.conf: v2 [[registry]] insecure entries, v1 [registries.insecure], mirrors and paths ignored", () => {
  const v2 = `
unqualified-search-registries = ["docker.io"]  # a comment

[[registry]]
location = "127.0.0.1:5000"
insecure = true

[[registry]]
prefix = "example.com:8443"
location = "mirror.example.com"
insecure = true

[[registry]]
location = "secure.example.com"
insecure = false

[[registry]]
location = "quay.io"
[[registry.mirror]]
location = "mirror.local"
insecure = true

[[registry]]
location = "example.org/only/this/repo"
insecure = true
`;
  assert.deepEqual(insecureRegistries(v2), ["127.0.0.1:5000", "example.com:8443"]);
  const v1 = `
[registries.search]
registries = ['docker.io']

[registries.insecure]
registries = [
  'localhost:5000',  # one
  "10.0.0.1:5000",
]
`;
  assert.deepEqual(insecureRegistries(v1), ["localhost:5000", "10.0.0.1:5000"]);
  assert.deepEqual(insecureRegistries(""), []);
});
