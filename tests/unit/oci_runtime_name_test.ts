import assert from "node:assert/strict";
import { ociRuntimeName } from "../../lib/container/oci_runtime_name.ts";

Deno.test("--runtime: runc and crun (names or paths) run from a bundle; anything else is pod's own runtime", () => {
  assert.equal(ociRuntimeName("runc"), "runc");
  assert.equal(ociRuntimeName("/usr/bin/crun"), "crun");
  assert.equal(ociRuntimeName("crun-wasm"), undefined);
  assert.equal(ociRuntimeName("/opt/runc/bin/pod"), undefined);
  assert.equal(ociRuntimeName(undefined), undefined);
});
