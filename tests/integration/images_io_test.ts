/**
 * `pod save`, `pod load`, `pod push`, `untag`, `image exists`, `container exists` end to end, with interop
 * against the real tools: skopeo reads what pod saved and pushed, pod loads what skopeo and podman wrote and
 * runs it. Hostile archives: one-line error, exit 125, store unchanged.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox, type PushedImage } from "../helpers/fixtures.ts";
import {
  errorLine,
  isOneLineError,
  REGISTRY_TEST_ENV,
  type TempPodHome,
  tempPodHome,
} from "../helpers/pod.ts";
import { buildTar } from "../helpers/tarwriter.ts";
import { diffListings, listStore } from "../helpers/store_listing.ts";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";

const available = (await registryAvailable()) && Deno.uid() === 0;
const dec = new TextDecoder();
const opts = { ignore: !available, sanitizeOps: false, sanitizeResources: false };

async function tool(
  cmd: string,
  args: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; out: string; err: string }> {
  const c = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: stdin ? "piped" : "null",
  });
  const p = c.spawn();
  if (stdin) {
    const w = p.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const o = await p.output();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

async function hasTool(name: string): Promise<boolean> {
  return (await tool("sh", ["-c", `command -v ${name}`])).code === 0;
}

/** A store that pulled the busybox fixture, a scratch dir, and a second empty store. */
async function withImage(
  fn: (
    s: { h: TempPodHome; h2: TempPodHome; img: PushedImage; dir: string; reg: { host: string } },
  ) => Promise<void>,
): Promise<void> {
  const reg = await startRegistry();
  const h = await tempPodHome({ env: REGISTRY_TEST_ENV });
  const h2 = await tempPodHome({ env: REGISTRY_TEST_ENV });
  const dir = await Deno.makeTempDir({ prefix: "pod-io-" });
  try {
    const img = await busybox(reg);
    const r = await h.pod(["pull", "-q", img.ref]);
    assert.equal(r.code, 0, r.stderr);
    await fn({ h, h2, img, dir, reg });
  } finally {
    await h.pod(["rm", "-f", "-a"]).catch(() => {});
    await h2.pod(["rm", "-f", "-a"]).catch(() => {});
    await h.cleanup();
    await h2.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await reg.stop();
  }
}

async function runs(h: TempPodHome, image: string): Promise<void> {
  const r = await h.pod(["run", "--rm", image, "echo", "hello from the archive"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello from the archive\n");
}

Deno.test({
  name: "save/load: docker-archive to a file and through a pipe; skopeo reads it; loaded image runs",
  ...opts,
  async fn() {
    await withImage(async ({ h, h2, img, dir }) => {
      const id = img.configDigest.slice(7);
      const f = `${dir}/bb.tar`;
      const s = await h.pod(["save", "-o", f, img.ref]);
      assert.equal(s.code, 0, s.stderr);
      const ins = await tool("skopeo", ["inspect", `docker-archive:${f}`]);
      assert.equal(ins.code, 0, ins.err);
      assert.equal(JSON.parse(ins.out).Layers.length, img.layers.length);
      const cfg = await tool("skopeo", ["inspect", "--config", `docker-archive:${f}`]);
      assert.equal(cfg.code, 0, cfg.err);
      assert.equal(JSON.parse(cfg.out).rootfs.diff_ids.length, img.layers.length);

      const l = await h2.pod(["load", "-i", f]);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, `Loaded image: ${img.ref}\n`);
      const ids = await h2.pod(["images", "-q", "--no-trunc"]);
      assert.equal(ids.stdout.trim(), `sha256:${id}`);
      await runs(h2, img.ref);

      // stdout when it is not a terminal; load from stdin; -q still names the image (as podman)
      const piped = await h.pod(["save", img.ref]);
      assert.equal(piped.code, 0, piped.stderr);
      const h3 = await tempPodHome();
      try {
        const l3 = await h3.pod(["load", "-q"], { stdin: piped.stdoutBytes });
        assert.equal(l3.code, 0, l3.stderr);
        assert.equal(l3.stdout, `Loaded image: ${img.ref}\n`);
        // gzip- and zstd-compressed archives are detected
        for (const [prog, args] of [["gzip", ["-c"]], ["zstd", ["-c", "-q"]]] as const) {
          const c = await new Deno.Command(prog, { args: [...args, f], stdout: "piped" }).output();
          const hz = await tempPodHome();
          try {
            const lz = await hz.pod(["load"], { stdin: c.stdout });
            assert.equal(lz.code, 0, `${prog}: ${lz.stderr}`);
            assert.equal(lz.stdout, `Loaded image: ${img.ref}\n`);
          } finally {
            await hz.cleanup();
          }
        }
      } finally {
        await h3.cleanup();
      }
    });
  },
});

Deno.test({
  name: "save: refuses a terminal-less -m misuse and unknown formats; -m writes several images",
  ...opts,
  async fn() {
    await withImage(async ({ h, h2, img, dir }) => {
      assert.equal((await h.pod(["tag", img.ref, "localhost/other:1"])).code, 0);
      const f = `${dir}/multi.tar`;
      const s = await h.pod(["save", "-m", "-o", f, img.ref, "localhost/other:1"]);
      assert.equal(s.code, 0, s.stderr);
      const l = await h2.pod(["load", "-i", f]);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, `Loaded image: ${img.ref}\nLoaded image: localhost/other:1\n`);
      // without -m the extra arguments are more names of the first image (podman's rule)
      const f2 = `${dir}/tags.tar`;
      assert.equal((await h.pod(["save", "-o", f2, img.ref, "localhost/more:2"])).code, 0);
      const ins = await tool("skopeo", ["inspect", `docker-archive:${f2}`]);
      assert.equal(ins.code, 0, ins.err);
      const bad = await h.pod(["save", "--format", "tar", "-o", f2, img.ref]);
      assert.equal(bad.code, 125);
      assert.ok(isOneLineError(bad.stderr), bad.stderr);
    });
  },
});

Deno.test({
  name: "save/load: oci-archive, skopeo copies it to an OCI layout, pod loads the layout dir and runs it",
  ...opts,
  async fn() {
    await withImage(async ({ h, h2, img, dir }) => {
      const f = `${dir}/bb-oci.tar`;
      const s = await h.pod(["save", "--format", "oci-archive", "-o", f, img.ref]);
      assert.equal(s.code, 0, s.stderr);
      const cp = await tool("skopeo", ["copy", `oci-archive:${f}`, `oci:${dir}/layout:bb`]);
      assert.equal(cp.code, 0, cp.err);
      const l = await h2.pod(["load", "-i", `${dir}/layout`]);
      assert.equal(l.code, 0, l.stderr);
      // skopeo names the entry "bb" (a bare tag): no repository, so it loads without a name
      const id = img.configDigest.slice(7);
      assert.equal(l.stdout, `Loaded image: sha256:${id}\n`);
      await runs(h2, id.slice(0, 12));

      const h3 = await tempPodHome();
      try {
        const l3 = await h3.pod(["load", "-i", f]);
        assert.equal(l3.code, 0, l3.stderr);
        assert.equal(l3.stdout, `Loaded image: ${img.ref}\n`);
        await runs(h3, img.ref);
      } finally {
        await h3.cleanup();
      }
    });
  },
});

Deno.test({
  name: "load: what skopeo wrote from pod's store (docker-archive) loads and runs",
  ...opts,
  async fn() {
    await withImage(async ({ h, h2, img, dir }) => {
      const f = `${dir}/skopeo.tar`;
      const cp = await tool("skopeo", [
        "copy",
        `oci:${h.home}:${img.ref}`,
        `docker-archive:${f}:localhost/from-skopeo:v1`,
      ]);
      assert.equal(cp.code, 0, cp.err);
      const l = await h2.pod(["load", "-i", f]);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, "Loaded image: localhost/from-skopeo:v1\n");
      await runs(h2, "localhost/from-skopeo:v1");
    });
  },
});

Deno.test({
  name:
    "podman interop: pod loads what podman saved and podman loads what pod saved (skipped without podman)",
  ...opts,
  async fn(t) {
    if (!(await hasTool("podman"))) {
      console.log("SKIPPED: podman is not installed");
      return;
    }
    await withImage(async ({ h, img, dir, reg }) => {
      const pr = [
        "--root",
        `${dir}/podman-root`,
        "--runroot",
        `${dir}/podman-run`,
        "--storage-driver",
        "vfs",
      ];
      const pull = await tool("podman", [...pr, "pull", "-q", "--tls-verify=false", img.ref]);
      if (pull.code !== 0) {
        await t.step({ name: `podman pull failed, skipped: ${pull.err.trim()}`, ignore: true, fn() {} });
        return;
      }
      const f = `${dir}/podman.tar`;
      const sv = await tool("podman", [...pr, "save", "-o", f, img.ref]);
      assert.equal(sv.code, 0, sv.err);
      await h.pod(["rmi", "-f", img.ref]);
      const l = await h.pod(["load", "-i", f]);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, `Loaded image: ${img.ref}\n`);
      await runs(h, img.ref);
      void reg;
      // and the other way: podman loads what pod saved, in both archive formats
      await tool("podman", [...pr, "rmi", "-a", "-f"]);
      for (const format of ["docker-archive", "oci-archive"]) {
        const out = `${dir}/pod-${format}.tar`;
        const s = await h.pod(["save", "--format", format, "-o", out, img.ref]);
        assert.equal(s.code, 0, s.stderr);
        const pl = await tool("podman", [...pr, "load", "-i", out]);
        assert.equal(pl.code, 0, `${format}: ${pl.err}`);
        assert.match(pl.out, /Loaded image/);
        const ins = await tool("podman", [...pr, "image", "inspect", "--format", "{{.Id}}", img.ref]);
        assert.equal(ins.code, 0, `${format}: ${ins.err}`);
        assert.equal(ins.out.trim(), img.configDigest.slice(7));
        await tool("podman", [...pr, "rmi", "-a", "-f"]);
      }
    });
  },
});

// ---- hostile archives ---------------------------------------------------------------------------------

const enc = new TextEncoder();

async function sha(b: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(h, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A minimal valid docker-archive (one layer with one file), with its parts for tampering. */
async function archiveParts() {
  const layer = buildTar([{ name: "hello.txt", content: "hi\n" }]);
  const lhex = await sha(layer);
  const config = enc.encode(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/hello.txt"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${lhex}`] },
  }));
  const chex = await sha(config);
  return { layer, lhex, config, chex };
}

function manifestJson(config: string, layers: string[], tags: string[] = ["localhost/evil:1"]): string {
  return JSON.stringify([{ Config: config, RepoTags: tags, Layers: layers }]);
}

Deno.test({
  name: "load: hostile archives fail with one line, exit 125, and leave the store unchanged",
  ...opts,
  async fn() {
    const h = await tempPodHome();
    const dir = await Deno.makeTempDir({ prefix: "pod-io-hostile-" });
    try {
      const { layer, lhex, config, chex } = await archiveParts();
      const ok = [
        { name: `${lhex}.tar`, content: layer },
        { name: `${chex}.json`, content: config },
      ];
      // sanity: the untampered archive loads
      const good = buildTar([...ok, {
        name: "manifest.json",
        content: manifestJson(`${chex}.json`, [`${lhex}.tar`]),
      }]);
      const g = await h.pod(["load"], { stdin: good });
      assert.equal(g.code, 0, g.stderr);
      assert.equal(g.stdout, "Loaded image: localhost/evil:1\n");
      assert.equal((await h.pod(["rmi", "localhost/evil:1"])).code, 0, "rmi");

      const otherLayer = buildTar([{ name: "other.txt", content: "other\n" }]);
      const cases: [string, Uint8Array, RegExp][] = [
        [
          "layer path with ../",
          buildTar([...ok, {
            name: "manifest.json",
            content: manifestJson(`${chex}.json`, [`../${lhex}.tar`]),
          }]),
          /outside the archive/,
        ],
        [
          "absolute layer path",
          buildTar([...ok, {
            name: "manifest.json",
            content: manifestJson(`${chex}.json`, [`/etc/passwd`]),
          }]),
          /outside the archive/,
        ],
        [
          "symlinked manifest.json",
          buildTar([...ok, { name: "real.json", content: manifestJson(`${chex}.json`, [`${lhex}.tar`]) }, {
            name: "manifest.json",
            type: "symlink",
            linkname: "real.json",
          }]),
          /manifest\.json is not a regular file/,
        ],
        [
          "layer symlink out of the archive",
          buildTar([{ name: `${chex}.json`, content: config }, {
            name: "x/layer.tar",
            type: "symlink",
            linkname: "../../../etc/passwd",
          }, { name: "manifest.json", content: manifestJson(`${chex}.json`, ["x/layer.tar"]) }]),
          /points outside the archive/,
        ],
        [
          "layer that does not match the diff_id",
          buildTar([{ name: `${lhex}.tar`, content: otherLayer }, { name: `${chex}.json`, content: config }, {
            name: "manifest.json",
            content: manifestJson(`${chex}.json`, [`${lhex}.tar`]),
          }]),
          /does not match the config's diff_id/,
        ],
        [
          "missing config",
          buildTar([{ name: `${lhex}.tar`, content: layer }, {
            name: "manifest.json",
            content: manifestJson(`${chex}.json`, [`${lhex}.tar`]),
          }]),
          /not in the archive/,
        ],
        [
          "duplicate entries",
          buildTar([...ok, ...ok, {
            name: "manifest.json",
            content: manifestJson(`${chex}.json`, [`${lhex}.tar`]),
          }]),
          /duplicate entry/,
        ],
        [
          "invalid name in repositories",
          buildTar([
            ...ok,
            { name: "repositories", content: JSON.stringify({ "BAD NAME//": { "x": lhex } }) },
            {
              name: "manifest.json",
              content: manifestJson(`${chex}.json`, [`${lhex}.tar`], []),
            },
          ]),
          /invalid image name/,
        ],
        [
          "invalid RepoTags name",
          buildTar([...ok, {
            name: "manifest.json",
            content: manifestJson(`${chex}.json`, [`${lhex}.tar`], ["../x"]),
          }]),
          /invalid image name/,
        ],
        [
          "truncated archive",
          good.subarray(0, 1500),
          /truncated/,
        ],
        [
          "OCI blob whose content does not match its name",
          buildTar([{ name: "oci-layout", content: '{"imageLayoutVersion":"1.0.0"}' }, {
            name: `blobs/sha256/${lhex}`,
            content: otherLayer,
          }, { name: "index.json", content: '{"schemaVersion":2,"manifests":[]}' }]),
          /digest mismatch/,
        ],
        [
          "not an archive at all",
          enc.encode("hello world, this is not a tar archive at all".repeat(20)),
          /invalid archive/,
        ],
        [
          "hostile layer entry (.. in a layer name)",
          await (async () => {
            const evil = buildTar([{ name: "../../escape.txt", content: "x" }]);
            const ehex = await sha(evil);
            const cfg = enc.encode(JSON.stringify({
              architecture: "amd64",
              os: "linux",
              rootfs: { type: "layers", diff_ids: [`sha256:${ehex}`] },
            }));
            const c2 = await sha(cfg);
            return buildTar([{ name: `${ehex}.tar`, content: evil }, { name: `${c2}.json`, content: cfg }, {
              name: "manifest.json",
              content: manifestJson(`${c2}.json`, [`${ehex}.tar`]),
            }]);
          })(),
          /escape\.txt/,
        ],
      ];
      for (const [what, bytes, want] of cases) {
        const before = await listStore(h.home, { ignoreTmp: true });
        const f = `${dir}/case.tar`;
        await Deno.writeFile(f, bytes);
        const r = await h.pod(["load", "-i", f]);
        assert.equal(r.code, 125, `${what}: ${r.stderr}`);
        assert.ok(isOneLineError(r.stderr), `${what}: ${r.stderr}`);
        assert.match(errorLine(r.stderr), want, what);
        const after = await listStore(h.home, { ignoreTmp: true });
        assert.equal(diffListings(before, after), "", `${what}: store changed`);
      }
      // a member beyond the size cap
      await Deno.writeFile(`${dir}/case.tar`, good);
      const before = await listStore(h.home, { ignoreTmp: true });
      const bomb = await h.pod(["load", "-i", `${dir}/case.tar`], { env: { POD_MAX_LAYER_BYTES: "100" } });
      assert.equal(bomb.code, 125);
      assert.match(errorLine(bomb.stderr), /larger than the limit/);
      assert.equal(diffListings(before, await listStore(h.home, { ignoreTmp: true })), "");
    } finally {
      await h.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

// ---- push ---------------------------------------------------------------------------------------------

async function skopeoInspect(ref: string, extra: string[] = []): Promise<Record<string, unknown>> {
  const r = await tool("skopeo", ["inspect", ...extra, ref]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

Deno.test({
  name: "push: new repository (blobs mounted from the pulled one), re-push skips, v2s2, chunked, digestfile",
  ...opts,
  async fn() {
    await withImage(async ({ h, h2, img, dir, reg }) => {
      const { pushImage } = await import("../../lib/image/push.ts");
      const dest = `${reg.host}/other/bb:v1`;
      const events: string[] = [];
      const r1 = await pushImage(h.home, img.ref, dest, {
        onEvent: (e) => e.type === "blob" && events.push(`${e.kind}:${e.result}`),
      });
      // same registry, other repository: every blob mounted, none uploaded
      assert.deepEqual(events, [...img.layers.map(() => "blob:mounted"), "config:mounted"]);
      const info = await skopeoInspect(`docker://${dest}`, ["--tls-verify=false"]);
      assert.equal(info.Digest, r1.digest);
      assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));

      // CLI: re-push finds every blob; --digestfile; -q prints nothing
      const again = await h.pod(["push", "--digestfile", `${dir}/d`, img.ref, dest]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /Copying blob \w{12} skipped: already exists/);
      assert.match(again.stderr, /Writing manifest to image destination/);
      assert.equal(await Deno.readTextFile(`${dir}/d`), r1.digest);
      const q = await h.pod(["push", "-q", img.ref, dest]);
      assert.equal(q.code, 0, q.stderr);
      assert.equal(q.stderr + q.stdout, "");
      // a re-push leaves out the manifest PUT only when the tag holds this very manifest: another format moves
      // the tag, and pushing the OCI manifest again moves it back
      const moved = await h.pod(["push", "-q", "--format", "v2s2", img.ref, dest]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.notEqual((await skopeoInspect(`docker://${dest}`, ["--tls-verify=false"])).Digest, r1.digest);
      const back = await h.pod(["push", "-q", img.ref, dest]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal((await skopeoInspect(`docker://${dest}`, ["--tls-verify=false"])).Digest, r1.digest);

      // v2s2: Docker media types, same blobs
      const v2 = await h.pod(["push", "--format", "v2s2", img.ref, `docker://${reg.host}/v2/bb:d`]);
      assert.equal(v2.code, 0, v2.stderr);
      const raw = await tool("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${reg.host}/v2/bb:d`,
      ]);
      const m = JSON.parse(raw.out);
      assert.equal(m.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
      assert.equal(m.config.mediaType, "application/vnd.docker.container.image.v1+json");
      assert.deepEqual(m.layers.map((l: { digest: string }) => l.digest), img.layers.map((l) => l.digest));

      // chunked upload to another registry (no mount possible), then pulled back and run
      const reg2 = await startRegistry();
      try {
        const dest2 = `${reg2.host}/chunked/bb:c`;
        const c = await h.pod(["push", img.ref, dest2], { env: { POD_PUSH_CHUNK_SIZE: "65536" } });
        assert.equal(c.code, 0, c.stderr);
        assert.match(c.stderr, /Copying blob \w{12} done/);
        const pulled = await h2.pod(["pull", "-q", dest2]);
        assert.equal(pulled.code, 0, pulled.stderr);
        await runs(h2, dest2);
      } finally {
        await reg2.stop();
      }
    });
  },
});

for (const auth of ["basic", "token"] as const) {
  Deno.test({
    name: `push: ${auth} auth with --creds; wrong credentials fail with one line`,
    ...opts,
    async fn() {
      await withImage(async ({ h, img }) => {
        const reg = await startRegistry({ auth });
        try {
          const dest = `${reg.host}/auth/bb:1`;
          const bad = await h.pod(["push", "--creds", `${reg.user}:wrong`, img.ref, dest]);
          assert.equal(bad.code, 125, bad.stderr);
          assert.ok(
            isOneLineError(bad.stderr.split("\n").filter((l) => !l.startsWith("Getting")).join("\n")),
          );
          const ok = await h.pod(["push", "--creds", `${reg.user}:${reg.password}`, img.ref, dest]);
          assert.equal(ok.code, 0, ok.stderr);
          const info = await skopeoInspect(`docker://${dest}`, [
            "--tls-verify=false",
            "--creds",
            `${reg.user}:${reg.password}`,
          ]);
          assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
        } finally {
          await reg.stop();
        }
      });
    },
  });
}

Deno.test({
  name: "push: oci:, docker-archive: and oci-archive: destinations that skopeo reads",
  ...opts,
  async fn() {
    await withImage(async ({ h, img, dir }) => {
      const dests = [
        [`oci:${dir}/layout:mytag`, `oci:${dir}/layout:mytag`],
        [`docker-archive:${dir}/d.tar:localhost/x:1`, `docker-archive:${dir}/d.tar`],
        [`oci-archive:${dir}/o.tar:mytag`, `oci-archive:${dir}/o.tar:mytag`],
      ];
      for (const [dest, read] of dests) {
        const r = await h.pod(["push", img.ref, dest]);
        assert.equal(r.code, 0, `${dest}: ${r.stderr}`);
        const info = await skopeoInspect(read);
        assert.equal((info.Layers as string[]).length, img.layers.length, dest);
      }
      // a second name in the same layout is added, not replacing the first
      assert.equal((await h.pod(["push", img.ref, `oci:${dir}/layout:second`])).code, 0);
      await skopeoInspect(`oci:${dir}/layout:mytag`);
      await skopeoInspect(`oci:${dir}/layout:second`);
    });
  },
});

Deno.test({
  name: "untag, image exists, container exists",
  ...opts,
  async fn() {
    await withImage(async ({ h, img }) => {
      const ex = async (args: string[]) => {
        const r = await h.pod(args);
        assert.equal(r.stdout + r.stderr, "", args.join(" "));
        return r.code;
      };
      assert.equal(await ex(["image", "exists", img.ref]), 0);
      assert.equal(await ex(["image", "exists", img.configDigest.slice(7, 19)]), 0);
      assert.equal(await ex(["image", "exists", "localhost/nope:1"]), 1);
      assert.equal(await ex(["container", "exists", "nope"]), 1);
      const c = await h.pod(["create", "--name", "c1", img.ref, "true"]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(await ex(["container", "exists", "c1"]), 0);
      assert.equal(await ex(["container", "exists", c.stdout.trim().slice(0, 12)]), 0);

      assert.equal((await h.pod(["tag", img.ref, "localhost/a:1", "localhost/b:2"])).code, 0);
      const u = await h.pod(["untag", img.ref, "localhost/a:1"]);
      assert.equal(u.code, 0, u.stderr);
      assert.equal(await ex(["image", "exists", "localhost/a:1"]), 1);
      assert.equal(await ex(["image", "exists", "localhost/b:2"]), 0);
      const unknown = await h.pod(["untag", img.ref, "localhost/zzz:9"]);
      assert.equal(unknown.code, 125);
      assert.ok(isOneLineError(unknown.stderr), unknown.stderr);
      // no name given: every name goes, the image stays (as <none>) and still runs by ID
      assert.equal((await h.pod(["untag", "localhost/b:2"])).code, 0);
      const id = img.configDigest.slice(7, 19);
      assert.equal(await ex(["image", "exists", id]), 0);
      assert.equal(await ex(["image", "exists", img.ref]), 1);
      const list = await h.pod(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
      assert.equal(list.stdout, "<none>:<none>\n");
    });
  },
});

// ---- commit -------------------------------------------------------------------------------------------

await testRootAndRootless(
  "commit: changes, deletions, opaque dir, owners as the container sees them, --change",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const script = "echo new > /new.txt && chown 1000:1000 /new.txt && rm /etc/group && " +
        "rm -rf /home/u1000 && mkdir /home/u1000 && echo fresh > /home/u1000/fresh && ln /new.txt /hard.txt && ln -s /etc/passwd /abs";
      const c = await h.pod(["run", "--name", "c1", img.ref, "sh", "-c", script]);
      assert.equal(c.code, 0, c.stderr);
      const r = await h.pod([
        "commit",
        "-a",
        "Ada <ada@example.com>",
        "-m",
        "my change",
        "-c",
        'CMD ["cat","/new.txt"]',
        "-c",
        "ENV FOO=bar",
        "--change",
        "LABEL team=io",
        "-c",
        "EXPOSE 8080",
        "-c",
        "WORKDIR /tmp",
        "c1",
        "committed",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^[a-f0-9]{64}\n$/);
      const ran = await h.pod(["run", "--rm", "localhost/committed:latest"]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, "new\n");
      const check = await h.pod([
        "run",
        "--rm",
        "committed",
        "sh",
        "-c",
        "test ! -e /etc/group && ls /home/u1000 && stat -c '%u:%g %h' /new.txt && echo $FOO && pwd && test -e /etc/passwd && readlink /abs",
      ]);
      assert.equal(check.code, 0, check.stderr);
      assert.equal(check.stdout, "fresh\n1000:1000 2\nbar\n/tmp\n/etc/passwd\n");
      const info = await tool("skopeo", ["inspect", "--config", `oci:${h.home}:localhost/committed:latest`]);
      if (mode === "root") {
        assert.equal(info.code, 0, info.err);
        const cfg = JSON.parse(info.out);
        assert.equal(cfg.author, "Ada <ada@example.com>");
        assert.equal(cfg.config.Labels.team, "io");
        assert.deepEqual(Object.keys(cfg.config.ExposedPorts), ["8080/tcp"]);
        assert.equal(cfg.history.at(-1).comment, "my change");
        assert.equal(cfg.rootfs.diff_ids.length, img.layers.length + 1);
      }
      // -q prints only the ID; no IMAGE: a nameless image; a bad --change fails before any work
      const q = await h.pod(["commit", "-q", "c1"]);
      assert.equal(q.code, 0, q.stderr);
      assert.equal(q.stderr, "");
      const bad = await h.pod(["commit", "-c", "FROM x", "c1", "bad"]);
      assert.equal(bad.code, 125);
      assert.ok(isOneLineError(bad.stderr), bad.stderr);
      assert.equal((await h.pod(["image", "exists", "localhost/bad:latest"])).code, 1);
    }),
);

await testRootAndRootless(
  "commit --format docker, anonymous volumes as image VOLUMEs, --include-volumes adds the others",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      // a bind of a directory of the test's own (never a shared one like the host's /tmp)
      const src = `${h.root}/bound-src`;
      await Deno.mkdir(src, { mode: 0o755 });
      const c = await h.pod([
        "run",
        "--name",
        "v1",
        "-v",
        "/anon",
        "-v",
        `${src}:/bound:ro`,
        img.ref,
        "true",
      ]);
      assert.equal(c.code, 0, c.stderr);
      const vols = async (image: string) => {
        const r = await h.pod(["inspect", "--format", "{{json .Config.Volumes}}", image]);
        assert.equal(r.code, 0, r.stderr);
        return Object.keys(JSON.parse(r.stdout.trim()) ?? {}).sort();
      };
      assert.equal((await h.pod(["commit", "-q", "v1", "plain"])).code, 0);
      assert.deepEqual(await vols("plain"), ["/anon"]);
      assert.equal((await h.pod(["commit", "-q", "--include-volumes", "v1", "withvols"])).code, 0);
      assert.deepEqual(await vols("withvols"), ["/anon", "/bound"]);

      const d = await h.pod(["commit", "-q", "--format", "docker", "v1", "dockerfmt"]);
      assert.equal(d.code, 0, d.stderr);
      const mt = await h.pod(["inspect", "--format", "{{.ManifestType}}", "dockerfmt"]);
      assert.equal(mt.stdout.trim(), "application/vnd.docker.distribution.manifest.v2+json");
      const o = await h.pod(["inspect", "--format", "{{.ManifestType}}", "plain"]);
      assert.equal(o.stdout.trim(), "application/vnd.oci.image.manifest.v1+json");
      const ran = await h.pod(["run", "--rm", "dockerfmt", "echo", "ok"]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, "ok\n");
      const bad = await h.pod(["commit", "--format", "v1", "v1", "nope"]);
      assert.equal(bad.code, 125);
      assert.ok(isOneLineError(bad.stderr), bad.stderr);
      // a container never started has no changes: its commit is the image plus an empty layer
      assert.equal((await h.pod(["create", "--name", "never", img.ref, "true"])).code, 0);
      const n = await h.pod(["commit", "-q", "never", "fromnever"]);
      assert.equal(n.code, 0, n.stderr);
      const again = await h.pod(["run", "--rm", "fromnever", "echo", "ok"]);
      assert.equal(again.stdout, "ok\n", again.stderr);
    }),
);

Deno.test({
  name: "push: HEAD before upload, a 500 on the upload start is retried, the manifest PUT comes last",
  ...opts,
  async fn() {
    const { startFaultProxy } = await import("../helpers/fault_proxy.ts");
    await withImage(async ({ h, h2, img, reg }) => {
      const proxy = await startFaultProxy(`http://${reg.host}`);
      try {
        proxy.add({
          when: (_req, url) => url.pathname.includes("/blobs/uploads/"),
          method: "POST",
          times: 1,
          fault: { status: 500, body: "boom" },
        });
        const dest = `${proxy.host}/retry/bb:1`;
        const r = await h.pod(["push", img.ref, dest]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Retrying: /);
        const seen = proxy.seen.filter((s) => s.path.startsWith("/v2/retry/"));
        const firstHead = seen.findIndex((s) => s.method === "HEAD");
        const firstPost = seen.findIndex((s) => s.method === "POST");
        assert.ok(firstHead >= 0 && firstHead < firstPost, JSON.stringify(seen.map((s) => s.method)));
        assert.equal(seen.filter((s) => s.fault === "status").length, 1);
        assert.equal(seen.at(-1)?.method, "PUT");
        assert.match(seen.at(-1)?.path ?? "", /\/manifests\/1$/);
        const pulled = await h2.pod(["pull", "-q", dest]);
        assert.equal(pulled.code, 0, pulled.stderr);
      } finally {
        await proxy.stop();
      }
    });
  },
});

await testRootAndRootless(
  "save, rmi, load, run; push to another repository",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const f = `${h.root}/rt.tar`;
      const s = await h.pod(["save", "-o", f, img.ref]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal((await h.pod(["rmi", img.ref])).code, 0);
      const l = await h.pod(["load", "-i", f]);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, `Loaded image: ${img.ref}\n`);
      await runs(h, img.ref);
      const host = img.ref.split("/")[0];
      const p = await h.pod(["push", "-q", img.ref, `${host}/${mode}/bb:1`]);
      assert.equal(p.code, 0, p.stderr);
      const info = await skopeoInspect(`docker://${host}/${mode}/bb:1`, ["--tls-verify=false"]);
      assert.equal((info.Layers as string[]).length, img.layers.length);
    }),
);

/** Names of the finished image trees of the store at `store` (none when it has no trees dir). */
async function finishedTrees(store: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(`${store}/trees`)) if (!e.name.includes(".tmp-")) out.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/** A docker-archive of one layer holding `entries` (a tar's), named localhost/evil:1. */
async function oneLayerArchive(entries: Parameters<typeof buildTar>[0]): Promise<Uint8Array> {
  const layer = buildTar(entries);
  const lhex = await sha(layer);
  const cfg = enc.encode(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [`sha256:${lhex}`] },
  }));
  const chex = await sha(cfg);
  return buildTar([{ name: `${lhex}.tar`, content: layer }, { name: `${chex}.json`, content: cfg }, {
    name: "manifest.json",
    content: manifestJson(`${chex}.json`, [`${lhex}.tar`]),
  }]);
}

await testRootAndRootless(
  "load: every layer read through the unpacker's rules (a hostile name fails the load); the tree waits for the first start",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const f = `${h.root}/bb.tar`;
      const s = await h.pod(["save", "-o", f, img.ref]);
      assert.equal(s.code, 0, s.stderr);
      // a fresh store: the load stores and checks the layers but builds no tree; the first run builds it
      const store = `${h.root}/store2`;
      const l = await h.pod(["--root", store, "load", "-i", f]);
      assert.equal(l.code, 0, l.stderr);
      assert.deepEqual(await finishedTrees(store), [], "no tree after load");
      const r = await h.pod(["--root", store, "run", "--rm", img.ref, "echo", "hello from the archive"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello from the archive\n");
      assert.equal((await finishedTrees(store)).length, 1, "the first run built the tree");
      // hostile entries fail the load (one line, exit 125) and leave the store as it was
      const hostile: [string, Parameters<typeof buildTar>[0], RegExp][] = [
        [
          "a name climbing out",
          [{ name: "../../escape.txt", content: "x" }],
          /escape\.txt.*escapes the root/,
        ],
        [
          "a hardlink target climbing out",
          [{ name: "x", type: "hardlink", linkname: "../../etc/passwd" }],
          /escapes/,
        ],
        ["an invalid whiteout", [{ name: "a/.wh...", content: "" }], /invalid whiteout name/],
      ];
      for (const [what, entries, want] of hostile) {
        await Deno.writeFile(`${h.root}/evil.tar`, await oneLayerArchive(entries));
        if (mode === "rootless") await Deno.chown(`${h.root}/evil.tar`, h.user!.uid, h.user!.gid);
        const before = await listStore(store, { ignoreTmp: true });
        const e = await h.pod(["--root", store, "load", "-i", `${h.root}/evil.tar`]);
        assert.equal(e.code, 125, `${what}: ${e.stderr}`);
        assert.ok(isOneLineError(e.stderr), `${what}: ${e.stderr}`);
        assert.match(errorLine(e.stderr), want, what);
        assert.equal(
          diffListings(before, await listStore(store, { ignoreTmp: true })),
          "",
          `${what}: store changed`,
        );
      }
    }),
);

// ---- import -------------------------------------------------------------------------------------------

Deno.test({
  name:
    "import: a rootfs tarball from a file, gzip on stdin, an http URL; --change; a hostile tarball leaves nothing",
  ...opts,
  async fn() {
    const { busyboxTar } = await import("../helpers/fixtures.ts");
    const h = await tempPodHome();
    const dir = await Deno.makeTempDir({ prefix: "pod-import-" });
    const tarBytes = await busyboxTar();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(tarBytes as Uint8Array<ArrayBuffer>),
    );
    try {
      await Deno.writeFile(`${dir}/rootfs.tar`, tarBytes);
      const r = await h.pod([
        "import",
        "-c",
        'CMD ["/bin/sh","-c","echo imported"]',
        "-m",
        "hi",
        `${dir}/rootfs.tar`,
        "myimp",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^sha256:[a-f0-9]{64}\n$/);
      const run = await h.pod(["run", "--rm", "localhost/myimp:latest"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "imported\n");

      const gz = await new Deno.Command("gzip", { args: ["-c", `${dir}/rootfs.tar`], stdout: "piped" })
        .output();
      const s = await h.pod(["import", "-q", "-", "fromstdin:v2"], { stdin: gz.stdout });
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stderr, "");
      await runs(h, "localhost/fromstdin:v2");

      const u = await h.pod(["import", `http://127.0.0.1:${server.addr.port}/rootfs.tar`, "fromurl"]);
      assert.equal(u.code, 0, u.stderr);
      await runs(h, "fromurl");

      const before = await listStore(h.home, { ignoreTmp: true });
      await Deno.writeFile(`${dir}/evil.tar`, buildTar([{ name: "../../escape.txt", content: "x" }]));
      const evil = await h.pod(["import", `${dir}/evil.tar`, "evil"]);
      assert.equal(evil.code, 125, evil.stderr);
      assert.ok(
        isOneLineError(evil.stderr.split("\n").filter((l) => !l.startsWith("Getting")).join("\n")),
        evil.stderr,
      );
      assert.equal((await h.pod(["image", "exists", "localhost/evil"])).code, 1);
      assert.equal(diffListings(before, await listStore(h.home, { ignoreTmp: true })), "");
    } finally {
      await server.shutdown();
      await h.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

await testRootAndRootless(
  "export: the container's merged root (changes, deletions), owners as it sees them; import runs it",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const c = await h.pod([
        "run",
        "--name",
        "x1",
        img.ref,
        "sh",
        "-c",
        "echo n > /new.txt && chown 1000:1000 /new.txt && rm /etc/group",
      ]);
      assert.equal(c.code, 0, c.stderr);
      const f = `${h.root}/x1.tar`;
      const e = await h.pod(["export", "-o", f, "x1"]);
      assert.equal(e.code, 0, e.stderr);
      const list = await tool("tar", ["-tvf", f, "--numeric-owner"]);
      assert.equal(list.code, 0, list.err);
      assert.match(list.out, /1000\/1000 +2 .* \.\/new\.txt\n/);
      assert.match(list.out, /\.\/bin\/busybox\n/);
      assert.match(list.out, /\.\/etc\/passwd\n/);
      assert.doesNotMatch(list.out, /\.\/etc\/group\n/);
      assert.doesNotMatch(list.out, /\.wh\./);
      const piped = await h.pod(["export", "x1"]);
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stdoutBytes.length, (await Deno.stat(f)).size);
      const i = await h.pod(["import", "-q", "-c", "CMD cat /new.txt", f, "exported"]);
      assert.equal(i.code, 0, i.stderr);
      const r = await h.pod(["run", "--rm", "exported"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "n\n");
    }),
);

await testRootAndRootless(
  "diff: A/C/D of a container and of a committed image's top layer, --format json",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const c = await h.pod([
        "run",
        "--name",
        "d1",
        img.ref,
        "sh",
        "-c",
        "echo n > /new.txt && rm /etc/group && mkdir /d && echo x >> /etc/passwd",
      ]);
      assert.equal(c.code, 0, c.stderr);
      const want = "A /d\nC /etc\nD /etc/group\nC /etc/passwd\nA /new.txt\n";
      const d = await h.pod(["diff", "d1"]);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(d.stdout, want);
      const j = await h.pod(["container", "diff", "--format", "json", "d1"]);
      assert.equal(j.code, 0, j.stderr);
      assert.deepEqual(JSON.parse(j.stdout), {
        changed: ["/etc", "/etc/passwd"],
        added: ["/d", "/new.txt"],
        deleted: ["/etc/group"],
      });
      assert.equal((await h.pod(["commit", "-q", "d1", "withdiff"])).code, 0);
      const i = await h.pod(["image", "diff", "localhost/withdiff"]);
      assert.equal(i.code, 0, i.stderr);
      assert.equal(i.stdout, want);
      const none = await h.pod(["diff", "nosuch"]);
      assert.equal(none.code, 125);
    }),
);

Deno.test({
  name: "search: the registry's catalog matched by term, --limit, --format, --list-tags",
  ...opts,
  async fn() {
    await withImage(async ({ h, img, reg }) => {
      assert.equal((await h.pod(["push", "-q", img.ref, `${reg.host}/other/busybox-copy:v9`])).code, 0);
      const s = await h.pod(["search", "--tls-verify=false", `${reg.host}/busy`]);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /^NAME +DESCRIPTION\n/);
      assert.match(s.stdout, new RegExp(`${reg.host}/test/busybox`));
      assert.match(s.stdout, new RegExp(`${reg.host}/other/busybox-copy`));
      const f = await h.pod(["search", "--limit", "1", "--format", "{{.Name}}", `${reg.host}/busybox-copy`]);
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stdout, `${reg.host}/other/busybox-copy\n`);
      const t = await h.pod(["search", "--list-tags", `${reg.host}/other/busybox-copy`]);
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stdout, /^NAME +TAG\n.*\/other\/busybox-copy +v9\n$/);
      const bad = await h.pod(["search", "busybox"]);
      assert.equal(bad.code, 125);
    });
  },
});

Deno.test({
  name:
    "podman interop: a committed image pushed by pod, pulled by podman, shows the deletion and the new file",
  ...opts,
  async fn() {
    if (!(await hasTool("podman"))) {
      console.log("SKIPPED: podman is not installed");
      return;
    }
    await withImage(async ({ h, img, dir, reg }) => {
      const c = await h.pod([
        "run",
        "--name",
        "c",
        img.ref,
        "sh",
        "-c",
        "echo new > /new.txt && rm /etc/group",
      ]);
      assert.equal(c.code, 0, c.stderr);
      const ref = `${reg.host}/committed/x:1`;
      assert.equal((await h.pod(["commit", "-q", "c", ref])).code, 0);
      const p = await h.pod(["push", "-q", ref]);
      assert.equal(p.code, 0, p.stderr);
      const pr = [
        "--root",
        `${dir}/podman-root`,
        "--runroot",
        `${dir}/podman-run`,
        "--storage-driver",
        "vfs",
      ];
      try {
        const pull = await tool("podman", [...pr, "pull", "-q", "--tls-verify=false", ref]);
        assert.equal(pull.code, 0, pull.err);
        const m = await tool("podman", [...pr, "image", "mount", ref]);
        assert.equal(m.code, 0, m.err);
        const mnt = m.out.trim();
        assert.equal(await Deno.readTextFile(`${mnt}/new.txt`), "new\n");
        await assert.rejects(Deno.lstat(`${mnt}/etc/group`));
        await Deno.lstat(`${mnt}/etc/passwd`);
      } finally {
        await tool("podman", [...pr, "image", "unmount", "-a"]);
        await tool("podman", [...pr, "rmi", "-a", "-f"]);
      }
    });
  },
});

Deno.test({
  name:
    "save --format docker-dir and push dir:: skopeo reads the dir: layout, pod loads what skopeo made of it",
  ...opts,
  async fn() {
    await withImage(async ({ h, h2, img, dir }) => {
      const dd = `${dir}/docker-dir`;
      const s = await h.pod(["save", "--format", "docker-dir", "-o", dd, img.ref]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(await Deno.readTextFile(`${dd}/version`), "Directory Transport Version: 1.1\n");
      const raw = await tool("skopeo", ["inspect", "--raw", `dir:${dd}`]);
      assert.equal(raw.code, 0, raw.err);
      assert.equal(JSON.parse(raw.out).mediaType, "application/vnd.docker.distribution.manifest.v2+json");
      const cfg = await tool("skopeo", ["inspect", "--config", `dir:${dd}`]);
      assert.equal(cfg.code, 0, cfg.err);
      assert.equal(JSON.parse(cfg.out).rootfs.diff_ids.length, img.layers.length);
      const tar = `${dir}/from-dir.tar`;
      const cp = await tool("skopeo", ["copy", `dir:${dd}`, `docker-archive:${tar}:localhost/fromdir:1`]);
      assert.equal(cp.code, 0, cp.err);
      const l = await h2.pod(["load", "-i", tar]);
      assert.equal(l.code, 0, l.stderr);
      await runs(h2, "localhost/fromdir:1");

      // --uncompressed: the layers as plain tars named by their diff_ids; skopeo verifies them
      const du = `${dir}/docker-dir-plain`;
      const su = await h.pod(["save", "--format", "docker-dir", "--uncompressed", "-o", du, img.ref]);
      assert.equal(su.code, 0, su.stderr);
      const mu = JSON.parse(await Deno.readTextFile(`${du}/manifest.json`));
      assert.equal(mu.layers[0].mediaType, "application/vnd.docker.image.rootfs.diff.tar");
      assert.equal(mu.layers[0].digest, JSON.parse(cfg.out).rootfs.diff_ids[0]);
      const cu = await tool("skopeo", ["copy", `dir:${du}`, `oci:${dir}/from-plain:x`]);
      assert.equal(cu.code, 0, cu.err);
      const bad = await h.pod(["save", "--format", "oci-dir", "--uncompressed", "-o", `${dir}/o`, img.ref]);
      assert.equal(bad.code, 125, bad.stderr);

      // push dir: keeps the stored OCI manifest (same digest); --format v2s2 converts
      const od = `${dir}/oci-manifest-dir`;
      const p = await h.pod(["push", "-q", "--digestfile", `${dir}/digest`, img.ref, `dir:${od}`]);
      assert.equal(p.code, 0, p.stderr);
      const ins = await tool("skopeo", ["inspect", `dir:${od}`]);
      assert.equal(ins.code, 0, ins.err);
      assert.equal(JSON.parse(ins.out).Digest, await Deno.readTextFile(`${dir}/digest`));
      // a directory that is not empty and not a dir: layout is refused, untouched
      await Deno.mkdir(`${dir}/busy`);
      await Deno.writeTextFile(`${dir}/busy/keep`, "x");
      const busy = await h.pod(["save", "--format", "docker-dir", "-o", `${dir}/busy`, img.ref]);
      assert.equal(busy.code, 125, busy.stderr);
      assert.ok(isOneLineError(busy.stderr), busy.stderr);
      assert.deepEqual([...Deno.readDirSync(`${dir}/busy`)].map((e) => e.name), ["keep"]);
    });
  },
});

Deno.test({
  name:
    "push --compression-format zstd/gzip: layers re-compressed (same diff_ids), pulled back and run; store unchanged",
  ...opts,
  async fn() {
    await withImage(async ({ h, h2, img, reg }) => {
      const before = await listStore(h.home, { ignoreTmp: true });
      const z = `${reg.host}/recompressed/zstd:1`;
      const p = await h.pod(["push", "-q", "--compression-format", "zstd", img.ref, z]);
      assert.equal(p.code, 0, p.stderr);
      const raw = await tool("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${z}`]);
      assert.equal(raw.code, 0, raw.err);
      const m = JSON.parse(raw.out);
      assert.deepEqual(
        m.layers.map((l: { mediaType: string }) => l.mediaType),
        img.layers.map(() => "application/vnd.oci.image.layer.v1.tar+zstd"),
      );
      assert.notEqual(m.layers[0].digest, img.layers[0].digest);
      assert.equal(m.config.digest, img.configDigest);
      // the re-compressed blobs were temporary: the store is as before
      assert.equal(diffListings(before, await listStore(h.home, { ignoreTmp: true })), "");
      const pulled = await h2.pod(["pull", "-q", z]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(pulled.stdout.trim(), img.configDigest.slice(7));
      await runs(h2, z);
      // back to gzip from the zstd image; gzip of a gzip image uploads the stored blobs
      const g = `${reg.host}/recompressed/gzip:1`;
      const back = await h2.pod(["push", "-q", "--compression-format", "gzip", z, g]);
      assert.equal(back.code, 0, back.stderr);
      const graw = JSON.parse(
        (await tool("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${g}`])).out,
      );
      assert.equal(graw.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
      const same = `${reg.host}/recompressed/same:1`;
      assert.equal((await h.pod(["push", "-q", "--compression-format", "gzip", img.ref, same])).code, 0);
      const sraw = JSON.parse(
        (await tool("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${same}`])).out,
      );
      assert.equal(sraw.layers[0].digest, img.layers[0].digest);
      for (
        const bad of [["--compression-format", "lz4"], ["--compression-format", "zstd", "--format", "v2s2"]]
      ) {
        const r = await h.pod(["push", "-q", ...bad, img.ref, `${reg.host}/recompressed/bad:1`]);
        assert.equal(r.code, 125, r.stderr);
        assert.ok(isOneLineError(r.stderr), r.stderr);
      }
    });
  },
});

Deno.test({
  name: "image tree: layers by chain ID with their sizes, the top layer names its images",
  ...opts,
  async fn() {
    await withImage(async ({ h, img }) => {
      assert.equal((await h.pod(["tag", img.ref, "localhost/other:2"])).code, 0);
      const r = await h.pod(["image", "tree", img.ref]);
      assert.equal(r.code, 0, r.stderr);
      const cfg = JSON.parse(
        (await h.pod(["inspect", "--format", "{{json .RootFS.Layers}}", img.ref])).stdout,
      );
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines[0], `Image ID: ${img.configDigest.slice(7, 19)}`);
      assert.match(lines[1], /^Tags: {5}\[.*localhost\/other:2.*\]$/);
      assert.match(lines[2], /^Size: {5}\d/);
      assert.equal(lines[3], "Image Layers");
      assert.equal(lines.length, 4 + img.layers.length);
      // one layer: its chain ID is its diff_id
      assert.match(
        lines[4],
        new RegExp(`^└── ID: ${cfg[0].slice(7, 19)} Size: +[\\d.]+ [kM]?B Top Layer of: \\[`),
      );
      assert.ok(lines[4].includes(img.ref) && lines[4].includes("localhost/other:2"), lines[4]);
      const missing = await h.pod(["image", "tree", "nope"]);
      assert.equal(missing.code, 125);
      assert.ok(isOneLineError(missing.stderr), missing.stderr);
    });
  },
});
