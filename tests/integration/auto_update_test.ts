/**
 * `pod auto-update`, root and rootless: a container labelled `io.containers.autoupdate=registry` sees no
 * update, then (a new image pushed under the same tag) a pending one with `--dry-run` (nothing changed), then
 * is recreated from its create command on the new image, same name, running again; `local` follows the local
 * name; an unlabelled container is left alone; a bad policy is one clear error.
 */
import assert from "node:assert/strict";
import { type Mode, testRootAndRootless } from "../helpers/modes.ts";
import { BUSYBOX_CONFIG, busyboxTar, customImage } from "../helpers/fixtures.ts";
import { startRegistry } from "../helpers/registry.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { TEST_USER } from "../helpers/rootless.ts";

function suite(mode: Mode) {
  return async (t: Deno.TestContext) => {
    const reg = await startRegistry();
    const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
    try {
      const version = async (v: string) =>
        await customImage(reg, {
          repo: "test/au",
          tag: "latest",
          layers: [await busyboxTar(), { entries: [{ name: "version", content: `${v}\n` }] }],
          config: BUSYBOX_CONFIG,
        });
      const v1 = await version("1");
      const ok = async (args: string[]) => {
        const r = await h.pod(args);
        assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      };
      const fmt = ["--format", "{{.ContainerName}} {{.Policy}} {{.Updated}}"];
      await ok(["pull", "-q", v1.ref]);
      await ok([
        "run",
        "-d",
        "--name",
        "au",
        "--label",
        "io.containers.autoupdate=registry",
        v1.ref,
        "sleep",
        "600",
      ]);
      await ok(["create", "--name", "plain", v1.ref, "true"]);
      const id1 = (await ok(["inspect", "--format", "{{.Id}}", "au"])).trim();

      await t.step("nothing new: false", async () => {
        assert.equal(await ok(["auto-update", "--dry-run", ...fmt]), "au registry false\n");
        assert.equal(await ok(["auto-update", ...fmt]), "au registry false\n");
      });

      await t.step("a new image under the tag: pending, then recreated on it and running", async () => {
        await version("2");
        assert.equal(await ok(["auto-update", "--dry-run", ...fmt]), "au registry pending\n");
        assert.equal((await ok(["inspect", "--format", "{{.Id}}", "au"])).trim(), id1); // dry run: untouched
        const table = await ok(["auto-update"]);
        assert.match(table, /^UNIT\s+CONTAINER\s+IMAGE\s+POLICY\s+UPDATED\n/);
        assert.match(table, /\(au\)\s+\S+test\/au:latest\s+registry\s+true\n$/);
        assert.notEqual((await ok(["inspect", "--format", "{{.Id}}", "au"])).trim(), id1);
        assert.equal((await ok(["inspect", "--format", "{{.State.Status}}", "au"])).trim(), "running");
        assert.equal(await ok(["exec", "au", "cat", "/version"]), "2\n");
        const labels = await ok([
          "inspect",
          "--format",
          '{{index .Config.Labels "io.containers.autoupdate"}}',
          "au",
        ]);
        assert.equal(labels.trim(), "registry");
        assert.equal(await ok(["auto-update", ...fmt]), "au registry false\n");
      });

      await t.step("local policy follows the local name; bad policy refused", async () => {
        await ok(["tag", v1.ref, "localhost/loc:1"]);
        await ok([
          "create",
          "--name",
          "loc",
          "--label",
          "io.containers.autoupdate=local",
          "localhost/loc:1",
          "true",
        ]);
        const lines = async (args: string[]) => (await ok(args)).trim().split("\n").sort();
        assert.deepEqual(await lines(["auto-update", "--dry-run", ...fmt]), [
          "au registry false",
          "loc local false",
        ]);
        // another image under the local name
        await ok(["start", "-a", "plain"]); // (committing a never-started container fails: see the report)
        await ok(["commit", "-q", "plain", "localhost/loc:1"]);
        const newId = (await ok(["image", "inspect", "--format", "{{.Id}}", "localhost/loc:1"])).trim();
        assert.deepEqual(await lines(["auto-update", "--dry-run", ...fmt]), [
          "au registry false",
          "loc local pending",
        ]);
        assert.deepEqual(await lines(["auto-update", ...fmt]), ["au registry false", "loc local true"]);
        assert.equal((await ok(["inspect", "--format", "{{.Image}}", "loc"])).trim(), newId);
        assert.equal((await ok(["inspect", "--format", "{{.State.Status}}", "loc"])).trim(), "created");
        await ok([
          "create",
          "--name",
          "bad",
          "--label",
          "io.containers.autoupdate=sometimes",
          v1.ref,
          "true",
        ]);
        const bad = await h.pod(["auto-update"]);
        assert.equal(bad.code, 125);
        assert.match(bad.stderr, /^Error: container bad: auto-update policy "sometimes" is not valid/);
      });
    } finally {
      await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
      await h.cleanup();
      await reg.stop();
    }
  };
}

await testRootAndRootless("auto-update", suite);
