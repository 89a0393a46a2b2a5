/**
 * `pod unshare`: rootless, the command runs as root of a user namespace with the store's maps (0 → the user,
 * 1… → its subordinate range), so files owned by subordinate ids can be made and removed; the command's exit
 * code comes back. As root it is refused like podman's; `--rootless-netns` is refused clearly.
 */
import assert from "node:assert/strict";
import { type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { TEST_USER } from "../helpers/rootless.ts";

function suite(mode: Mode) {
  return async (t: Deno.TestContext) => {
    const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
    try {
      const netns = await h.pod(["unshare", "--rootless-netns", "true"]);
      assert.equal(netns.code, 125);
      assert.match(netns.stderr, /^Error: --rootless-netns is not supported: .*\n$/);
      if (mode === "root") {
        await t.step("as root: refused", async () => {
          const r = await h.pod(["unshare", "true"]);
          assert.equal(r.code, 125);
          assert.equal(r.stderr, "Error: please use unshare with rootless\n");
        });
        return;
      }
      await t.step("root of a namespace with the store's maps; exit code passed through", async () => {
        const r = await h.pod(["unshare", "sh", "-c", "id -u; cat /proc/self/uid_map; exit 7"]);
        assert.equal(r.code, 7, r.stderr);
        const [uid, ...maps] = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
        assert.equal(uid, "0");
        assert.equal(maps[0], `0 ${h.user!.uid} 1`);
        assert.match(maps[1] ?? "", /^1 \d+ \d+$/);
        assert.equal((await h.pod(["unshare", "printenv", "CONTAINERS_GRAPHROOT"])).stdout, `${h.home}\n`);
      });
      await t.step("files of subordinate ids: made and removed inside", async () => {
        const dir = `${h.root}/sub`;
        const mk = await h.pod([
          "unshare",
          "sh",
          "-c",
          `mkdir ${dir} && touch ${dir}/f && chown -R 1:1 ${dir}`,
        ]);
        assert.equal(mk.code, 0, mk.stderr);
        const st = await Deno.stat(`${dir}/f`);
        assert.notEqual(st.uid, h.user!.uid); // a subordinate id on the host
        const rm = await h.pod(["unshare", "rm", "-rf", dir]);
        assert.equal(rm.code, 0, rm.stderr);
        await assert.rejects(Deno.stat(dir));
      });
      await t.step("a missing command: 127", async () => {
        const r = await h.pod(["unshare", "no-such-command-here"]);
        assert.equal(r.code, 127);
      });
    } finally {
      await h.cleanup();
    }
  };
}

await testRootAndRootless("unshare", suite);
