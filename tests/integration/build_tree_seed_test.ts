/**
 * A RUN's image tree cloned from its parent's (lib/build/tree_seed.ts, root): the RUN sees the parent's files
 * and the layers since (a file replaced, a file deleted), and the parent's tree is untouched by the clone's
 * changes (its files are shared by hard links): the parent image still has the replaced file's old content
 * and the deleted file. Rootless the start builds the tree as before; the same checks hold.
 * @module
 */

import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";

await testRootAndRootless(
  "build: a RUN's tree cloned from its parent's leaves the parent's intact",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const ctx = `${h.root}/ctx`;
      await Deno.mkdir(ctx);
      await Deno.writeTextFile(
        `${ctx}/Containerfile`,
        `FROM ${img.ref}\nRUN echo old > /x && echo gone > /del && mkdir /d && echo in > /d/f\n` +
          `RUN echo new > /x && rm /del && rm -r /d && echo z > /z\n` +
          `RUN cat /x /z > /seen && ls /del /d 2>/dev/null >> /seen; true\n`,
      );
      if (h.user) {
        await new Deno.Command("chown", { args: ["-R", `${h.user.uid}:${h.user.gid}`, ctx] }).output();
      }
      const b = await h.pod(["build", "-t", "seed", ctx], { env: { POD_DEBUG: "1" } });
      assert.equal(b.code, 0, b.stderr);
      if (mode === "root") {
        assert.equal(b.stderr.match(/tree of \d+ layers cloned from/g)?.length, 2, b.stderr);
      }
      const seen = await h.pod(["run", "--rm", "seed", "cat", "/seen"]);
      assert.equal(seen.stdout, "new\nz\n", seen.stderr);
      // the image after the first RUN: the step whose id the build printed first
      const first = /^--> ([a-f0-9]{11})$/m.exec(b.stdout)?.[1];
      assert.ok(first, b.stdout);
      const parent = await h.pod(["run", "--rm", first, "sh", "-c", "cat /x /del /d/f"]);
      assert.equal(parent.code, 0, parent.stderr);
      assert.equal(parent.stdout, "old\ngone\nin\n");
    }),
);
