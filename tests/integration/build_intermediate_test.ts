/**
 * Intermediate build images as podman shows them: `images` hides the nameless steps of a build (images with a
 * child) unless `-a`; `--filter dangling=true` lists only nameless images without children; `image prune` keeps
 * the steps of a tagged build (its cache) and removes them once the result's name is gone. Root and rootless.
 * @module
 */

import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";

await testRootAndRootless(
  "build: images hides intermediate images without -a; prune keeps a tagged build's steps",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const ctx = `${h.root}/ctx`;
      await Deno.mkdir(ctx);
      await Deno.writeTextFile(
        `${ctx}/Containerfile`,
        `FROM ${img.ref}\nRUN echo a > /a\nENV X=1\nCMD ["sh"]\n`,
      );
      if (h.user) await Deno.chown(`${ctx}/Containerfile`, h.user.uid, h.user.gid);
      if (h.user) await Deno.chown(ctx, h.user.uid, h.user.gid);
      const b = await h.pod(["build", "-q", "-t", "app", ctx]);
      assert.equal(b.code, 0, b.stderr);
      const id = b.stdout.trim();
      const ids = async (...args: string[]) => {
        const r = await h.pod(["images", "--no-trunc", "--format", "{{.ID}}", ...args]);
        assert.equal(r.code, 0, r.stderr);
        return new Set(r.stdout.trim().split("\n").filter(Boolean).map((l) => l.replace(/^sha256:/, "")));
      };
      const shown = await ids();
      const all = await ids("-a");
      // RUN and ENV made two nameless steps; CMD is the tagged result
      assert.ok(shown.has(id), [...shown].join(" "));
      assert.equal(all.size, shown.size + 2, `-a: ${[...all].join(" ")}\nwithout: ${[...shown].join(" ")}`);
      assert.equal((await ids("--filter", "dangling=true")).size, 0);
      assert.equal((await ids("-a", "--filter", "intermediate=true")).size, 2);
      assert.equal((await ids("--filter", "intermediate=true")).size, 0);
      assert.deepEqual(await ids("-a", "--filter", "intermediate=false"), shown);
      assert.equal((await ids("-a", "--filter", "dangling=true")).size, 0);
      if (mode === "root") {
        // the library's images() hides them the same way, unless { all: true }
        const { Pod } = await import("../../mod.ts");
        const api = await Pod.open({ root: h.home });
        const listed = async (all?: boolean) => new Set((await api.images({ all })).map((i) => i.id));
        assert.deepEqual(await listed(), shown);
        assert.deepEqual(await listed(true), all);
      }

      // prune: the build's steps are not dangling while the result has its name
      const p1 = await h.pod(["image", "prune", "-f"]);
      assert.equal(p1.code, 0, p1.stderr);
      assert.equal(p1.stdout.trim(), "");
      const again = await h.pod(["build", "-t", "app", ctx]);
      assert.equal(again.stdout.match(/^--> Using cache/gm)?.length, 3, again.stdout);

      // the name gone: the result is dangling, its steps follow it on prune
      assert.equal((await h.pod(["untag", "app"])).code, 0);
      assert.deepEqual([...await ids("--filter", "dangling=true")], [id]);
      const p2 = await h.pod(["image", "prune", "-f"]);
      assert.equal(p2.code, 0, p2.stderr);
      assert.equal(p2.stdout.trim().split("\n").length, 3, p2.stdout);
      const base = await ids("-a", "--filter", `reference=${img.ref}`);
      assert.deepEqual(await ids("-a"), base, "the base alone is left");
    }),
);
