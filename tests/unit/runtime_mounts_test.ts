import assert from "node:assert/strict";
import { parseMount, parseMountFlags, parseTmpfs, parseVolume } from "../../lib/container/mount_options.ts";
import { launchMounts } from "../../lib/container/launch_spec.ts";
import type { ContainerConfig } from "../../lib/store/containers.ts";

Deno.test("-v host bind with options", () => {
  const m = parseVolume("/srv/data:/data:ro,rslave");
  assert.equal(m.type, "bind");
  assert.equal(m.source, "/srv/data");
  assert.equal(m.destination, "/data");
  assert.equal(m.readonly, true);
  assert.equal(m.propagation, "rslave");
});

Deno.test("-v named volume and anonymous volume", () => {
  const n = parseVolume("cache:/var/cache");
  assert.equal(n.type, "volume");
  assert.equal(n.name, "cache");
  assert.equal(n.readonly, false);
  const a = parseVolume("/scratch");
  assert.equal(a.type, "volume");
  assert.equal(a.anonymous, true);
  assert.equal(a.destination, "/scratch");
  const b = parseVolume("/scratch:ro");
  assert.equal(b.anonymous, true);
  assert.equal(b.readonly, true);
});

Deno.test("-v accepts z, Z, U, bind and cleans the destination", () => {
  const m = parseVolume("/a:/b/../c/:z,Z,U,bind");
  assert.equal(m.destination, "/c");
  assert.equal(m.recursive, false);
});

Deno.test("-v rejects bad specs", () => {
  assert.throws(() => parseVolume("/a:/b:bogus"), /invalid option type "bogus"/);
  assert.throws(() => parseVolume("/a:/b:ro,rw"), /more than once/);
  assert.throws(() => parseVolume("/a:rel"), /invalid option type "rel"/);
  assert.throws(() => parseVolume("/a:rel/x"), /must be an absolute path/);
  assert.throws(() => parseVolume("relative"), /must be an absolute path/);
  assert.throws(() => parseVolume("a:b:c:d"), /incorrect volume format/);
  assert.throws(() => parseVolume("/a:/b:O"), /overlay/);
  assert.throws(() => parseVolume("bad name!:/x"), /invalid volume name/);
});

Deno.test("--mount bind and tmpfs", () => {
  const b = parseMount("type=bind,source=/x,target=/y,readonly,bind-propagation=rshared");
  assert.deepEqual([b.type, b.source, b.destination, b.readonly, b.propagation], [
    "bind",
    "/x",
    "/y",
    true,
    "rshared",
  ]);
  const b2 = parseMount("type=bind,src=/x,dst=/y,ro=false");
  assert.equal(b2.readonly, false);
  const t = parseMount("type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1777");
  assert.equal(t.type, "tmpfs");
  assert.equal(t.data, "size=64m,mode=1777");
  const v = parseMount("type=volume,source=vol,destination=/v");
  assert.equal(v.name, "vol");
});

Deno.test("--mount errors", () => {
  assert.throws(() => parseMount("type=bind,target=/y"), /must set source/);
  assert.throws(() => parseMount("type=bind,source=/x"), /must set target or destination/);
  assert.throws(() => parseMount("type=nfs,target=/y"), /invalid filesystem type/);
  assert.throws(() => parseMount("type=bind,source=/x,target=/y,wat=1"), /unknown mount option/);
  assert.throws(() => parseMount("type=bind,source=/x,target=/y,tmpfs-size=1m"), /only supported with tmpfs/);
});

Deno.test("--tmpfs options", () => {
  const t = parseTmpfs("/run:rw,size=100k,mode=0755,noexec");
  assert.equal(t.destination, "/run");
  assert.equal(t.data, "size=100k,mode=0755");
  assert.equal(parseTmpfs("/ro:ro").readonly, true);
  assert.throws(() => parseTmpfs("/x:bogus"), /invalid option/);
  assert.throws(() => parseTmpfs("x"), /absolute/);
});

Deno.test("duplicate mount destinations are refused", () => {
  assert.throws(() => parseMountFlags(["/a:/d"], [], ["/d"]), /duplicate mount destination/);
  assert.equal(parseMountFlags(["/a:/d"], ["type=tmpfs,dst=/e"], ["/f"]).length, 3);
});

Deno.test("launchMounts: --read-only adds tmpfs /run, /tmp, /var/tmp (podman's --read-only-tmpfs), parents first; a user mount there wins", () => {
  const config = (readOnly: boolean, mounts: ReturnType<typeof parseMountFlags>) =>
    ({ readOnly, mounts }) as unknown as ContainerConfig;
  assert.deepEqual(launchMounts(config(false, [])), []);
  const ro = launchMounts(config(true, parseMountFlags(["/srv:/run/host"], [], [])));
  assert.deepEqual(ro.map((m) => [m.type, m.destination, m.readonly]), [
    ["tmpfs", "/run", false],
    ["tmpfs", "/tmp", false],
    ["tmpfs", "/var/tmp", false],
    ["bind", "/run/host", false],
  ]);
  const own = launchMounts(config(true, parseMountFlags([], [], ["/tmp:size=1m"])));
  assert.deepEqual(own.map((m) => [m.destination, m.data]), [
    ["/run", undefined],
    ["/tmp", "size=1m"],
    ["/var/tmp", undefined],
  ]);
});
