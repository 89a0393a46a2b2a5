/**
 * The library's documentation examples run: `deno test -A --doc mod.ts`, with `POD_DOC_IMAGE` naming a busybox
 * image on a loopback registry, so the module example really pulls, runs `echo hi` and removes the image.
 */

import assert from "node:assert/strict";
import { startRegistry } from "../helpers/registry.ts";
import { busybox } from "../helpers/fixtures.ts";
import { REPO_ROOT } from "../helpers/pod.ts";

Deno.test("mod.ts: every documentation example type-checks and runs (the module example against a registry)", async () => {
  const reg = await startRegistry();
  try {
    const img = await busybox(reg);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--doc", "mod.ts"],
      cwd: REPO_ROOT,
      env: { POD_DOC_IMAGE: img.ref, DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    const plain = text.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), "");
    const passed = Number(plain.match(/ok \| (\d+) passed/)?.[1] ?? 0);
    assert.ok(passed >= 10, `expected every example of mod.ts to run:\n${plain}`);
    // the module example pulled and ran the image: its output line
    assert.match(plain, /0 hi/, plain);
  } finally {
    await reg.stop();
  }
});
