/**
 * `pod build`'s layers are stored uncompressed (as podman's containers-storage keeps them): media type
 * `application/vnd.oci.image.layer.v1.tar`, digest = diff_id. Root and rootless: the stored manifest says so,
 * a RUN's files are deleted after the build (in the background: nothing is left in the store's `tmp/`),
 * `history` sizes are the tar sizes, a plain `push` to a registry gzips them (as podman's push does: the
 * registry's manifest lists gzip layers whose blobs decompress to the diff_ids, annotations kept, a
 * `--format docker` build stays a Docker manifest with Docker gzip layers), `--compression-format zstd` makes
 * zstd layers, and the pushed image pulled into a fresh store runs; as root, podman pulls and runs it too. The
 * COPY after the RUN has its layer made while the RUN runs; the result shows its file.
 * @module
 */

import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";
import { podmanCgroupParent } from "../helpers/podman_cgroups.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { TEST_USER } from "../helpers/rootless.ts";

const OCI_TAR = "application/vnd.oci.image.layer.v1.tar";
const OCI_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
const DOCKER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}
interface Manifest {
  mediaType: string;
  config: Desc;
  layers: Desc[];
  annotations?: Record<string, string>;
}

async function sha256(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return "sha256:" + Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function hasTool(name: string): Promise<boolean> {
  return (await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" }).output())
    .success;
}

await testRootAndRootless(
  "build: layers stored uncompressed, pushed gzip (zstd with --compression-format), pulled and run",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }, t) => {
      const host = img.ref.split("/")[0];
      const ctx = `${h.root}/ctx`;
      await Deno.mkdir(ctx);
      await Deno.writeTextFile(`${ctx}/f`, "copied\n".repeat(1000));
      await Deno.writeTextFile(
        `${ctx}/Containerfile`,
        `FROM ${img.ref}\nRUN echo run > /r\nCOPY f /d/\nWORKDIR /w\nCMD ["sh", "-c", "cat /r; wc -c < /d/f; pwd"]\n`,
      );
      if (h.user) {
        await new Deno.Command("chown", { args: ["-R", `${h.user.uid}:${h.user.gid}`, ctx] }).output();
      }
      // --annotation alone: the result gets a config of its own (not the last step's with a second manifest)
      const b = await h.pod([
        "--log-level=debug",
        "build",
        "-q",
        "--annotation",
        "made.by=pod",
        "-t",
        "layers",
        ctx,
      ]);
      assert.equal(b.code, 0, b.stderr);
      // the COPY after the RUN: its layer made while the RUN ran (its content checked by running the image)
      assert.match(b.stderr, /COPY at line 3: its layer was made while the RUN before it ran/);
      // the RUN's upper dir went to the store's tmp/ for a detached deletion (not left to the removal)
      assert.doesNotMatch(b.stderr, /stays for the container's removal|left for the stale-temp cleanup/);
      const blob = (d: string) => Deno.readFile(`${h.home}/blobs/sha256/${d.slice(7)}`);
      const digest = (await h.pod(["image", "inspect", "--format", "{{.Digest}}", "layers"])).stdout.trim();
      const local: Manifest = JSON.parse(new TextDecoder().decode(await blob(digest)));
      const config = JSON.parse(new TextDecoder().decode(await blob(local.config.digest)));
      const diffIds: string[] = config.rootfs.diff_ids;
      assert.equal(local.annotations?.["made.by"], "pod");
      // the base's layer as pulled (gzip); RUN, COPY and WORKDIR's layers: the plain tar, digest = diff_id
      assert.equal(local.layers.length, 4);
      assert.equal(local.layers[0].mediaType, img.layers[0].mediaType);
      for (const [i, l] of local.layers.entries()) {
        if (i === 0) continue;
        assert.equal(l.mediaType, OCI_TAR, `layer ${i}`);
        assert.equal(l.digest, diffIds[i], `layer ${i}: digest = diff_id`);
        const bytes = await blob(l.digest);
        assert.equal(bytes.length, l.size);
        assert.equal(await sha256(bytes), l.digest);
      }
      // history: each layer's size is its tar's (the COPY: 7,000 bytes of file, headers, padding, end blocks)
      const hist = await h.pod(["history", "--format", "{{.CreatedBy}}|{{.Size}}", "layers"]);
      assert.equal(hist.code, 0, hist.stderr);
      const copyLine = hist.stdout.split("\n").find((l) => l.includes("COPY")) ?? "";
      assert.ok(local.layers[2].size > 7000 && local.layers[2].size < 12000, String(local.layers[2].size));
      const shown = Number(/\|([\d.]+) kB$/.exec(copyLine)?.[1]) * 1000;
      assert.ok(Math.abs(shown - local.layers[2].size) < 10, hist.stdout);

      await t.step(
        "the RUN's files are deleted after the build (in the background), nothing left",
        async () => {
          const left = async () => {
            const out: string[] = [];
            for (const d of ["tmp", "containers"]) {
              try {
                for await (const e of Deno.readDir(`${h.home}/${d}`)) {
                  if (d === "tmp" || /^[a-f0-9]{64}$/.test(e.name)) out.push(`${d}/${e.name}`); // not names/
                }
              } catch { /* not there */ }
            }
            return out;
          };
          let now: string[] = [];
          for (let i = 0; i < 600; i++) {
            now = await left();
            if (!now.length) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.deepEqual(now, []);
        },
      );

      await t.step("rebuilt from the cache, with and without --annotation", async () => {
        for (const extra of [["--annotation", "made.by=pod"], []]) {
          const r = await h.pod(["build", "-q", ...extra, "-t", "layers-again", ctx]);
          assert.equal(r.code, 0, r.stderr);
          const run = await h.pod(["run", "--rm", r.stdout.trim().split("\n").at(-1)!]);
          assert.equal(run.stdout, "run\n7000\n/w\n", run.stderr);
        }
      });

      const fetchManifest = async (repo: string, tag: string): Promise<Manifest> => {
        const r = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: ACCEPT } });
        assert.equal(r.status, 200);
        return await r.json();
      };
      const fetchBlob = async (repo: string, d: string) =>
        new Uint8Array(await (await fetch(`http://${host}/v2/${repo}/blobs/${d}`)).arrayBuffer());

      await t.step("a plain push gzips the uncompressed layers", async () => {
        const p = await h.pod(["push", "-q", "layers", `${host}/built/layers:gz`]);
        assert.equal(p.code, 0, p.stderr);
        const m = await fetchManifest("built/layers", "gz");
        assert.equal(m.mediaType, "application/vnd.oci.image.manifest.v1+json");
        assert.equal(m.config.digest, local.config.digest);
        assert.equal(m.annotations?.["made.by"], "pod");
        assert.equal(m.layers[0].digest, local.layers[0].digest); // pushed as stored
        for (const [i, l] of m.layers.entries()) {
          assert.equal(l.mediaType, OCI_GZIP, `layer ${i}`);
          const z = await fetchBlob("built/layers", l.digest);
          assert.equal(await sha256(gunzipSync(z)), diffIds[i], `layer ${i} decompresses to its diff_id`);
        }
        // the gzip blobs made for the push are not left in the store
        for (const l of m.layers.slice(1)) {
          await assert.rejects(Deno.stat(`${h.home}/blobs/sha256/${l.digest.slice(7)}`));
        }
      });

      await t.step("pulled into a fresh store, the pushed image runs", async () => {
        const h2 = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
        try {
          const r = await h2.pod(["run", "--rm", `${host}/built/layers:gz`]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "run\n7000\n/w\n");
        } finally {
          await h2.cleanup();
        }
      });

      await t.step("--compression-format zstd: zstd layers", async () => {
        const p = await h.pod([
          "push",
          "-q",
          "--compression-format",
          "zstd",
          "layers",
          `${host}/built/layers:zst`,
        ]);
        assert.equal(p.code, 0, p.stderr);
        const m = await fetchManifest("built/layers", "zst");
        assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_ZSTD, OCI_ZSTD, OCI_ZSTD, OCI_ZSTD]);
      });

      await t.step("--format docker: a Docker manifest with Docker gzip layers", async () => {
        // the OCI build of the same context is cached: its steps must not be reused for a Docker image
        const d = await h.pod([
          "build",
          "-q",
          "--format",
          "docker",
          "-t",
          "layers-docker",
          ctx,
        ]);
        assert.equal(d.code, 0, d.stderr);
        const p = await h.pod(["push", "-q", "layers-docker", `${host}/built/docker:1`]);
        assert.equal(p.code, 0, p.stderr);
        const m = await fetchManifest("built/docker", "1");
        assert.equal(m.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
        assert.deepEqual(m.layers.map((l) => l.mediaType), [
          DOCKER_GZIP,
          DOCKER_GZIP,
          DOCKER_GZIP,
          DOCKER_GZIP,
        ]);
      });

      if (mode !== "root") return;
      if (!(await hasTool("podman")) || !(await hasTool("runc"))) {
        console.log("SKIPPED: podman or runc is not installed");
        await t.step({ name: "podman pulls and runs it: podman missing, skipped", ignore: true, fn() {} });
        return;
      }
      await t.step("podman pulls the pushed image and runs it", async () => {
        const pr = [
          "--root",
          `${h.root}/podman-root`,
          "--runroot",
          `${h.root}/podman-run`,
          "--storage-driver",
          "vfs",
        ];
        const run = (args: string[]) => new Deno.Command("podman", { args: [...pr, ...args] }).output();
        const cgroups = podmanCgroupParent();
        try {
          const pl = await run(["pull", "-q", "--tls-verify=false", `${host}/built/layers:gz`]);
          assert.ok(pl.success, new TextDecoder().decode(pl.stderr)); // podman checked every diff_id
          const r = await run([
            "--runtime",
            "runc",
            "--cgroup-manager",
            "cgroupfs",
            "run",
            "--rm",
            "--network",
            "none",
            ...cgroups.args,
            "--ulimit",
            "nofile=4096:4096",
            "--ulimit",
            "nproc=4096:4096",
            `${host}/built/layers:gz`,
          ]);
          const err = new TextDecoder().decode(r.stderr);
          if (!r.success && /rlimit|cgroup/.test(err)) {
            console.log(`SKIPPED: podman cannot run containers on this host: ${err.trim().split("\n")[0]}`);
          } else assert.equal(new TextDecoder().decode(r.stdout), "run\n7000\n/w\n", err);
        } finally {
          await run(["rmi", "-a", "-f"]);
          cgroups.remove();
          await new Deno.Command("rm", { args: ["-rf", `${h.root}/podman-root`, `${h.root}/podman-run`] })
            .output();
        }
      });
    }),
);
