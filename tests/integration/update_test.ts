/**
 * `pod update` as root: env, labels, hostname, entrypoint, volumes, namespaces; refused while running.
 */
import assert from "node:assert/strict";
import { registryAvailable, startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { tempPodHome } from "../helpers/pod.ts";

const enabled = Deno.uid() === 0 && await registryAvailable();

Deno.test({
  name: "update (root)",
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const reg = await startRegistry();
    const h = await tempPodHome();
    try {
      const img = await busybox(reg);
      assert.equal((await h.pod(["pull", "-q", img.ref])).code, 0);
      const c = await h.pod([
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
      const vol = `${h.root}/vol`;
      await Deno.mkdir(vol);
      await Deno.writeTextFile(`${vol}/f`, "from host\n");
      const u = await h.pod([
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
      const labels = await h.pod(["inspect", "--format", "{{json .Config.Labels}}", "u"]);
      assert.match(labels.stdout, /"new":"2"/);
      assert.doesNotMatch(labels.stdout, /"old"/);
      assert.equal((await h.pod(["start", "u"])).code, 0);
      const e = await h.pod(["exec", "u", "sh", "-c", 'echo "$A|$B"; hostname; cat /mnt/v/f']);
      assert.equal(e.code, 0, e.stderr);
      assert.equal(e.stdout, "|2\nnewhost\nfrom host\n");

      const busy = await h.pod(["update", "-e", "C=3", "u"]);
      assert.equal(busy.code, 125);
      assert.match(busy.stderr, /^Error: container [0-9a-f]{64} is running: .*container state improper\n$/);

      assert.equal((await h.pod(["stop", "-t", "0", "u"])).code, 0);
      const ep = await h.pod(["update", "--entrypoint", '["/bin/echo","EP"]', "--pid", "host", "u"]);
      assert.equal(ep.code, 0, ep.stderr);
      const r = await h.pod(["start", "-a", "u"]);
      assert.equal(r.stdout, "EP sh -c sleep 1000\n");
      const bad = await h.pod(["update", "--pid", "bogus", "u"]);
      assert.equal(bad.code, 125);
      assert.equal((await h.pod(["update", "-e", "X=1", "nosuch"])).code, 125);
    } finally {
      await reg.stop();
      await h.cleanup();
    }
  },
});
