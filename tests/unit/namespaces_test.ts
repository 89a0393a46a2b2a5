import assert from "node:assert/strict";
import { nsMode } from "../../lib/container/namespaces.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("nsMode: host, private, empty or absent for every namespace flag", () => {
  for (const flag of ["pid", "ipc", "uts", "network"]) {
    assert.equal(nsMode(flag, "host"), "host");
    assert.equal(nsMode(flag, "private"), "private");
    assert.equal(nsMode(flag, ""), "private");
    assert.equal(nsMode(flag, undefined), "private");
  }
});

Deno.test("nsMode: --network takes podman's network modes and network names, each a network namespace of its own", () => {
  for (
    const v of [
      "none",
      "bridge",
      "slirp4netns",
      "slirp4netns:port_handler=slirp4netns",
      "pasta",
      "default",
      "mynet",
    ]
  ) {
    assert.equal(nsMode("network", v), "private", v);
  }
});

Deno.test("nsMode: anything else is a usage error naming the flag (create and update alike)", () => {
  assert.equal(nsMode("network", "container:web"), "container:web");
  assert.equal(nsMode("ipc", "ns:/run/x"), "ns:/run/x");
  assert.throws(() => nsMode("uts", "ns:relative"), /ns: needs an absolute path/);
  // --network: any other value is a mode or a network's name (a namespace of its own; lib/network/mode.ts
  // validates it), so the usage error is the other flags'
  assert.equal(nsMode("network", "weird"), "private");
  assert.throws(() => nsMode("ipc", "weird"), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(
      e.message,
      'invalid value "weird" for --ipc: use host, private, container:ID or ns:PATH',
    );
    assert.equal(e.exitCode, 125);
    return true;
  });
  assert.throws(() => nsMode("pid", "none"), /invalid value "none" for --pid/);
});
