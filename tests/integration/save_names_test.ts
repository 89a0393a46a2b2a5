/**
 * `save` records the name a short argument resolved to, as podman: an image built here as `-t one` is
 * `localhost/one:latest`, and `save one` writes that name (not `docker.io/library/one:latest`) into the
 * docker-archive's RepoTags and the oci-archive's `ref.name`, so loading the archive gives the same name back.
 * `tag` of a name without a registry names a local image (`localhost/…`), as podman. Loading two archives of
 * one image (an OCI archive with its gzip layers, a docker-archive with uncompressed ones) under two names gives
 * one image with both names, which runs by either name.
 * Built from a scratch Containerfile with the host's busybox (no registry), as root.
 * @module
 */
import assert from "node:assert/strict";
import { tempPodHome } from "../helpers/pod.ts";

const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!busybox) console.log("save_names_test: busybox missing (apt-get install busybox-static): skipped");

/** One member of an uncompressed tar, as text. */
async function member(tar: string, name: string): Promise<string> {
  const o = await new Deno.Command("tar", { args: ["-xOf", tar, name], stdout: "piped", stderr: "piped" })
    .output();
  assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  return new TextDecoder().decode(o.stdout);
}

Deno.test({
  name: "save records the resolved name of a short argument (root)",
  ignore: Deno.uid() !== 0 || !busybox,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const h = await tempPodHome();
    try {
      const ctx = `${h.root}/ctx`;
      await Deno.mkdir(ctx);
      await Deno.copyFile(busybox!, `${ctx}/busybox`);
      await Deno.writeTextFile(
        `${ctx}/Containerfile`,
        'FROM scratch\nCOPY busybox /bin/sh\nCMD ["/bin/sh", "-c", "echo hi"]\n',
      );
      const b = await h.pod(["build", "-q", "-t", "one", ctx]);
      assert.equal(b.code, 0, b.stderr);
      for (const arg of ["one", "one:latest", "localhost/one"]) {
        const s = await h.pod(["save", "-o", `${h.root}/a.tar`, arg]);
        assert.equal(s.code, 0, s.stderr);
        assert.deepEqual(JSON.parse(await member(`${h.root}/a.tar`, "manifest.json"))[0].RepoTags, [
          "localhost/one:latest",
        ], arg);
        await Deno.remove(`${h.root}/a.tar`);
      }
      const o = await h.pod(["save", "--format", "oci-archive", "-o", `${h.root}/o.tar`, "one"]);
      assert.equal(o.code, 0, o.stderr);
      const index = JSON.parse(await member(`${h.root}/o.tar`, "index.json"));
      assert.equal(
        index.manifests[0].annotations["org.opencontainers.image.ref.name"],
        "localhost/one:latest",
      );
      // the archive loads back under the same name, and runs by its short name
      const s = await h.pod(["save", "-o", `${h.root}/a.tar`, "one"]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal((await h.pod(["rmi", "one"])).code, 0);
      const l = await h.pod(["load", "-i", `${h.root}/a.tar`]);
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, /Loaded image: localhost\/one:latest/);
      const r = await h.pod(["run", "--rm", "one"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hi\n");

      // a commit's layer is gzip; its docker-archive is not: both archives loaded are one image
      const c = await h.pod(["run", "--name", "c1", "one", "/bin/sh", "-c", "echo x > /f"]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal((await h.pod(["commit", "-q", "c1", "gz"])).code, 0);
      assert.equal((await h.pod(["rm", "c1"])).code, 0);
      assert.equal((await h.pod(["tag", "gz", "gz2"])).code, 0);
      assert.match(
        (await h.pod(["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout,
        /^localhost\/gz2:latest$/m,
      );
      const g1 = await h.pod(["save", "--format", "oci-archive", "-o", `${h.root}/g1.tar`, "gz"]);
      assert.equal(g1.code, 0, g1.stderr);
      const g2 = await h.pod(["save", "-o", `${h.root}/g2.tar`, "gz2"]);
      assert.equal(g2.code, 0, g2.stderr);
      assert.equal((await h.pod(["rmi", "-f", "gz", "gz2"])).code, 0);
      for (const f of ["g1", "g2"]) {
        const l = await h.pod(["load", "-i", `${h.root}/${f}.tar`]);
        assert.equal(l.code, 0, l.stderr);
      }
      const ids =
        (await h.pod(["images", "--format", "{{.ID}} {{.Repository}}", "--filter", "reference=gz*"])).stdout;
      assert.equal(new Set(ids.trim().split("\n").map((l) => l.split(" ")[0])).size, 1, ids);
      for (const name of ["gz", "gz2"]) {
        const x = await h.pod(["run", "--rm", name, "/bin/sh", "-c", "read l < /f; echo $l"]);
        assert.equal(x.code, 0, `${name}: ${x.stderr}`);
        assert.equal(x.stdout, "x\n");
      }
    } finally {
      await h.cleanup();
    }
  },
});
