/**
 * `pod update` as root: env, labels, hostname, entrypoint, volumes, namespaces; refused while running.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const enabled = Deno.uid() === 0 && await registryAvailable();

async function pod(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", CLI, ...args],
    env: { POD_HOME: home },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test({
  name: "update (root)",
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const reg = await startRegistry();
    const home = await Deno.makeTempDir({ prefix: "pod-update-" });
    try {
      const img = await busybox(reg);
      assert.equal((await pod(home, ["pull", "-q", img.ref])).code, 0);
      const c = await pod(home, [
        "create",
        "--name",
        "u",
        "-e",
        "A=1",
        "-l",
        "old=1",
        img.ref,
        "sh",
        "-c",
        "sleep 1000",
      ]);
      assert.equal(c.code, 0, c.stderr);
      const vol = `${home}/vol`;
      await Deno.mkdir(vol);
      await Deno.writeTextFile(`${vol}/f`, "from host\n");
      const u = await pod(home, [
        "update",
        "-e",
        "B=2",
        "--unset-env",
        "A",
        "-l",
        "new=2",
        "--unset-label",
        "old",
        "--hostname",
        "newhost",
        "-v",
        `${vol}:/mnt/v:ro`,
        "--memory",
        "1g",
        "--cpus",
        "2",
        "u",
      ]);
      assert.equal(u.code, 0, u.stderr);
      assert.match(u.stdout, /^[0-9a-f]{64}\n$/);
      const labels = await pod(home, ["inspect", "--format", "{{json .Config.Labels}}", "u"]);
      assert.match(labels.stdout, /"new":"2"/);
      assert.doesNotMatch(labels.stdout, /"old"/);
      assert.equal((await pod(home, ["start", "u"])).code, 0);
      const e = await pod(home, ["exec", "u", "sh", "-c", 'echo "$A|$B"; hostname; cat /mnt/v/f']);
      assert.equal(e.code, 0, e.stderr);
      assert.equal(e.stdout, "|2\nnewhost\nfrom host\n");

      const busy = await pod(home, ["update", "-e", "C=3", "u"]);
      assert.equal(busy.code, 125);
      assert.match(busy.stderr, /^Error: container [0-9a-f]{64} is running: .*container state improper\n$/);

      assert.equal((await pod(home, ["stop", "-t", "0", "u"])).code, 0);
      const ep = await pod(home, ["update", "--entrypoint", '["/bin/echo","EP"]', "--pid", "host", "u"]);
      assert.equal(ep.code, 0, ep.stderr);
      const r = await pod(home, ["start", "-a", "u"]);
      assert.equal(r.stdout, "EP sh -c sleep 1000\n");
      const bad = await pod(home, ["update", "--pid", "bogus", "u"]);
      assert.equal(bad.code, 125);
      assert.equal((await pod(home, ["update", "-e", "X=1", "nosuch"])).code, 125);
    } finally {
      await reg.stop();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
