/**
 * `container prune`, `image prune`, `system prune`, `system df` as root, and the `[y/N]` prompt.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { tempPodHome } from "../helpers/pod.ts";

const enabled = Deno.uid() === 0 && await registryAvailable();

Deno.test({
  name: "prune and df (root)",
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const reg = await startRegistry();
    const h = await tempPodHome();
    try {
      const img = await busybox(reg);
      const other = await busybox(reg, { repo: "test/other", tag: "v1" }); // the same image under a second name
      assert.equal((await h.pod(["pull", "-q", img.ref, other.ref])).code, 0);
      assert.equal((await h.pod(["run", "--name", "done", "-l", "keep=no", img.ref, "true"])).code, 0);
      assert.equal(
        (await h.pod(["create", "--name", "fresh", "-l", "keep=yes", img.ref, "true"])).code,
        0,
      );
      assert.equal((await h.pod(["run", "-d", "--name", "live", img.ref, "sleep", "1000"])).code, 0);
      assert.equal(
        (await h.pod(["create", "--name", "vol", "-v", "named:/data", img.ref, "true"])).code,
        0,
      );

      await t.step("system df", async () => {
        const df = await h.pod(["system", "df"]);
        assert.equal(df.code, 0, df.stderr);
        assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\n/);
        assert.match(df.stdout, /\nImages\s+1\s+1\s+\S+\s+\S+ \(\d+%\)\n/);
        assert.match(df.stdout, /\nContainers\s+4\s+1\s/);
        assert.match(df.stdout, /\nLocal Volumes\s+1\s+1\s/);
        const f = await h.pod(["system", "df", "--format", "{{.Type}}:{{.Total}}"]);
        assert.equal(f.stdout, "Images:1\nContainers:4\nLocal Volumes:1\n");
        const v = await h.pod(["system", "df", "-v"]);
        assert.match(v.stdout, /Images space usage:/);
        assert.match(v.stdout, /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\nnamed\s+1\s/);
      });

      await t.step("prompt: no answer / n → nothing removed", async () => {
        const n = await h.pod(["container", "prune"]);
        assert.equal(n.code, 0);
        assert.match(n.stderr, /Are you sure you want to continue\? \[y\/N\]/);
        assert.equal(n.stdout, "");
        assert.equal((await h.pod(["container", "prune"], { stdin: "n\n" })).stdout, "");
        assert.equal((await h.pod(["ps", "-aq"])).stdout.trim().split("\n").length, 4);
      });

      await t.step("container prune --filter, then y", async () => {
        const f = await h.pod(["container", "prune", "-f", "--filter", "label=keep=no"]);
        assert.equal(f.code, 0, f.stderr);
        assert.equal(f.stdout.trim().split("\n").length, 1);
        const y = await h.pod(["container", "prune"], { stdin: "y\n" });
        assert.equal(y.code, 0, y.stderr);
        assert.equal(y.stdout.trim().split("\n").length, 2); // fresh, vol
        const ps = await h.pod(["ps", "-a", "--format", "{{.Names}}"]);
        assert.equal(ps.stdout, "live\n");
      });

      await t.step("image prune: nothing dangling; -a keeps an image a container uses", async () => {
        const d = await h.pod(["image", "prune", "-f"]);
        assert.equal(d.code, 0, d.stderr);
        assert.equal(d.stdout, "");
        const a = await h.pod(["image", "prune", "-a", "-f"]);
        assert.equal(a.code, 0, a.stderr);
        assert.equal(a.stdout, "");
        const imgs = await h.pod(["images", "--format", "{{.Repository}}"]);
        assert.match(imgs.stdout, /test\/busybox/);
        assert.match(imgs.stdout, /test\/other/);
      });

      await t.step("system prune -a --volumes", async () => {
        assert.equal((await h.pod(["rm", "-f", "-t", "0", "live"])).code, 0);
        const s = await h.pod(["system", "prune", "-a", "-f", "--volumes"]);
        assert.equal(s.code, 0, s.stderr);
        assert.match(s.stdout, /Deleted Volumes\nnamed\n/);
        assert.match(s.stdout, /Deleted Images\n[0-9a-f]{64}\n/);
        assert.match(s.stdout, /Total reclaimed space: /);
        assert.equal((await h.pod(["images", "-q"])).stdout, "");
        const blobs = [...Deno.readDirSync(`${h.home}/blobs/sha256`)];
        assert.deepEqual(blobs, []);
      });
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});
