/**
 * `pod pull`, `pod login`, `pod logout` end to end against Debian's docker-registry on 127.0.0.1
 * (anonymous, htpasswd Basic and token auth) with fixture images; skopeo reads the resulting OCI layout.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { bigImage, busybox, busyboxZstd, dockerSchema2, multiPlatform } from "../helpers/fixtures.ts";
import { verifyBlob } from "../../lib/store/blobs.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const available = await registryAvailable();
const dec = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function pod(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { POD_REGISTRY_TIMEOUT_MS: "20000", ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await child.output();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

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

async function env(): Promise<{ env: Record<string, string>; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "pod-pull-it-" });
  return {
    dir,
    env: {
      POD_HOME: `${dir}/store`,
      REGISTRY_AUTH_FILE: `${dir}/auth.json`,
      HOME: `${dir}/home`,
      XDG_RUNTIME_DIR: `${dir}/run`,
    },
  };
}

const blobNames = (root: string) => [...Deno.readDirSync(`${root}/blobs/sha256`)].map((e) => e.name).sort();

Deno.test({
  name: "pull: anonymous registry, re-pull, quiet, by digest, skopeo reads the store",
  ignore: !available,
  async fn() {
    const reg = await startRegistry();
    const { env: e, dir } = await env();
    try {
      const img = await busybox(reg);
      const r = await pod(["pull", img.ref], e);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, img.configDigest.slice(7) + "\n");
      assert.match(r.stderr, /Trying to pull 127\.0\.0\.1:\d+\/test\/busybox:latest\.\.\./);
      assert.match(r.stderr, new RegExp(`Copying blob ${img.layers[0].digest.slice(7, 19)} done`));
      assert.match(r.stderr, /Writing manifest to image destination/);
      const info = await skopeoInspect(e.POD_HOME, img.ref);
      assert.equal(info.Digest, img.manifestDigest);
      assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
      const before = blobNames(e.POD_HOME);
      const mtimes = before.map((n) => Deno.statSync(`${e.POD_HOME}/blobs/sha256/${n}`).mtime?.getTime());

      // re-pull: no blob downloaded or rewritten
      const again = await pod(["pull", img.ref], e);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /Copying blob \w{12} skipped: already exists/);
      assert.deepEqual(blobNames(e.POD_HOME), before);
      assert.deepEqual(
        before.map((n) => Deno.statSync(`${e.POD_HOME}/blobs/sha256/${n}`).mtime?.getTime()),
        mtimes,
      );

      // -q prints only the ID
      const q = await pod(["pull", "-q", img.ref], e);
      assert.equal(q.code, 0, q.stderr);
      assert.equal(q.stdout, img.configDigest.slice(7) + "\n");
      assert.equal(q.stderr, "");

      // by digest: stored under name@digest
      const byDigest = await pod(["pull", "-q", img.digestRef], e);
      assert.equal(byDigest.code, 0, byDigest.stderr);
      const idx = JSON.parse(await Deno.readTextFile(`${e.POD_HOME}/index.json`));
      const names = idx.manifests.map((m: { annotations: Record<string, string> }) =>
        m.annotations["org.opencontainers.image.ref.name"]
      );
      assert.ok(names.includes(img.ref));
      assert.ok(names.includes(img.digestRef));
      assert.deepEqual(await Deno.readDir(`${e.POD_HOME}/tmp`)[Symbol.asyncIterator]().next(), {
        done: true,
        value: undefined,
      });

      // not found: one line, exit 125
      const nf = await pod(["pull", `${reg.host}/test/nope:1`], e);
      assert.equal(nf.code, 125);
      assert.match(nf.stderr, /^Error: .*test\/nope:1.*manifest unknown.*\n$/m);
      const bad = await pod(["pull", "Bad/Name"], e);
      assert.equal(bad.code, 125);
      assert.match(
        bad.stderr,
        /Error: invalid reference "Bad\/Name": repository name "Name" must be lowercase/,
      );
    } finally {
      await reg.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "pull: multi-platform index, --platform, docker schema 2, zstd",
  ignore: !available,
  async fn() {
    const reg = await startRegistry();
    const { env: e, dir } = await env();
    try {
      const mp = await multiPlatform(reg);
      const r = await pod(["pull", "-q", mp.ref], e);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), mp.platforms!["linux/amd64"].configDigest.slice(7));
      const arm = await pod(["pull", "-q", "--platform", "linux/arm64", mp.ref], e);
      assert.equal(arm.code, 0, arm.stderr);
      assert.equal(arm.stdout.trim(), mp.platforms!["linux/arm64"].configDigest.slice(7));
      const idx = JSON.parse(await Deno.readTextFile(`${e.POD_HOME}/index.json`));
      const entry = idx.manifests.find((m: { annotations: Record<string, string> }) =>
        m.annotations["org.opencontainers.image.ref.name"] === mp.ref
      );
      assert.equal(entry.platform.architecture, "arm64");
      assert.equal(entry.annotations["io.pod.index.digest"], mp.manifestDigest);
      const info = await skopeoInspect(e.POD_HOME, mp.ref);
      assert.equal(info.Architecture, "arm64");

      const none = await pod(["pull", "--platform", "linux/s390x", mp.ref], e);
      assert.equal(none.code, 125);
      assert.equal(none.stderr.trim().split("\n").at(-1), `Error: no image for linux/s390x in ${mp.ref}`);

      for (const img of [await dockerSchema2(reg), await busyboxZstd(reg)]) {
        const p = await pod(["pull", "-q", img.ref], e);
        assert.equal(p.code, 0, p.stderr);
        assert.equal(p.stdout.trim(), img.configDigest.slice(7));
        const info = await skopeoInspect(e.POD_HOME, img.ref);
        assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
        if (img.manifestMediaType.includes("docker")) {
          // stored as an OCI manifest (the layout lists only OCI manifests): same config, new manifest digest
          assert.notEqual(info.Digest, img.manifestDigest);
          const m = JSON.parse(
            await Deno.readTextFile(`${e.POD_HOME}/blobs/sha256/${(info.Digest as string).slice(7)}`),
          );
          assert.equal(m.mediaType, "application/vnd.oci.image.manifest.v1+json");
          assert.equal(m.config.digest, img.configDigest);
        } else assert.equal(info.Digest, img.manifestDigest);
      }
    } finally {
      await reg.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

for (const auth of ["basic", "token"] as const) {
  Deno.test({
    name: `login/pull/logout: ${auth} auth`,
    ignore: !available,
    async fn() {
      const reg = await startRegistry({ auth });
      const { env: e, dir } = await env();
      try {
        const img = await busybox(reg);
        const anon = await pod(["pull", img.ref], e);
        assert.equal(anon.code, 125);
        assert.match(anon.stderr, /Error: .*authentication required/);

        const wrong = await pod(["login", "-u", reg.user!, "-p", "nope", reg.host], e);
        assert.equal(wrong.code, 125);
        assert.match(wrong.stderr, /invalid username\/password/);
        await assert.rejects(Deno.stat(e.REGISTRY_AUTH_FILE));

        const ok = auth === "basic"
          ? await pod(["login", "-u", reg.user!, "-p", reg.password!, reg.host], e)
          : await pod(["login", "-u", reg.user!, "--password-stdin", reg.host], e, reg.password + "\n");
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, "Login Succeeded!\n");
        assert.equal((await Deno.stat(e.REGISTRY_AUTH_FILE)).mode! & 0o777, 0o600);
        const file = JSON.parse(await Deno.readTextFile(e.REGISTRY_AUTH_FILE));
        assert.equal(file.auths[reg.host].auth, btoa(`${reg.user}:${reg.password}`));
        const who = await pod(["login", "--get-login", reg.host], e);
        assert.equal(who.stdout, `${reg.user}\n`);

        const r = await pod(["pull", "-q", img.ref], e);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), img.configDigest.slice(7));

        const out = await pod(["logout", reg.host], e);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, `Removed login credentials for ${reg.host}\n`);
        const twice = await pod(["logout", reg.host], e);
        assert.equal(twice.code, 125);
        assert.match(twice.stderr, /not logged into/);
        const all = await pod(["logout", "--all"], e);
        assert.equal(all.code, 0, all.stderr);

        // credentials from ~/.docker/config.json are used too
        const noFile = { ...e };
        delete (noFile as Record<string, string>).REGISTRY_AUTH_FILE;
        await Deno.mkdir(`${e.HOME}/.docker`, { recursive: true });
        await Deno.writeTextFile(
          `${e.HOME}/.docker/config.json`,
          JSON.stringify({ auths: { [reg.host]: { auth: btoa(`${reg.user}:${reg.password}`) } } }),
        );
        const viaDocker = await pod(["pull", "-q", img.ref], noFile);
        assert.equal(viaDocker.code, 0, viaDocker.stderr);
      } finally {
        await reg.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "pull: killed at any moment leaves no half image; the next pull completes",
  ignore: !available,
  async fn() {
    const reg = await startRegistry({ logLevel: "error" });
    const { env: e, dir } = await env();
    try {
      const img = await bigImage(reg, 24, { layers: 3 });
      // kill while a layer is half written, then once some blobs are complete but the image is not registered
      const tmpBlobWritten = () => {
        try {
          return [...Deno.readDirSync(`${e.POD_HOME}/tmp`)].some((x) =>
            x.name.startsWith(".blob-") && Deno.statSync(`${e.POD_HOME}/tmp/${x.name}`).size > 0
          );
        } catch {
          return false;
        }
      };
      const someBlob = () => {
        try {
          return [...Deno.readDirSync(`${e.POD_HOME}/blobs/sha256`)].length > 0;
        } catch {
          return false;
        }
      };
      for (const [label, when] of [["mid-layer", tmpBlobWritten], ["after-a-blob", someBlob]] as const) {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", CLI, "pull", "-q", img.ref],
          env: e,
          stdout: "null",
          stderr: "null",
        }).spawn();
        const t0 = Date.now();
        while (!when() && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 2));
        try {
          child.kill("SIGKILL");
        } catch { /* already done */ }
        const delay = label;
        const st = await child.status;
        if (Deno.env.get("POD_TEST_VERBOSE")) console.log(`killed ${delay}: success=${st.success}`);
        const idx = JSON.parse(
          await Deno.readTextFile(`${e.POD_HOME}/index.json`).catch(() => '{"manifests":[]}'),
        );
        if (st.success) {
          // finished before the kill: then it is complete
          assert.equal(idx.manifests.length, 1);
          continue;
        }
        assert.deepEqual(idx.manifests, [], `killed after ${delay} ms`);
        let names: string[] = [];
        try {
          names = [...Deno.readDirSync(`${e.POD_HOME}/blobs/sha256`)].map((x) => x.name);
        } catch { /* store not created yet */ }
        for (const n of names) assert.ok(await verifyBlob(e.POD_HOME, `sha256:${n}`), `complete blob ${n}`);
      }
      const r = await pod(["pull", "-q", img.ref], e);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), img.configDigest.slice(7));
      const left = [...Deno.readDirSync(`${e.POD_HOME}/tmp`)].map((x) => x.name);
      assert.deepEqual(left, [], "stale temp files of killed pulls are cleaned");
    } finally {
      await reg.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
