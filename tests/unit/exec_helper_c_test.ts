/**
 * lib/ns/exec_helper_c.ts's build cache: built once into the directory (a program that exits 125 without
 * arguments), found again without building, undefined with `POD_EXEC_HELPER=perl` or after a failed build's
 * marker. Skipped (named) without a C compiler.
 */
import assert from "node:assert/strict";
import { execHelperBinary } from "../../lib/ns/exec_helper_c.ts";
import { hostBinary } from "../../lib/ns/helpers_check.ts";

const cc = hostBinary("cc") ?? hostBinary("gcc");
if (!cc) console.log("exec_helper_c_test: skipped, no C compiler (cc) on this host");

Deno.test({
  name: "exec helper in C: built once, found again, perl when asked or after a failed build",
  ignore: !cc,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "pod-exec-helper-" });
    try {
      const built = await execHelperBinary(`${dir}/helpers`) ?? "";
      assert.ok(built.startsWith(`${dir}/helpers/exec-helper-`), built);
      const mtime = (await Deno.stat(built)).mtime;
      const run = await new Deno.Command(built, { stdout: "null", stderr: "piped" }).output();
      assert.equal(run.code, 125);
      assert.match(new TextDecoder().decode(run.stderr), /^Error: exec helper: bad arguments\n$/);
      assert.equal(await execHelperBinary(`${dir}/helpers`), built);
      assert.deepEqual((await Deno.stat(built)).mtime, mtime, "built again");
      assert.deepEqual([...Deno.readDirSync(`${dir}/helpers`)].map((e) => e.name), [built.split("/").pop()]);
      Deno.env.set("POD_EXEC_HELPER", "perl");
      try {
        assert.equal(await execHelperBinary(`${dir}/helpers`), undefined);
      } finally {
        Deno.env.delete("POD_EXEC_HELPER");
      }
      await Deno.remove(built);
      await Deno.writeTextFile(`${built}.failed`, "");
      assert.equal(await execHelperBinary(`${dir}/helpers`), undefined, "a failed build is tried again");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
