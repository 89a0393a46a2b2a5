/**
 * `/run/.containerenv` with podman's content (engine, name, id, image, imageid, rootless) and podman's message
 * for an invalid `--name`, root and rootless.
 */
import assert from "node:assert/strict";
import { busyboxSuite, type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { VERSION } from "../../lib/version.ts";

function suite(mode: Mode) {
  return busyboxSuite(mode, async ({ h, img }, t) => {
    await t.step("/run/.containerenv", async () => {
      const r = await h.pod(["run", "--name", "envc", img.ref, "cat", "/run/.containerenv"]);
      assert.equal(r.code, 0, r.stderr);
      const id = (await h.pod(["inspect", "--format", "{{.Id}}", "envc"])).stdout.trim();
      const imageId = (await h.pod(["inspect", "--format", "{{.Image}}", "envc"])).stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.equal(
        r.stdout,
        `engine="pod-${VERSION}"\nname="envc"\nid="${id}"\nimage="${img.ref}"\nimageid="${imageId}"\n` +
          `rootless=${mode === "rootless" ? 1 : 0}\n`,
      );
    });
    await t.step("--name validation: podman's message, exit 125", async () => {
      for (const bad of ["-x", "a/b", "with space", "é"]) {
        const r = await h.pod(["create", "--name", bad, img.ref]);
        assert.equal(r.code, 125, bad);
        assert.equal(
          r.stderr.trim(),
          "Error: running container create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument",
        );
      }
    });
  });
}

await testRootAndRootless("containerenv", suite);
