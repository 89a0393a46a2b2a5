/**
 * `container prune`, `image prune`, `system prune`, `system df` as root, and the `[y/N]` prompt.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const enabled = Deno.uid() === 0 && await registryAvailable();

async function pod(home: string, args: string[], stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", CLI, ...args],
    env: { POD_HOME: home },
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
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test({
  name: "prune and df (root)",
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const reg = await startRegistry();
    const home = await Deno.makeTempDir({ prefix: "pod-prune-" });
    try {
      const img = await busybox(reg);
      const other = await busybox(reg, { repo: "test/other", tag: "v1" }); // the same image under a second name
      assert.equal((await pod(home, ["pull", "-q", img.ref, other.ref])).code, 0);
      assert.equal((await pod(home, ["run", "--name", "done", "-l", "keep=no", img.ref, "true"])).code, 0);
      assert.equal(
        (await pod(home, ["create", "--name", "fresh", "-l", "keep=yes", img.ref, "true"])).code,
        0,
      );
      assert.equal((await pod(home, ["run", "-d", "--name", "live", img.ref, "sleep", "1000"])).code, 0);
      assert.equal(
        (await pod(home, ["create", "--name", "vol", "-v", "named:/data", img.ref, "true"])).code,
        0,
      );

      await t.step("system df", async () => {
        const df = await pod(home, ["system", "df"]);
        assert.equal(df.code, 0, df.stderr);
        assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\n/);
        assert.match(df.stdout, /\nImages\s+1\s+1\s+\S+\s+\S+ \(\d+%\)\n/);
        assert.match(df.stdout, /\nContainers\s+4\s+1\s/);
        assert.match(df.stdout, /\nLocal Volumes\s+1\s+1\s/);
        const f = await pod(home, ["system", "df", "--format", "{{.Type}}:{{.Total}}"]);
        assert.equal(f.stdout, "Images:1\nContainers:4\nLocal Volumes:1\n");
        const v = await pod(home, ["system", "df", "-v"]);
        assert.match(v.stdout, /Images space usage:/);
        assert.match(v.stdout, /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\nnamed\s+1\s/);
      });

      await t.step("prompt: no answer / n → nothing removed", async () => {
        const n = await pod(home, ["container", "prune"]);
        assert.equal(n.code, 0);
        assert.match(n.stderr, /Are you sure you want to continue\? \[y\/N\]/);
        assert.equal(n.stdout, "");
        assert.equal((await pod(home, ["container", "prune"], "n\n")).stdout, "");
        assert.equal((await pod(home, ["ps", "-aq"])).stdout.trim().split("\n").length, 4);
      });

      await t.step("container prune --filter, then y", async () => {
        const f = await pod(home, ["container", "prune", "-f", "--filter", "label=keep=no"]);
        assert.equal(f.code, 0, f.stderr);
        assert.equal(f.stdout.trim().split("\n").length, 1);
        const y = await pod(home, ["container", "prune"], "y\n");
        assert.equal(y.code, 0, y.stderr);
        assert.equal(y.stdout.trim().split("\n").length, 2); // fresh, vol
        const ps = await pod(home, ["ps", "-a", "--format", "{{.Names}}"]);
        assert.equal(ps.stdout, "live\n");
      });

      await t.step("image prune: nothing dangling; -a keeps an image a container uses", async () => {
        const d = await pod(home, ["image", "prune", "-f"]);
        assert.equal(d.code, 0, d.stderr);
        assert.equal(d.stdout, "");
        const a = await pod(home, ["image", "prune", "-a", "-f"]);
        assert.equal(a.code, 0, a.stderr);
        assert.equal(a.stdout, "");
        const imgs = await pod(home, ["images", "--format", "{{.Repository}}"]);
        assert.match(imgs.stdout, /test\/busybox/);
        assert.match(imgs.stdout, /test\/other/);
      });

      await t.step("system prune -a --volumes", async () => {
        assert.equal((await pod(home, ["rm", "-f", "-t", "0", "live"])).code, 0);
        const s = await pod(home, ["system", "prune", "-a", "-f", "--volumes"]);
        assert.equal(s.code, 0, s.stderr);
        assert.match(s.stdout, /Deleted Volumes\nnamed\n/);
        assert.match(s.stdout, /Deleted Images\n[0-9a-f]{64}\n/);
        assert.match(s.stdout, /Total reclaimed space: /);
        assert.equal((await pod(home, ["images", "-q"])).stdout, "");
        const blobs = [...Deno.readDirSync(`${home}/blobs/sha256`)];
        assert.deepEqual(blobs, []);
      });
    } finally {
      await reg.stop();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
