/**
 * Sanity tests of the test harness itself (registry, token server, fixtures, pod runner, store listing, test
 * runner counting). These talk to the registry with `fetch`, not through pod.
 * @module
 */

import assert from "node:assert/strict";
import { startRegistry } from "../helpers/registry.ts";
import {
  bigImage,
  busybox,
  busyboxGzip,
  busyboxUncompressed,
  busyboxZstd,
  customConfig,
  customImage,
  dockerSchema2,
  layeredWhiteouts,
  MT,
  multiPlatform,
  noRunNoDev,
  type PushedImage,
  RegistryClient,
  sha256,
  tarTree,
} from "../helpers/fixtures.ts";
import { errorLine, isOneLineError, pod, tempPodHome } from "../helpers/pod.ts";
import { rootlessAvailable, TEST_USER } from "../helpers/rootless.ts";
import { diffListings, listStore } from "../helpers/store_listing.ts";
import { countCases, parseJunit } from "../../scripts/test.ts";

const ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(", ");
const basic = (u: string, p: string) => "Basic " + btoa(`${u}:${p}`);

async function decompress(blob: Uint8Array, mediaType: string): Promise<Uint8Array> {
  const args = mediaType.endsWith("gzip")
    ? ["gzip", "-dc"]
    : mediaType.endsWith("zstd")
    ? ["zstd", "-dcq"]
    : null;
  if (!args) return blob;
  const child = new Deno.Command(args[0], { args: args.slice(1), stdin: "piped", stdout: "piped" }).spawn();
  const w = child.stdin.getWriter();
  const writing = w.write(blob).then(() => w.close());
  const [out] = await Promise.all([child.output(), writing]);
  assert.ok(out.success, `${args[0]} failed`);
  return out.stdout;
}

/** Check a pushed image against what the registry serves: manifest digest, config digest, layers, diff_ids. */
async function verifyImage(c: RegistryClient, img: PushedImage, reference = img.tag): Promise<void> {
  const m = await c.getManifest(img.repo, reference);
  assert.equal(m.status, 200, `manifest ${img.repo}:${reference}`);
  assert.equal(m.digest, img.manifestDigest);
  assert.equal(await sha256(m.body), img.manifestDigest);
  assert.equal(m.mediaType, img.manifestMediaType);
  const manifest = JSON.parse(new TextDecoder().decode(m.body));
  if (img.platforms) {
    assert.equal(manifest.manifests.length, Object.keys(img.platforms).length);
    for (const [plat, sub] of Object.entries(img.platforms)) {
      const d = manifest.manifests.find((x: { platform: { os: string; architecture: string } }) =>
        `${x.platform.os}/${x.platform.architecture}` === plat
      );
      assert.ok(d, `index has ${plat}`);
      assert.equal(d.digest, sub.manifestDigest);
      await verifyImage(c, sub, sub.manifestDigest);
    }
    return;
  }
  assert.equal(manifest.config.digest, img.configDigest);
  const cfg = await c.getBlob(img.repo, img.configDigest);
  assert.equal(cfg.status, 200);
  assert.equal(await sha256(cfg.body), img.configDigest);
  const config = JSON.parse(new TextDecoder().decode(cfg.body));
  assert.equal(config.os, "linux");
  assert.ok(typeof config.architecture === "string");
  assert.ok(typeof config.created === "string");
  assert.ok(Array.isArray(config.history) && config.history.length > img.layers.length - 1);
  assert.equal(config.rootfs.diff_ids.length, img.layers.length);
  for (let i = 0; i < img.layers.length; i++) {
    const l = img.layers[i];
    assert.equal(manifest.layers[i].digest, l.digest);
    assert.equal(manifest.layers[i].mediaType, l.mediaType);
    const b = await c.getBlob(img.repo, l.digest);
    assert.equal(b.status, 200);
    assert.equal(await sha256(b.body), l.digest);
    assert.equal(await sha256(await decompress(b.body, l.mediaType)), config.rootfs.diff_ids[i]);
  }
}

Deno.test("anonymous registry serves a pushed busybox manifest", async () => {
  const reg = await startRegistry();
  try {
    const img = await busybox(reg);
    assert.equal(img.ref, `${reg.host}/test/busybox:latest`);
    const res = await fetch(`${reg.url}/v2/test/busybox/manifests/latest`, { headers: { accept: ACCEPT } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), MT.ociManifest);
    assert.equal(res.headers.get("docker-content-digest"), img.manifestDigest);
    const body = new Uint8Array(await res.arrayBuffer());
    assert.deepEqual(body, img.manifest);
    const m = JSON.parse(new TextDecoder().decode(body));
    assert.equal(m.config.digest, img.configDigest);
    const cfg = await (await fetch(`${reg.url}/v2/test/busybox/blobs/${img.configDigest}`)).json();
    assert.deepEqual(cfg.config.Cmd, ["sh"]);
    assert.ok(cfg.config.Env[0].startsWith("PATH="));
  } catch (e) {
    console.error(await reg.log());
    throw e;
  } finally {
    await reg.stop();
  }
});

Deno.test("basic-auth registry rejects anonymous and accepts credentials", async () => {
  const reg = await startRegistry({ auth: "basic", user: "alice", password: "s3cret" });
  try {
    let res = await fetch(`${reg.url}/v2/`);
    await res.body?.cancel();
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    res = await fetch(`${reg.url}/v2/`, { headers: { authorization: basic("alice", "wrong") } });
    await res.body?.cancel();
    assert.equal(res.status, 401);
    res = await fetch(`${reg.url}/v2/`, { headers: { authorization: basic("alice", "s3cret") } });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    const img = await busybox(reg);
    res = await fetch(`${reg.url}/v2/test/busybox/manifests/latest`, { headers: { accept: ACCEPT } });
    await res.body?.cancel();
    assert.equal(res.status, 401);
    res = await fetch(`${reg.url}/v2/test/busybox/manifests/latest`, {
      headers: { accept: ACCEPT, authorization: basic("alice", "s3cret") },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("docker-content-digest"), img.manifestDigest);
  } finally {
    await reg.stop();
  }
});

Deno.test("token registry: Bearer challenge, token server checks credentials, token accepted", async () => {
  const reg = await startRegistry({ auth: "token" });
  try {
    const ts = reg.tokenServer!;
    let res = await fetch(`${reg.url}/v2/`);
    await res.body?.cancel();
    assert.equal(res.status, 401);
    const ch = res.headers.get("www-authenticate") ?? "";
    assert.match(ch, /^Bearer /);
    assert.ok(ch.includes(`realm="${ts.realm}"`), ch);
    assert.ok(ch.includes(`service="${ts.service}"`), ch);

    const img = await busybox(reg); // pushes through the token flow
    res = await fetch(`${reg.url}/v2/test/busybox/manifests/latest`, { headers: { accept: ACCEPT } });
    await res.body?.cancel();
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /scope="repository:test\/busybox:pull"/);

    const url = `${ts.realm}?service=${ts.service}&scope=repository:test/busybox:pull`;
    res = await fetch(url);
    await res.body?.cancel();
    assert.equal(res.status, 401, "anonymous token request");
    res = await fetch(url, { headers: { authorization: basic("testuser", "nope") } });
    await res.body?.cancel();
    assert.equal(res.status, 401, "bad credentials");
    res = await fetch(url, { headers: { authorization: basic("testuser", "testpassword") } });
    assert.equal(res.status, 200);
    const { token, access_token, expires_in } = await res.json();
    assert.equal(token, access_token);
    assert.ok(expires_in > 0);
    res = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    res = await fetch(`${reg.url}/v2/test/busybox/manifests/latest`, {
      headers: { accept: ACCEPT, authorization: `Bearer ${token}` },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("docker-content-digest"), img.manifestDigest);

    // a token for another repository does not grant this one; an expired token is refused
    const other = await ts.mint("testuser", [{ type: "repository", name: "other", actions: ["pull"] }]);
    res = await fetch(`${reg.url}/v2/test/busybox/manifests/latest`, {
      headers: { accept: ACCEPT, authorization: `Bearer ${other}` },
    });
    await res.body?.cancel();
    assert.equal(res.status, 401);
    const expired = await ts.mint("testuser", [], { expiresIn: -60 });
    res = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${expired}` } });
    await res.body?.cancel();
    assert.equal(res.status, 401);
    // both key identifications work with distribution 2.8
    for (const header of ["x5c", "kid"] as const) {
      const t = await ts.mint("testuser", [], { header });
      res = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${t}` } });
      await res.body?.cancel();
      assert.equal(res.status, 200, header);
    }
    assert.ok(ts.issued.length >= 2);
  } catch (e) {
    console.error(await reg.log());
    throw e;
  } finally {
    await reg.stop();
  }
});

Deno.test("token registry with anonymousPull: anonymous clients may pull but not push", async () => {
  const reg = await startRegistry({ auth: "token", anonymousPull: true });
  try {
    const img = await busybox(reg);
    const anon = new RegistryClient({ host: reg.host });
    const m = await anon.getManifest(img.repo, "latest");
    assert.equal(m.status, 200);
    assert.equal(m.digest, img.manifestDigest);
    const res = await anon.request("test/anon", "/v2/test/anon/blobs/uploads/", { method: "POST" });
    await res.body?.cancel();
    assert.equal(res.status, 401);
  } finally {
    await reg.stop();
  }
});

Deno.test("every fixture's manifest, config and layer digests match what the registry serves", async () => {
  const reg = await startRegistry({ auth: "basic" });
  try {
    const c = new RegistryClient(reg);
    const fixtures = [
      busybox,
      busyboxGzip,
      busyboxZstd,
      busyboxUncompressed,
      layeredWhiteouts,
      multiPlatform,
      noRunNoDev,
      customConfig,
      dockerSchema2,
    ];
    for (const f of fixtures) {
      const img = await f(reg);
      await verifyImage(c, img);
    }
    const zstd = await busyboxZstd(reg);
    assert.equal(zstd.layers[0].mediaType, MT.ociLayerZstd);
    const plain = await busyboxUncompressed(reg);
    assert.equal(plain.layers[0].mediaType, MT.ociLayerTar);
    assert.equal(plain.layers[0].digest, plain.layers[0].diffId);
    const docker = await dockerSchema2(reg);
    assert.equal(docker.manifestMediaType, MT.dockerManifest);
    assert.equal(docker.layers[0].mediaType, MT.dockerLayerGzip);
    const layered = await layeredWhiteouts(reg);
    assert.equal(layered.layers.length, 3);
    const multi = await multiPlatform(reg);
    assert.equal(multi.manifestMediaType, MT.ociIndex);
    assert.deepEqual(Object.keys(multi.platforms!).sort(), ["linux/amd64", "linux/arm64"]);
    const cc = JSON.parse(new TextDecoder().decode((await customConfig(reg)).config));
    assert.equal(cc.config.StopSignal, "SIGUSR1");
    assert.equal(cc.config.User, "1000:1000");
    // raw tar bytes as a layer
    const raw = await customImage(reg, {
      repo: "test/raw",
      layers: [await tarTree({ "hello": "world\n" })],
      compression: "none",
    });
    await verifyImage(c, raw);
    // hand-made entries (tarwriter.ts buildTar)
    const hand = await customImage(reg, {
      repo: "test/hand",
      layers: [{ entries: [{ name: "a/", type: "dir" }, { name: "a/b", content: "b\n" }] }],
    });
    await verifyImage(c, hand);
    // builds are reproducible: pushing busybox again gives the same digest
    assert.equal((await busybox(reg, { tag: "again" })).manifestDigest, (await busybox(reg)).manifestDigest);
  } catch (e) {
    console.error(await reg.log());
    throw e;
  } finally {
    await reg.stop();
  }
});

Deno.test("busybox layer content: symlinks, passwd, /tmp 1777, file owned by 1000", async () => {
  const reg = await startRegistry();
  const dir = await Deno.makeTempDir({ prefix: "pod-harness-" });
  try {
    const img = await busyboxUncompressed(reg);
    await Deno.writeFile(`${dir}/l.tar`, img.layers[0].blob);
    const out = await new Deno.Command("tar", {
      args: ["-tvf", `${dir}/l.tar`, "--numeric-owner"],
      stdout: "piped",
    })
      .output();
    const list = new TextDecoder().decode(out.stdout);
    assert.match(list, /^lrwxrwxrwx 0\/0 .* \.\/bin\/sh -> \/bin\/busybox$/m);
    assert.match(list, /^-rwxr-xr-x 0\/0 .* \.\/bin\/busybox$/m);
    assert.match(list, /^drwxrwxrwt 0\/0 .* \.\/tmp\/$/m);
    assert.match(list, /^-rw-r--r-- 1000\/1000 .* \.\/home\/u1000\/own$/m);
    assert.match(list, / \.\/etc\/passwd$/m);
    assert.match(list, / \.\/run\/$/m);
    const nrd = await noRunNoDev(reg);
    await Deno.writeFile(`${dir}/n.tar.gz`, nrd.layers[0].blob);
    const out2 = await new Deno.Command("tar", { args: ["-tzf", `${dir}/n.tar.gz`], stdout: "piped" })
      .output();
    const list2 = new TextDecoder().decode(out2.stdout);
    assert.doesNotMatch(list2, /^\.\/(run|dev)\/$/m);
    assert.match(list2, /^\.\/bin\/sh$/m);
  } finally {
    await reg.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bigImage makes several compressible layers of the requested size", async () => {
  const reg = await startRegistry();
  try {
    const img = await bigImage(reg, 8, { layers: 2 });
    assert.equal(img.layers.length, 3);
    assert.equal(img.expect?.dataBytes, 8 << 20);
    const compressed = img.layers.slice(1).reduce((n, l) => n + l.size, 0);
    assert.ok(compressed < (8 << 20) * 0.8, `compressible (${compressed})`);
    assert.ok(compressed > (8 << 20) * 0.2, `not trivially compressible (${compressed})`);
  } finally {
    await reg.stop();
  }
});

Deno.test("stop() kills exactly the registry process and removes its temp dir", async () => {
  const reg = await startRegistry({ auth: "token" });
  const { pid, dir } = reg;
  assert.ok((await Deno.stat(`/proc/${pid}`)).isDirectory);
  await reg.stop();
  await assert.rejects(() => Deno.stat(`/proc/${pid}`));
  await assert.rejects(() => Deno.stat(dir));
  await reg.stop(); // idempotent
});

Deno.test("listStore detects changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pod-harness-" });
  try {
    assert.deepEqual(await listStore(`${dir}/missing`), []);
    await Deno.mkdir(`${dir}/blobs/sha256`, { recursive: true });
    await Deno.writeTextFile(`${dir}/index.json`, "{}");
    await Deno.symlink("../x", `${dir}/link`);
    await Deno.writeTextFile(`${dir}/lock`, "");
    const before = await listStore(dir);
    assert.deepEqual(before.map((e) => e.path), ["blobs", "blobs/sha256", "index.json", "link"]);
    assert.equal(before[2].sha256, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    assert.equal(before[3].target, "../x");
    assert.equal(diffListings(before, await listStore(dir)), "");
    await Deno.writeTextFile(`${dir}/index.json`, "{ }");
    await Deno.writeTextFile(`${dir}/blobs/sha256/new`, "x");
    const d = diffListings(before, await listStore(dir));
    assert.match(d, /^~ index\.json/m);
    assert.match(d, /^\+ blobs\/sha256\/new/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pod() runs the CLI with a temp store", async () => {
  const h = await tempPodHome();
  try {
    const st = await Deno.stat(h.home);
    assert.equal(st.mode! & 0o777, 0o700);
    const r = await pod(["--version"], { home: h.home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.timedOut, false);
  } finally {
    await h.cleanup();
  }
  await assert.rejects(() => Deno.stat(h.root));
});

Deno.test("startPod() reports the signal that ended it; one-line error helpers", async () => {
  const h = await tempPodHome();
  try {
    const p = await h.startPod(["--version"]);
    p.kill("SIGKILL");
    const r = await p.done;
    assert.equal(r.signal, "SIGKILL");
    assert.equal(r.code, 137);
    p.kill("SIGKILL"); // after the end: ignored
    const v = await h.pod(["rmi", "no-such-image:1"]);
    assert.equal(v.signal, null);
    assert.notEqual(v.code, 0);
    assert.ok(isOneLineError(v.stderr), v.stderr);
    assert.match(errorLine(v.stderr), /^Error: .*image not known/);
    assert.ok(!isOneLineError("Error: x\n    at f (file.ts:1:1)\n"));
  } finally {
    await h.cleanup();
  }
});

Deno.test({
  name: "pod() runs the CLI as the rootless test user",
  ignore: !(await rootlessAvailable()),
  fn: async () => {
    const h = await tempPodHome({ user: TEST_USER });
    try {
      const st = await Deno.stat(h.home);
      assert.notEqual(st.uid, 0);
      const r = await pod(["--version"], { home: h.home, user: TEST_USER });
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await h.cleanup();
    }
  },
});

Deno.test("test runner counts JUnit cases with steps", () => {
  const xml = `<testsuites><testsuite name="./a_test.ts" tests="6">
    <testcase name="ok" classname="./a_test.ts"></testcase>
    <testcase name="bad" classname="./a_test.ts"><failure message="x">x</failure></testcase>
    <testcase name="ign" classname="./a_test.ts"><skipped/></testcase>
    <testcase name="p &gt; q" classname="./a_test.ts"></testcase>
    <testcase name="steps" classname="./a_test.ts"><failure message="1 test step failed">.</failure></testcase>
    <testcase name="steps &gt; s1" classname="./a_test.ts"></testcase>
    <testcase name="steps &gt; s2" classname="./a_test.ts"><failure message="y">y</failure></testcase>
    <testcase name="own" classname="./a_test.ts"><failure message="after steps">z</failure></testcase>
    <testcase name="own &gt; s" classname="./a_test.ts"></testcase>
  </testsuite></testsuites>`;
  const cases = parseJunit(xml);
  assert.equal(cases.length, 9);
  assert.equal(cases[3].name, "p > q");
  const c = countCases(cases);
  // passed: ok, p > q, steps > s1, own > s; failed: bad, steps > s2, own (itself)
  assert.equal(c.passed, 4);
  assert.equal(c.failed, 3);
  assert.equal(c.skipped, 1);
});
