/**
 * The library API (`mod.ts`'s `Pod`) through its whole sequence, as root in this process and rootless as a
 * script run by the rootless test user: see api_scenario.ts. The library prints nothing, so the rootless
 * script's stderr must stay empty.
 */
import assert from "node:assert/strict";
import { busybox } from "../helpers/fixtures.ts";
import { testRootAndRootless } from "../helpers/modes.ts";
import { tempPodHome } from "../helpers/pod.ts";
import { runLibraryScenario } from "../helpers/library_scenario.ts";
import { startRegistry } from "../helpers/registry.ts";
import { TEST_USER } from "../helpers/rootless.ts";
import { apiScenario } from "./api_scenario.ts";

const SCRIPT = new URL("./api_scenario.ts", import.meta.url);

await testRootAndRootless("library API", (mode) => async () => {
  const reg = await startRegistry();
  const h = await tempPodHome(mode === "rootless" ? { user: TEST_USER } : {});
  try {
    const img = await busybox(reg);
    const passed = await runLibraryScenario(
      mode,
      h,
      SCRIPT,
      [h.home, img.ref],
      () => apiScenario(h.home, img.ref),
    );
    assert.equal(passed.length, 8, passed.join(", "));
  } finally {
    await h.pod(["rm", "-f", "-t", "0", "-a"]).catch(() => {});
    await h.cleanup();
    await reg.stop();
  }
});
