/**
 * Unit tests of the image archive and commit helpers: archive path cleaning and link resolution inside an
 * archive, hostile archive indexing, `--change` parsing, the upper-dir → layer rewrite, push destinations and
 * manifest conversion, upload Locations.
 */
import assert from "node:assert/strict";
import { cleanArchivePath, indexArchive, lookupMember } from "../../lib/image/archive_read.ts";
import { applyChanges, splitWords } from "../../lib/image/changes.ts";
import { layerEntries } from "../../lib/image/commit_layer.ts";
import { localImageName as commitName } from "../../lib/image/new_image.ts";
import { convertManifest, parseDestination } from "../../lib/image/push.ts";
import { withDigest } from "../../lib/registry/push.ts";
import { readTar } from "../../lib/unpack/tar.ts";
import { writeTar } from "../../lib/unpack/tar_write.ts";
import { buildTar } from "../helpers/tarwriter.ts";

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

Deno.test("cleanArchivePath: relative names only", () => {
  assert.equal(cleanArchivePath("./a//b/"), "a/b");
  assert.equal(cleanArchivePath("manifest.json"), "manifest.json");
  assert.equal(cleanArchivePath("../x"), undefined);
  assert.equal(cleanArchivePath("a/../../x"), undefined);
  assert.equal(cleanArchivePath("/etc/passwd"), undefined);
  assert.equal(cleanArchivePath("a\0b"), undefined);
  assert.equal(cleanArchivePath("./"), undefined);
});

Deno.test("indexArchive: links resolve inside the archive; escapes, loops, duplicates, truncation refused", async () => {
  const root = await Deno.makeTempDir({ prefix: "pod-unit-io-" });
  try {
    const tar = buildTar([
      { name: "aaa/layer.tar", content: "layer bytes" },
      { name: "bbb/layer.tar", type: "symlink", linkname: "../aaa/layer.tar" },
      { name: "ccc", type: "symlink", linkname: "../../etc/passwd" },
      { name: "loop1", type: "symlink", linkname: "loop2" },
      { name: "loop2", type: "symlink", linkname: "loop1" },
      { name: "abs", type: "symlink", linkname: "/etc/passwd" },
      { name: "../outside.tar", content: "never addressable" },
      { name: "manifest.json", content: "[]" },
    ]);
    const idx = await indexArchive(root, once(tar));
    const a = lookupMember(idx, "aaa/layer.tar", "t");
    const b = lookupMember(idx, "bbb/layer.tar", "t");
    assert.equal(a.kind, "blob");
    assert.deepEqual(b, { ...a, name: "aaa/layer.tar" });
    assert.throws(() => lookupMember(idx, "ccc", "t"), /points outside the archive/);
    assert.throws(() => lookupMember(idx, "abs", "t"), /points outside the archive/);
    assert.throws(() => lookupMember(idx, "loop1", "t"), /too many links/);
    assert.throws(() => lookupMember(idx, "../outside.tar", "t"), /outside the archive/);
    assert.throws(() => lookupMember(idx, "nope", "t"), /not in the archive/);
    assert.equal(idx.members.get("manifest.json")?.kind, "json");

    const dup = buildTar([{ name: "x", content: "1" }, { name: "./x", content: "2" }]);
    await assert.rejects(indexArchive(root, once(dup)), /duplicate entry "x"/);
    await assert.rejects(indexArchive(root, once(tar.subarray(0, 700))), /truncated/);
    await assert.rejects(indexArchive(root, once(new Uint8Array(0))), /empty/);
    // a failed index leaves no blob behind
    const blobs = [...Deno.readDirSync(`${root}/blobs/sha256`)].length;
    await assert.rejects(
      indexArchive(
        root,
        once(buildTar([{ name: "new-member", content: "fresh" }, { name: "new-member", content: "x" }])),
      ),
      /duplicate/,
    );
    assert.equal([...Deno.readDirSync(`${root}/blobs/sha256`)].length, blobs);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("applyChanges: podman's --change instructions", () => {
  const c = applyChanges({ Env: ["PATH=/bin", "A=1"], WorkingDir: "/srv" }, [
    'CMD ["a", "b"]',
    "ENTRYPOINT echo hi",
    'ENV A=2 B="x y"',
    "ENV C legacy form",
    "LABEL team=io version=1",
    "EXPOSE 80 53/udp",
    "VOLUME /data /logs",
    'VOLUME ["/j"]',
    "USER 1000:1000",
    "WORKDIR sub",
    "STOPSIGNAL SIGINT",
    "onbuild RUN x",
  ]);
  assert.deepEqual(c.Cmd, ["a", "b"]);
  assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c", "echo hi"]);
  assert.deepEqual(c.Env, ["PATH=/bin", "A=2", "B=x y", "C=legacy form"]);
  assert.deepEqual(c.Labels, { team: "io", version: "1" });
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ["80/tcp", "53/udp"]);
  assert.deepEqual(Object.keys(c.Volumes ?? {}), ["/data", "/logs", "/j"]);
  assert.equal(c.User, "1000:1000");
  assert.equal(c.WorkingDir, "/srv/sub");
  assert.equal(c.StopSignal, "SIGINT");
  assert.deepEqual(c.OnBuild, ["RUN x"]);
  assert.throws(() => applyChanges({}, ["FROM x"]), /not a supported instruction/);
  assert.throws(() => applyChanges({}, ["CMD"]), /needs an argument/);
  assert.throws(() => applyChanges({}, ["EXPOSE eighty"]), /invalid port/);
  assert.deepEqual(splitWords(`a="b c" 'd e' f\\ g`), ["a=b c", "d e", "f g"]);
});

Deno.test("layerEntries: overlay whiteouts and opaque dirs become OCI markers; managed mounts dropped", async () => {
  const upper = buildTar([
    { name: "./", type: "dir" },
    { name: "./gone", type: "char", devmajor: 0, devminor: 0 },
    { name: "./also-gone", type: "hardlink", linkname: "./gone" },
    { name: "./dev-null", type: "char", devmajor: 1, devminor: 3 },
    { name: "./d/", type: "dir", pax: { "SCHILY.xattr.trusted.overlay.opaque": "y" } },
    { name: "./d/new", content: "new", uid: 1000, gid: 1000 },
    { name: "./etc/hosts", content: "" },
    { name: "./.wh.sneaky", content: "" },
    { name: "./link", type: "symlink", linkname: "/d/new" },
  ]);
  const out: string[] = [];
  for await (const e of readTar(writeTar(layerEntries(once(upper))))) {
    out.push(
      `${e.type} ${e.name}${e.type === "file" ? ` ${e.size} ${e.uid}` : ""}${
        e.linkname ? ` -> ${e.linkname}` : ""
      }`,
    );
    assert.equal(e.xattrs.size, 0);
  }
  assert.deepEqual(out, [
    "file .wh.gone 0 0",
    "file .wh.also-gone 0 0",
    "char dev-null",
    "dir d",
    "file d/.wh..wh..opq 0 0",
    "file d/new 3 1000",
    "symlink link -> /d/new",
  ]);
});

Deno.test("push destinations, v2s2 conversion, upload Locations, commit names", () => {
  assert.deepEqual(parseDestination("oci:/tmp/x:tag"), { transport: "oci", path: "/tmp/x", ref: "tag" });
  assert.deepEqual(parseDestination("docker-archive:/tmp/a.tar"), {
    transport: "docker-archive",
    path: "/tmp/a.tar",
    ref: undefined,
  });
  assert.equal(parseDestination("docker://127.0.0.1:5000/a/b:1").transport, "docker");
  const bare = parseDestination("127.0.0.1:5000/a/b:1");
  assert.equal(bare.transport === "docker" && bare.ref.toString(), "127.0.0.1:5000/a/b:1");
  assert.deepEqual(parseDestination("dir:/tmp/x:y"), { transport: "dir", path: "/tmp/x:y" });
  assert.throws(() => parseDestination("dir:"), /no path/);
  assert.throws(() => parseDestination("containers-storage:x"), /not supported/);
  assert.throws(() => parseDestination("docker:nope"), /docker:\/\//);

  const m = {
    schemaVersion: 2 as const,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: "sha256:" + "a".repeat(64),
      size: 1,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: "sha256:" + "b".repeat(64),
      size: 2,
    }],
  };
  const d = convertManifest(m, "v2s2");
  assert.equal(d.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  assert.equal(d.layers[0].mediaType, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  assert.equal(d.layers[0].digest, m.layers[0].digest);
  assert.equal(convertManifest(m, "oci"), m);
  const z = { ...m, layers: [{ ...m.layers[0], mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" }] };
  assert.throws(() => convertManifest(z, "v2s2"), /cannot be written as a Docker schema 2 layer/);

  const dg = "sha256:" + "c".repeat(64);
  assert.equal(
    withDigest("/v2/x/blobs/uploads/u1?_state=s", dg),
    `/v2/x/blobs/uploads/u1?_state=s&digest=sha256%3A${"c".repeat(64)}`,
  );
  assert.equal(
    withDigest("http://127.0.0.1:5000/v2/x/blobs/uploads/u1", dg),
    `http://127.0.0.1:5000/v2/x/blobs/uploads/u1?digest=sha256%3A${"c".repeat(64)}`,
  );
  assert.equal(commitName("myimg"), "localhost/myimg:latest");
  assert.equal(commitName("quay.io/a/b:1"), "quay.io/a/b:1");
  assert.throws(() => commitName("Bad Name"), /invalid image name/);
});

Deno.test("image tree: chain IDs as the OCI image spec defines them", async () => {
  const { chainIds } = await import("../../lib/image/layer_tree.ts");
  assert.deepEqual(chainIds([]), []);
  assert.deepEqual(chainIds(["sha256:a", "sha256:b"]), [
    "sha256:a",
    // printf 'sha256:a sha256:b' | sha256sum
    "sha256:970a948bffa8de94d6e22d747ba8c95030e6e546909f98f54e99a13005e173a8",
  ]);
});
