/** `RUN --mount` option parsing (lib/build/run_mount_spec.ts) and the RUN layer's mount-stub filter. @module */

import assert from "node:assert/strict";
import { parseRunMount, RunMountError } from "../../lib/build/run_mount_spec.ts";
import { withoutMountStubs } from "../../lib/build/run_mounts.ts";
import type { TarWriteEntry } from "../../lib/unpack/tar_write.ts";

Deno.test("RUN --mount: defaults per type", () => {
  assert.deepEqual(parseRunMount("target=/src"), { type: "bind", target: "/src", readonly: true });
  assert.deepEqual(parseRunMount("type=bind,src=a/b,dst=/x/../y,rw"), {
    type: "bind",
    target: "/y",
    source: "a/b",
    readonly: false,
  });
  assert.deepEqual(parseRunMount("type=cache,target=/root/.cache,sharing=locked,mode=0700,uid=1000"), {
    type: "cache",
    target: "/root/.cache",
    readonly: false,
    id: "/root/.cache",
    sharing: "locked",
    mode: 0o700,
    uid: 1000,
  });
  assert.deepEqual(parseRunMount("type=tmpfs,target=/t,size=2m"), {
    type: "tmpfs",
    target: "/t",
    readonly: false,
    size: 2 * 1024 * 1024,
  });
  assert.deepEqual(parseRunMount("type=secret,id=tok"), {
    type: "secret",
    target: "/run/secrets/tok",
    readonly: true,
    id: "tok",
  });
  assert.equal(parseRunMount("type=secret,target=/etc/key,required").id, "key");
  assert.equal(parseRunMount("type=secret,id=a,required=true").required, true);
});

Deno.test("RUN --mount: bad options are errors", () => {
  for (
    const [spec, msg] of [
      ["type=volume,target=/x", /unsupported mount type "volume"/],
      ["type=bind", /needs a target/],
      ["type=cache,target=/c,bogus=1", /unknown option "bogus" for a cache mount/],
      ["type=bind,target=/c,size=1", /unknown option "size" for a bind mount/],
      ["type=cache,target=/c,sharing=maybe", /invalid sharing/],
      ["type=cache,target=/c,mode=999", /want octal/],
      ["type=tmpfs,target=/t,size=lots", /invalid tmpfs size/],
      ["type=secret", /needs an id/],
      ["target=/", /cannot be \//],
      ["target=/x,ro=maybe", /want true or false/],
    ] as const
  ) {
    assert.throws(
      () => parseRunMount(spec),
      (e: Error) => e instanceof RunMountError && msg.test(e.message),
      spec,
    );
  }
});

Deno.test("RUN layer: mount points left out, their parents only when nothing else is under them", async () => {
  const mtime = { sec: 0, nsec: 0 };
  const d = (name: string): TarWriteEntry => ({ name, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime });
  const f = (name: string): TarWriteEntry => ({
    name,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime,
    size: 0,
  });
  const input = [
    d("etc"),
    f("etc/tok"),
    d("run"),
    d("run/secrets"),
    f("run/secrets/a"),
    f("run/x"),
    d("c"),
    f("z"),
  ];
  const out: string[] = [];
  const filter = withoutMountStubs(["/etc/tok", "/run/secrets/a", "/c"]);
  for await (
    const e of filter((async function* () {
      yield* input;
    })())
  ) out.push(e.name);
  assert.deepEqual(out, ["run", "run/x", "z"]);
});
