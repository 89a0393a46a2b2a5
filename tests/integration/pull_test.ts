/**
 * `pod pull`, `pod login`, `pod logout` end to end against Debian's docker-registry on 127.0.0.1
 * (anonymous, htpasswd Basic and token auth) with fixture images; skopeo reads the resulting OCI layout.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { bigImage, busybox, busyboxZstd, dockerSchema2, multiPlatform } from "../helpers/fixtures.ts";
import { verifyBlob } from "../../lib/store/blobs.ts";
import { REGISTRY_TEST_ENV, tempPodHome } from "../helpers/pod.ts";

const available = await registryAvailable();
const dec = new TextDecoder();

async function skopeoInspect(root: string, ref: string): Promise<Record<string, unknown>> {
  const o = await new Deno.Command("skopeo", {
    args: ["inspect", `oci:${root}:${ref}`],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.equal(o.code, 0, dec.decode(o.stderr));
  return JSON.parse(dec.decode(o.stdout));
}

const blobNames = (root: string) => [...Deno.readDirSync(`${root}/blobs/sha256`)].map((e) => e.name).sort();

Deno.test({
  name: "pull: anonymous registry, re-pull, quiet, by digest, skopeo reads the store",
  ignore: !available,
  async fn() {
    const reg = await startRegistry();
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    try {
      const img = await busybox(reg);
      const r = await h.pod(["pull", img.ref]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, img.configDigest.slice(7) + "\n");
      assert.match(r.stderr, /Trying to pull 127\.0\.0\.1:\d+\/test\/busybox:latest\.\.\./);
      assert.match(r.stderr, new RegExp(`Copying blob ${img.layers[0].digest.slice(7, 19)} done`));
      assert.match(r.stderr, /Writing manifest to image destination/);
      const info = await skopeoInspect(h.home, img.ref);
      assert.equal(info.Digest, img.manifestDigest);
      assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
      const before = blobNames(h.home);
      const mtimes = before.map((n) => Deno.statSync(`${h.home}/blobs/sha256/${n}`).mtime?.getTime());

      // re-pull: no blob downloaded or rewritten
      const again = await h.pod(["pull", img.ref]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /Copying blob \w{12} skipped: already exists/);
      assert.deepEqual(blobNames(h.home), before);
      assert.deepEqual(
        before.map((n) => Deno.statSync(`${h.home}/blobs/sha256/${n}`).mtime?.getTime()),
        mtimes,
      );

      // -q prints only the ID
      const q = await h.pod(["pull", "-q", img.ref]);
      assert.equal(q.code, 0, q.stderr);
      assert.equal(q.stdout, img.configDigest.slice(7) + "\n");
      assert.equal(q.stderr, "");

      // by digest: stored under name@digest
      const byDigest = await h.pod(["pull", "-q", img.digestRef]);
      assert.equal(byDigest.code, 0, byDigest.stderr);
      const idx = JSON.parse(await Deno.readTextFile(`${h.home}/index.json`));
      const names = idx.manifests.map((m: { annotations: Record<string, string> }) =>
        m.annotations["org.opencontainers.image.ref.name"]
      );
      assert.ok(names.includes(img.ref));
      assert.ok(names.includes(img.digestRef));
      assert.deepEqual(await Deno.readDir(`${h.home}/tmp`)[Symbol.asyncIterator]().next(), {
        done: true,
        value: undefined,
      });

      // not found: one line, exit 125
      const nf = await h.pod(["pull", `${reg.host}/test/nope:1`]);
      assert.equal(nf.code, 125);
      assert.match(nf.stderr, /^Error: .*test\/nope:1.*manifest unknown.*\n$/m);
      const bad = await h.pod(["pull", "Bad/Name"]);
      assert.equal(bad.code, 125);
      assert.match(
        bad.stderr,
        /Error: invalid reference "Bad\/Name": repository name "Name" must be lowercase/,
      );
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});

Deno.test({
  name: "pull: multi-platform index, --platform, docker schema 2, zstd",
  ignore: !available,
  async fn() {
    const reg = await startRegistry();
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    try {
      const mp = await multiPlatform(reg);
      const r = await h.pod(["pull", "-q", mp.ref]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), mp.platforms!["linux/amd64"].configDigest.slice(7));
      const arm = await h.pod(["pull", "-q", "--platform", "linux/arm64", mp.ref]);
      assert.equal(arm.code, 0, arm.stderr);
      assert.equal(arm.stdout.trim(), mp.platforms!["linux/arm64"].configDigest.slice(7));
      const idx = JSON.parse(await Deno.readTextFile(`${h.home}/index.json`));
      const entry = idx.manifests.find((m: { annotations: Record<string, string> }) =>
        m.annotations["org.opencontainers.image.ref.name"] === mp.ref
      );
      assert.equal(entry.platform.architecture, "arm64");
      assert.equal(entry.annotations["io.pod.index.digest"], mp.manifestDigest);
      const info = await skopeoInspect(h.home, mp.ref);
      assert.equal(info.Architecture, "arm64");

      const none = await h.pod(["pull", "--platform", "linux/s390x", mp.ref]);
      assert.equal(none.code, 125);
      assert.equal(none.stderr.trim().split("\n").at(-1), `Error: no image for linux/s390x in ${mp.ref}`);

      for (const img of [await dockerSchema2(reg), await busyboxZstd(reg)]) {
        const p = await h.pod(["pull", "-q", img.ref]);
        assert.equal(p.code, 0, p.stderr);
        assert.equal(p.stdout.trim(), img.configDigest.slice(7));
        const info = await skopeoInspect(h.home, img.ref);
        assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
        if (img.manifestMediaType.includes("docker")) {
          // stored as an OCI manifest (the layout lists only OCI manifests): same config, new manifest digest
          assert.notEqual(info.Digest, img.manifestDigest);
          const m = JSON.parse(
            await Deno.readTextFile(`${h.home}/blobs/sha256/${(info.Digest as string).slice(7)}`),
          );
          assert.equal(m.mediaType, "application/vnd.oci.image.manifest.v1+json");
          assert.equal(m.config.digest, img.configDigest);
        } else assert.equal(info.Digest, img.manifestDigest);
      }
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});

for (const auth of ["basic", "token"] as const) {
  Deno.test({
    name: `login/pull/logout: ${auth} auth`,
    ignore: !available,
    async fn() {
      const reg = await startRegistry({ auth });
      const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
      const authFile = `${h.root}/auth.json`;
      const pod = (args: string[], stdin?: string) =>
        h.pod(args, { env: { REGISTRY_AUTH_FILE: authFile }, stdin });
      try {
        const img = await busybox(reg);
        const anon = await pod(["pull", img.ref]);
        assert.equal(anon.code, 125);
        assert.match(anon.stderr, /Error: .*authentication required/);

        const wrong = await pod(["login", "-u", reg.user!, "-p", "nope", reg.host]);
        assert.equal(wrong.code, 125);
        assert.match(wrong.stderr, /invalid username\/password/);
        await assert.rejects(Deno.stat(authFile));

        const ok = auth === "basic"
          ? await pod(["login", "-u", reg.user!, "-p", reg.password!, reg.host])
          : await pod(["login", "-u", reg.user!, "--password-stdin", reg.host], reg.password + "\n");
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, "Login Succeeded!\n");
        assert.equal((await Deno.stat(authFile)).mode! & 0o777, 0o600);
        const file = JSON.parse(await Deno.readTextFile(authFile));
        assert.equal(file.auths[reg.host].auth, btoa(`${reg.user}:${reg.password}`));
        const who = await pod(["login", "--get-login", reg.host]);
        assert.equal(who.stdout, `${reg.user}\n`);

        const r = await pod(["pull", "-q", img.ref]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), img.configDigest.slice(7));

        const out = await pod(["logout", reg.host]);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, `Removed login credentials for ${reg.host}\n`);
        const twice = await pod(["logout", reg.host]);
        assert.equal(twice.code, 125);
        assert.match(twice.stderr, /not logged into/);
        const all = await pod(["logout", "--all"]);
        assert.equal(all.code, 0, all.stderr);

        // credentials from ~/.docker/config.json are used too
        await Deno.mkdir(`${h.userHome}/.docker`, { recursive: true });
        await Deno.writeTextFile(
          `${h.userHome}/.docker/config.json`,
          JSON.stringify({ auths: { [reg.host]: { auth: btoa(`${reg.user}:${reg.password}`) } } }),
        );
        const viaDocker = await h.pod(["pull", "-q", img.ref]); // without REGISTRY_AUTH_FILE
        assert.equal(viaDocker.code, 0, viaDocker.stderr);
      } finally {
        await reg.stop();
        await h.cleanup();
      }
    },
  });
}

Deno.test({
  name: "pull: killed at any moment leaves no half image; the next pull completes",
  ignore: !available,
  async fn() {
    const reg = await startRegistry({ logLevel: "error" });
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    try {
      const img = await bigImage(reg, 24, { layers: 3 });
      // kill while a layer is half written, then once some blobs are complete but the image is not registered
      const tmpBlobWritten = () => {
        try {
          return [...Deno.readDirSync(`${h.home}/tmp`)].some((x) =>
            x.name.startsWith(".blob-") && Deno.statSync(`${h.home}/tmp/${x.name}`).size > 0
          );
        } catch {
          return false;
        }
      };
      const someBlob = () => {
        try {
          return [...Deno.readDirSync(`${h.home}/blobs/sha256`)].length > 0;
        } catch {
          return false;
        }
      };
      for (const [label, when] of [["mid-layer", tmpBlobWritten], ["after-a-blob", someBlob]] as const) {
        const child = await h.startPod(["pull", "-q", img.ref]);
        const t0 = Date.now();
        while (!when() && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 2));
        child.kill("SIGKILL");
        const delay = label;
        const st = await child.done;
        const success = st.code === 0;
        if (Deno.env.get("POD_TEST_VERBOSE")) console.log(`killed ${delay}: success=${success}`);
        const idx = JSON.parse(
          await Deno.readTextFile(`${h.home}/index.json`).catch(() => '{"manifests":[]}'),
        );
        if (success) {
          // finished before the kill: then it is complete
          assert.equal(idx.manifests.length, 1);
          continue;
        }
        assert.deepEqual(idx.manifests, [], `killed after ${delay} ms`);
        let names: string[] = [];
        try {
          names = [...Deno.readDirSync(`${h.home}/blobs/sha256`)].map((x) => x.name);
        } catch { /* store not created yet */ }
        for (const n of names) assert.ok(await verifyBlob(h.home, `sha256:${n}`), `complete blob ${n}`);
      }
      const r = await h.pod(["pull", "-q", img.ref]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), img.configDigest.slice(7));
      const left = [...Deno.readDirSync(`${h.home}/tmp`)].map((x) => x.name);
      assert.deepEqual(left, [], "stale temp files of killed pulls are cleaned");
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});

Deno.test({
  name: "pull as root builds the image tree; a layer the unpacker refuses fails the pull, store unchanged",
  ignore: !available || Deno.uid() !== 0,
  async fn() {
    const { customImage } = await import("../helpers/fixtures.ts");
    const reg = await startRegistry();
    const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
    const trees = () => {
      try {
        return [...Deno.readDirSync(`${h.home}/trees`)].map((e) => e.name);
      } catch {
        return [];
      }
    };
    try {
      const img = await busybox(reg);
      assert.equal((await h.pod(["pull", "-q", img.ref])).code, 0);
      const built = trees();
      assert.equal(built.length, 1, JSON.stringify(built));
      assert.match(built[0], /^[a-f0-9]{32}-host$/);
      assert.ok(Deno.lstatSync(`${h.home}/trees/${built[0]}/bin/sh`).isSymlink);
      const run = await h.pod(["--log-level", "debug", "run", "--rm", img.ref, "true"]);
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /tree built/); // the first run extracted nothing

      const bad = await customImage(reg, {
        repo: "test/escape",
        layers: [{ entries: [{ name: "ok", content: "x" }, { name: "../escaped", content: "y" }] }],
      });
      const before = (await h.pod(["images", "-q"])).stdout;
      const r = await h.pod(["pull", bad.ref]);
      assert.equal(r.code, 125);
      assert.match(r.stderr, new RegExp(`Error: .*layer ${bad.layers[0].digest}: entry "\\.\\./escaped"`));
      assert.equal((await h.pod(["images", "-q"])).stdout, before);
      assert.deepEqual(trees(), built);
    } finally {
      await h.cleanup();
      await reg.stop();
    }
  },
});
