/**
 * A new image tree cloned from its parent's (stage 2's `prepare.from`, lib/container/tree_parent.ts), root
 * and rootless: each RUN of a build gets its tree as a hard-link clone of the previous step's plus the new
 * layers (a file kept from an earlier layer is one inode in both trees); the RUN sees the parent's files and
 * the layers since (a file replaced, a file deleted), and the parent's tree is untouched by the clone's
 * changes: the parent image still has the replaced file's old content and the deleted files.
 * @module
 */

import assert from "node:assert/strict";
import { busyboxSuite, testRootAndRootless } from "../helpers/modes.ts";

await testRootAndRootless(
  "build: a RUN's tree is cloned from its parent's, which stays intact",
  (mode) =>
    busyboxSuite(mode, async ({ h, img }) => {
      const ctx = `${h.root}/ctx`;
      await Deno.mkdir(ctx);
      await Deno.writeTextFile(
        `${ctx}/Containerfile`,
        `FROM ${img.ref}\nRUN echo old > /x && echo gone > /del && mkdir /d && echo in > /d/f && echo k > /keep\n` +
          `RUN echo new > /x && rm /del && rm -r /d && echo z > /z\n` +
          `RUN cat /x /z > /seen && ls /del /d 2>/dev/null >> /seen; true\n`,
      );
      if (h.user) {
        await new Deno.Command("chown", { args: ["-R", `${h.user.uid}:${h.user.gid}`, ctx] }).output();
      }
      const b = await h.pod(["build", "-t", "seed", ctx]);
      assert.equal(b.code, 0, b.stderr);
      // /keep of the first RUN's layer: one inode in the trees of the second and third RUN (cloned)
      const links: number[] = [];
      const walk = async (dir: string, depth: number) => {
        for await (const e of Deno.readDir(dir)) {
          if (e.name === "trees" && e.isDirectory) {
            for await (const t of Deno.readDir(`${dir}/trees`)) {
              const st = await Deno.lstat(`${dir}/trees/${t.name}/keep`).catch(() => undefined);
              if (st) links.push(st.nlink ?? 0);
            }
          } else if (e.isDirectory && depth > 0) await walk(`${dir}/${e.name}`, depth - 1);
        }
      };
      await walk(h.home, 2);
      assert.deepEqual(links, [2, 2], `nlink of /keep in the trees: ${links}`);
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
